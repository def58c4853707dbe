"""Loopback ports for the servers the project starts: free ones, and the dev stack's defaults."""

from __future__ import annotations

import random
import socket
from pathlib import Path

#: ``jitflow dev``'s Slack Web API emulator (``jitflow emulator slack``'s default too).
SLACK_EMULATOR_PORT = 8785
#: ``jitflow dev``'s Slack front door (``jitflow slack serve``'s default too).
SLACK_FRONT_DOOR_PORT = 8786

#: Where free ports are looked for when the kernel's ephemeral range cannot be read.
_LOWEST = 20000
_EPHEMERAL_DEFAULT_START = 32768
_handed_out: set[int] = set()


def _ephemeral_start() -> int:
    """Where the kernel starts picking ports for outgoing connections."""
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return _EPHEMERAL_DEFAULT_START


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free now and that no outgoing connection will take before it is bound.

    A port from the kernel's ephemeral range (what binding port 0 gives) can be taken by any
    client socket in the moment between this check and the server's bind: a test run once lost
    its Slack emulator's port to a connection to Temporal that way. Ports below that range are
    only ever taken by a bind, so they are picked at random there and never handed out twice by
    one process.
    """
    top = _ephemeral_start()
    low = min(_LOWEST, max(1024, top - 4096))
    for _ in range(200 if top - low >= 1000 else 0):  # else the kernel's choice (port 0)
        port = random.randrange(low, top)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        fallback: int = sock.getsockname()[1]
        return fallback
