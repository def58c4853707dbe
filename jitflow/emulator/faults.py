"""Injected faults: what the emulator does wrong on purpose, for reliability tests to survive.

Two mechanisms, combinable. *Rates* (a share of requests answered 5xx, 429, or dropped, plus added
latency) draw from a random generator seeded by ``seed``, so a run is reproducible. *Scripted*
faults
("the next 2 requests to ``POST /roles/{role}/memberships`` drop the connection after the change
is made") are exact, for tests that must know what happens to which request.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal["error", "rate_limit", "drop", "delay", "unauthorized"]
FaultPhase = Literal["before", "after"]

#: The route key that scripted faults and rates use to mean "every Aptible route".
ANY_ROUTE = "*"


class ScriptedFault(BaseModel):
    """Fail the next ``count`` requests to ``route`` (a key such as ``"POST /tokens"``, or ``"*"``).

    ``kind``: ``error`` answers ``status`` (a 5xx); ``rate_limit`` answers 429 with
    ``Retry-After: retry_after``; ``drop`` closes the connection without any response; ``delay``
    waits ``delay_ms`` then answers normally; ``unauthorized`` answers 401 ``invalid_token`` (a
    token revoked behind the client's back). ``phase`` says whether the fault strikes ``before``
    the request is acted on (nothing changes) or ``after`` (the change is made, then the answer is
    lost, late or replaced by the error: what a client whose POST failed must cope with).
    """

    model_config = ConfigDict(extra="forbid")

    route: str = ANY_ROUTE
    kind: FaultKind
    count: int = Field(default=1, ge=1)
    phase: FaultPhase = "before"
    status: int = Field(default=500, ge=500, le=599)
    retry_after: int = Field(default=1, ge=0)
    delay_ms: int = Field(default=0, ge=0)


class FaultConfig(BaseModel):
    """The full fault setting, replaced as a whole by ``PUT /_emulator/faults``."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_status: int = Field(default=503, ge=500, le=599)
    rate_limit_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    retry_after: int = Field(default=1, ge=0)
    drop_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    latency_ms: int = Field(default=0, ge=0)
    """Added to every Aptible request before it is handled."""
    routes: list[str] | None = None
    """Route keys the rates and latency apply to; ``None`` means all Aptible routes."""
    scripted: list[ScriptedFault] = Field(default_factory=list)

    def route_keys(self) -> set[str]:
        """Every route key this configuration names, for validation against the app's routes."""
        named = {fault.route for fault in self.scripted}
        named.update(self.routes or ())
        named.discard(ANY_ROUTE)
        return named


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request. ``action`` ``None`` means answer normally."""

    action: Literal["error", "rate_limit", "drop", "unauthorized"] | None = None
    phase: FaultPhase = "before"
    status: int = 500
    retry_after: int = 1
    delay_before: float = 0.0
    delay_after: float = 0.0


class FaultInjector:
    """Decides, request by request, which fault (if any) applies; scripted faults come first."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        self.config = config.model_copy(deep=True)
        self._random = random.Random(config.seed)

    def add_scripted(self, fault: ScriptedFault) -> None:
        self.config.scripted.append(fault)

    def plan(self, route_key: str) -> FaultPlan:
        scripted = self._take_scripted(route_key)
        if scripted is not None:
            return scripted
        config = self.config
        if config.routes is not None and route_key not in config.routes:
            return FaultPlan()
        latency = config.latency_ms / 1000
        draw = self._random.random()
        if draw < config.error_rate:
            return FaultPlan(action="error", status=config.error_status, delay_before=latency)
        draw -= config.error_rate
        if draw < config.rate_limit_rate:
            return FaultPlan(
                action="rate_limit", retry_after=config.retry_after, delay_before=latency
            )
        draw -= config.rate_limit_rate
        if draw < config.drop_rate:
            return FaultPlan(action="drop", delay_before=latency)
        return FaultPlan(delay_before=latency)

    def _take_scripted(self, route_key: str) -> FaultPlan | None:
        for index, fault in enumerate(self.config.scripted):
            if fault.route not in (route_key, ANY_ROUTE):
                continue
            if fault.count == 1:
                del self.config.scripted[index]
            else:
                fault.count -= 1
            delay = fault.delay_ms / 1000
            if fault.kind == "delay":
                if fault.phase == "before":
                    return FaultPlan(delay_before=delay)
                return FaultPlan(delay_after=delay)
            if fault.kind == "drop":
                return FaultPlan(action="drop", phase=fault.phase)
            if fault.kind == "unauthorized":
                return FaultPlan(action="unauthorized")
            if fault.kind == "rate_limit":
                return FaultPlan(
                    action="rate_limit", phase=fault.phase, retry_after=fault.retry_after
                )
            return FaultPlan(action="error", phase=fault.phase, status=fault.status)
        return None
