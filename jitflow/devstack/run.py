"""Bring the local stack up, keep it up, and take it down cleanly."""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType

from jitflow.devstack.keys import ensure_example_keys
from jitflow.devstack.stack import (
    StackSettings,
    aptible_emulator_service,
    create_example_secret,
    secrets_manager_service,
    temporal_service,
    worker_service,
)
from jitflow.devstack.supervisor import Supervisor, single_instance


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
                supervisor.start(temporal_service(settings))
                supervisor.start(aptible_emulator_service(settings))
                supervisor.start(secrets_manager_service(settings))
                create_example_secret(settings)
                echo(f"  stored the example bot secret in Secrets Manager at {settings.aws_url}")
                ensure_example_keys(settings.state_dir, settings.database_url)
                echo(f"  example users' signing keys: {settings.state_dir / 'keys'}/")
                supervisor.start(worker_service(settings))
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
