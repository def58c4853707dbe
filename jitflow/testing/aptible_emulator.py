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

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from jitflow.emulator.app import ADMIN_PREFIX, EmulatorApp, create_app
from jitflow.emulator.faults import FaultConfig, FaultKind, FaultPhase
from jitflow.emulator.server import bind_socket, build_server
from jitflow.emulator.settings import EmulatorSettings
from jitflow.emulator.state import EmulatorState

#: The state shipped with ``examples/aptible`` (org, the two roles of Sym's page, the bot, users).
EXAMPLE_STATE_PATH = Path(__file__).resolve().parents[2] / "examples/aptible/emulator-state.json"

EXAMPLE_ORG_ID = "94a49e57-d046-4d9d-9dbf-f7711e337368"
EXAMPLE_ADMIN_ROLE_ID = "24463ef7-1d6e-402e-a365-69cb6db80c6e"
EXAMPLE_READONLY_ROLE_ID = "c7d5f21a-1d4e-4b39-9957-f8acabde2a3a"
EXAMPLE_DEVELOPERS_ROLE_ID = "de4e1000-0000-4000-8000-0000000000d1"
EXAMPLE_OWNERS_ROLE_ID = "0a4e4000-0000-4000-8000-0000000000a0"
EXAMPLE_BOT_EMAIL = "aptible-bot@example.com"
EXAMPLE_BOT_PASSWORD = "super-secret"
EXAMPLE_USER_IDS = {
    "aptible-bot@example.com": "b0710000-0000-4000-8000-000000000001",
    "alice@example.com": "a11ce000-0000-4000-8000-000000000002",
    "bob@example.com": "b0b00000-0000-4000-8000-000000000003",
    "carol@example.com": "ca401000-0000-4000-8000-000000000004",
    "dave@example.com": "da4e0000-0000-4000-8000-000000000005",
    "owner@example.com": "0a4e4000-0000-4000-8000-000000000006",
}


def example_state() -> dict[str, Any]:
    """A fresh copy of the example state document."""
    data: dict[str, Any] = json.loads(EXAMPLE_STATE_PATH.read_text(encoding="utf-8"))
    return data


class EmulatorAdminError(RuntimeError):
    """The admin API refused a request; the message is the emulator's."""


class EmulatorAdmin:
    """Synchronous client of the emulator's admin API (``/_emulator/...``)."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=f"{base_url}{ADMIN_PREFIX}", timeout=10.0)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(method, path, json=body)
        if response.status_code >= 400:
            raise EmulatorAdminError(f"{method} {path}: {response.text}")
        return response.json() if response.content else None

    # -- faults ---------------------------------------------------------------------------------

    def faults(self) -> FaultConfig:
        return FaultConfig.model_validate(self._call("GET", "/faults"))

    def set_faults(self, config: FaultConfig | None = None, **fields: Any) -> FaultConfig:
        """Replace the fault setting: a whole ``FaultConfig``, or its fields as keywords."""
        body = config.model_dump(mode="json") if config is not None else fields
        return FaultConfig.model_validate(self._call("PUT", "/faults", body))

    def fail_next(
        self,
        route: str,
        kind: FaultKind = "error",
        count: int = 1,
        *,
        phase: FaultPhase = "before",
        status: int = 500,
        retry_after: int = 1,
        delay_ms: int = 0,
    ) -> None:
        """Script a fault for the next ``count`` requests to ``route`` (e.g. ``"POST /tokens"``)."""
        self._call(
            "POST",
            "/faults/scripted",
            {
                "route": route,
                "kind": kind,
                "count": count,
                "phase": phase,
                "status": status,
                "retry_after": retry_after,
                "delay_ms": delay_ms,
            },
        )

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    # -- counters -------------------------------------------------------------------------------

    def counters(self) -> dict[str, int]:
        """Requests per route key (``"POST /roles/{role}/memberships"``) since the last reset."""
        counts: dict[str, int] = self._call("GET", "/counters")["counts"]
        return counts

    def count(self, route: str) -> int:
        return self.counters().get(route, 0)

    def total(self) -> int:
        """All Aptible requests since the last reset (admin requests are never counted)."""
        return sum(self.counters().values())

    def reset_counters(self) -> None:
        self._call("DELETE", "/counters")

    # -- state ----------------------------------------------------------------------------------

    def memberships(self, role_id: str) -> list[dict[str, Any]]:
        """The role's memberships now: ``id``, ``user_id``, ``email``, ``privileged``."""
        rows: list[dict[str, Any]] = self._call("GET", f"/roles/{role_id.lower()}/memberships")
        return rows

    def member_emails(self, role_id: str) -> set[str]:
        return {row["email"] for row in self.memberships(role_id)}

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = self._call("GET", "/state")
        return data

    def load_state(self, state: Mapping[str, Any] | EmulatorState) -> None:
        body = state.to_dict() if isinstance(state, EmulatorState) else dict(state)
        self._call("PUT", "/state", body)

    def settings(self) -> EmulatorSettings:
        return EmulatorSettings.model_validate(self._call("GET", "/settings"))

    def update_settings(self, **changes: Any) -> EmulatorSettings:
        return EmulatorSettings.model_validate(self._call("PUT", "/settings", changes))

    def expire_tokens(self) -> int:
        """Expire every live token now; returns how many there were."""
        expired: int = self._call("POST", "/tokens/expire")["expired"]
        return expired


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
    server = build_server(app)
    sock = bind_socket(host, 0)
    port = sock.getsockname()[1]

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()

    thread = threading.Thread(target=serve, name=f"aptible-emulator-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the Aptible emulator did not start on {host}:{port}")
        time.sleep(0.005)
    base_url = f"http://{host}:{port}"
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
