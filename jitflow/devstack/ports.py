"""Loopback ports for the servers the project starts: free ones, and the dev stack's defaults."""

from __future__ import annotations

import socket

#: ``jitflow dev``'s Slack Web API emulator (``jitflow emulator slack``'s default too).
SLACK_EMULATOR_PORT = 8785
#: ``jitflow dev``'s Slack front door (``jitflow slack serve``'s default too).
SLACK_FRONT_DOOR_PORT = 8786


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago; the caller binds it at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
