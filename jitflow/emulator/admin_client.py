"""Client of the Aptible emulator's admin API (``/_emulator/...``): faults, counters, state.

Used by the dev stack's demo, the benchmark and the tests to look inside the emulator without
going through the Aptible API it emulates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from jitflow.emulator.app import ADMIN_PREFIX
from jitflow.emulator.faults import FaultConfig, FaultKind, FaultPhase
from jitflow.emulator.settings import EmulatorSettings
from jitflow.emulator.state import EmulatorState


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
