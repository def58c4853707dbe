"""The dev stack's two Slack services: the Slack API emulator and the front door.

``jitflow emulator slack`` stands in for Slack (the worker posts to it, the demo reads what it
recorded and plays clicks from it); ``jitflow slack serve`` is the front door the emulator's
clicks are POSTed to, run exactly as in production, with the worker's environment. The front
door starts before the worker: it creates its signing key in Secrets Manager on its first
start, and the worker reads the key's public half when it starts.
"""

from __future__ import annotations

import sys

from jitflow.devstack.slack_workspace import write_workspace
from jitflow.devstack.stack import StackSettings, http_ready
from jitflow.devstack.supervisor import Service
from jitflow.slack.commands import COMMANDS_PATH
from jitflow.slack.front_door import INTERACTIONS_PATH


def slack_emulator_service(settings: StackSettings) -> Service:
    """The Slack Web API emulator, loaded with the example workspace, sending clicks and
    ``/jitflow`` to the front door."""
    state = write_workspace(settings.state_dir / "slack-state.json")
    return Service(
        name="slack-emulator",
        argv=[
            sys.executable,
            "-m",
            "jitflow",
            "emulator",
            "slack",
            "--host",
            settings.host,
            "--port",
            str(settings.slack_port),
            "--state",
            str(state),
            "--front-door",
            f"{settings.front_door_url}{INTERACTIONS_PATH}",
            "--commands-url",
            f"{settings.front_door_url}{COMMANDS_PATH}",
            "--log-level",
            "warning",
        ],
        ready=lambda: http_ready(f"{settings.slack_url}/_emulator/state"),
        ports=(settings.slack_port,),
    )


def front_door_service(settings: StackSettings) -> Service:
    """``jitflow slack serve`` on the stack's configuration (with its Slack integration)."""
    return Service(
        name="slack-front-door",
        argv=[
            sys.executable,
            "-m",
            "jitflow",
            "slack",
            "serve",
            "--host",
            settings.host,
            "--port",
            str(settings.front_door_port),
        ],
        env=settings.worker_env(),
        ready=lambda: http_ready(f"{settings.front_door_url}/healthz"),
        ports=(settings.front_door_port,),
    )
