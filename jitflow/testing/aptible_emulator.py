"""Start the Aptible emulator on a free loopback port for a test or a benchmark, and stop it after.

    with aptible_emulator() as emulator:          # the example state, in memory
        client = AptibleClient(emulator.base_url)
        emulator.admin.fail_next("POST /roles/{role}/memberships", "drop", phase="after")
        ...
        assert emulator.admin.count("POST /tokens") == 1

The server is uvicorn in a background thread of the calling process (its own event loop), so
starting one costs milliseconds and stopping it leaves nothing running.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from jitflow.devstack.example import (
    EXAMPLE_ADMIN_ROLE_ID,
    EXAMPLE_BOT_EMAIL,
    EXAMPLE_BOT_PASSWORD,
    EXAMPLE_DEVELOPERS_ROLE_ID,
    EXAMPLE_ORG_ID,
    EXAMPLE_OWNERS_ROLE_ID,
    EXAMPLE_READONLY_ROLE_ID,
    EXAMPLE_STATE_PATH,
    EXAMPLE_USER_IDS,
    example_state,
)
from jitflow.emulator.admin_client import EmulatorAdmin, EmulatorAdminError
from jitflow.emulator.app import EmulatorApp, create_app
from jitflow.emulator.faults import FaultConfig
from jitflow.emulator.server import serve_in_thread
from jitflow.emulator.settings import EmulatorSettings
from jitflow.emulator.state import EmulatorState

__all__ = [
    "EXAMPLE_ADMIN_ROLE_ID",
    "EXAMPLE_BOT_EMAIL",
    "EXAMPLE_BOT_PASSWORD",
    "EXAMPLE_DEVELOPERS_ROLE_ID",
    "EXAMPLE_ORG_ID",
    "EXAMPLE_OWNERS_ROLE_ID",
    "EXAMPLE_READONLY_ROLE_ID",
    "EXAMPLE_STATE_PATH",
    "EXAMPLE_USER_IDS",
    "EmulatorAdmin",
    "EmulatorAdminError",
    "RunningAptibleEmulator",
    "aptible_emulator",
    "example_state",
    "start_aptible_emulator",
]


@dataclass
class RunningAptibleEmulator:
    """A started emulator: where it listens, its admin client, and how to stop it."""

    base_url: str
    admin: EmulatorAdmin
    app: EmulatorApp
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        self.admin.close()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            raise RuntimeError(f"the Aptible emulator at {self.base_url} did not stop")


def _resolve_state(
    state: EmulatorState | Mapping[str, Any] | Path | None, state_file: Path | None
) -> EmulatorState:
    if isinstance(state, EmulatorState):
        return state
    if isinstance(state, Path):
        return EmulatorState.from_file(state)
    if state is not None:
        return EmulatorState.from_dict(dict(state))
    if state_file is not None and state_file.exists():
        return EmulatorState.from_file(state_file)
    return EmulatorState.from_dict(example_state(), source=str(EXAMPLE_STATE_PATH))


def start_aptible_emulator(
    state: EmulatorState | Mapping[str, Any] | Path | None = None,
    *,
    state_file: Path | None = None,
    settings: EmulatorSettings | None = None,
    faults: FaultConfig | None = None,
    host: str = "127.0.0.1",
) -> RunningAptibleEmulator:
    """Start an emulator; the caller must ``stop()`` it (prefer :func:`aptible_emulator`).

    ``state`` defaults to the example state (or ``state_file`` when it exists); with ``state_file``
    every change is saved there.
    """
    app = create_app(
        _resolve_state(state, state_file),
        settings=settings,
        faults=faults,
        state_path=state_file,
    )
    base_url, server, thread = serve_in_thread(app, "Aptible", host)
    return RunningAptibleEmulator(base_url, EmulatorAdmin(base_url), app, server, thread)


@contextmanager
def aptible_emulator(
    state: EmulatorState | Mapping[str, Any] | Path | None = None,
    *,
    state_file: Path | None = None,
    settings: EmulatorSettings | None = None,
    faults: FaultConfig | None = None,
    host: str = "127.0.0.1",
) -> Iterator[RunningAptibleEmulator]:
    """Run an emulator for the duration of a ``with`` block (see :func:`start_aptible_emulator`)."""
    running = start_aptible_emulator(
        state, state_file=state_file, settings=settings, faults=faults, host=host
    )
    try:
        yield running
    finally:
        running.stop()
