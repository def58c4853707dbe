"""Bring the local stack up, keep it up, and take it down cleanly."""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType

from jitflow.devstack.keys import ensure_example_keys
from jitflow.devstack.slack_config import prepare_config, store_slack_secret
from jitflow.devstack.slack_services import front_door_service, slack_emulator_service
from jitflow.devstack.stack import (
    StackSettings,
    aptible_emulator_service,
    create_example_secret,
    secrets_client,
    secrets_manager_service,
    temporal_service,
    worker_service,
)
from jitflow.devstack.supervisor import Supervisor, single_instance
from jitflow.emulator.slack_state import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET
from jitflow.trust.front_door_key import load_front_door_keyring


def _store_slack_secrets(settings: StackSettings) -> None:
    """The Slack app's credentials (the emulator's own: it accepts this token and signs clicks
    with this secret), and the front door's signing key, made now rather than by the front
    door's first start so that the worker, started beside it, trusts it from its start."""
    client = secrets_client(settings)
    store_slack_secret(client, DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET)
    load_front_door_keyring(client)


class _Stop(Exception):
    """Raised from the SIGTERM handler so that SIGTERM unwinds like Ctrl-C."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def run_stack(
    settings: StackSettings,
    *,
    after_start: Callable[[StackSettings], None] | None = None,
    keep_running: bool = True,
    echo: Callable[[str], None] = print,
) -> int:
    """Start every service, call ``after_start``, then wait for Ctrl-C/SIGTERM (or return at once).

    Returns a process exit code. Whatever happens, every child process is stopped on the way out.
    """
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        with single_instance(settings.state_dir / "dev.lock"):
            supervisor = Supervisor(settings.state_dir / "logs", progress=echo)
            try:
                echo("Starting the jitflow local stack:")
                prepare_config(settings.config_dir, settings.run_config_dir)
                echo(
                    f"  configuration: {settings.run_config_dir}/ "
                    f"({settings.config_dir} with a Slack integration added)"
                )
                # None of these needs another: they start side by side.
                supervisor.start_together(
                    [
                        temporal_service(settings),
                        aptible_emulator_service(settings),
                        secrets_manager_service(settings),
                        slack_emulator_service(settings),
                    ]
                )
                create_example_secret(settings)
                echo(f"  stored the example bot secret in Secrets Manager at {settings.aws_url}")
                _store_slack_secrets(settings)
                echo("  stored the Slack app's secret and the front door's key in Secrets Manager")
                ensure_example_keys(settings.state_dir, settings.database_url)
                echo(f"  example users' signing keys: {settings.state_dir / 'keys'}/")
                # Both read the front door's key, stored above, at start.
                supervisor.start_together([front_door_service(settings), worker_service(settings)])
                if after_start is not None:
                    after_start(settings)
                if not keep_running:
                    return 0
                stopped = supervisor.wait_for_exit()
                echo(
                    f"{stopped.name} exited; see {settings.state_dir / 'logs'}. Stopping the stack."
                )
                return 1
            except (KeyboardInterrupt, _Stop):
                echo("\nStopping the jitflow local stack ...")
                return 0
            finally:
                supervisor.stop_all()
    finally:
        signal.signal(signal.SIGTERM, previous)
