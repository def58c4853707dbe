"""The hooks ``AccessRequest`` runs, and what a failure of each means.

Sym calls ``on_<event>`` before an event's default processing (it may change the outcome) and
``after_<event>`` after it (sym-semantics B.2, B.3). jitflow's workflow and reducer runtime read
this one table instead of taking hook names apart.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Events whose hooks jitflow runs (``request_forward`` needs Slack delivery, which comes later).
HOOKED_EVENTS: tuple[str, ...] = (
    "prompt",
    "request",
    "approve",
    "deny",
    "escalate",
    "deescalate",
    "request_expire",
)


@dataclass(frozen=True)
class HookKind:
    """One hook: its handler name, the event it is fired for, and how its failure counts."""

    name: str
    event: str
    before: bool
    """``on_*``: runs before the event's processing and may change its outcome."""
    fatal: bool
    """A failure fails the request. ``on_*`` hooks run before anything is granted, except
    ``on_deescalate``, which must never stand in the way of a removal."""

    @property
    def records_message(self) -> bool:
        """``after_*`` hooks' returned text goes to the request's timeline."""
        return not self.before


def _kinds() -> dict[str, HookKind]:
    kinds: dict[str, HookKind] = {}
    for event in HOOKED_EVENTS:
        on, after = f"on_{event}", f"after_{event}"
        kinds[on] = HookKind(on, event, before=True, fatal=event != "deescalate")
        kinds[after] = HookKind(after, event, before=False, fatal=False)
    return kinds


#: ``"on_request" -> HookKind(...)`` for every hook jitflow runs.
HOOKS: dict[str, HookKind] = _kinds()
