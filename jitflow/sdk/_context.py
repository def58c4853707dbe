"""What the reducer call in progress knows, for the SDK functions that take no event argument.

Sym's ``get_step_output()`` and ``sym.get_or_create_user_by_email()`` read the current run from
the runtime; jitflow's runner sets this context around each call to user code (one call per
activity, on the activity's own thread), and the SDK reads it here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallContext:
    """The current event's name, the run's step outputs and the roles the identity store knows."""

    event_name: str
    step_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)


_current: ContextVar[CallContext | None] = ContextVar("jitflow_reducer_call", default=None)


def current_call(function: str) -> CallContext:
    """The context of the call in progress; ``function`` names the SDK function for the error."""
    context = _current.get()
    if context is None:
        raise RuntimeError(
            f"{function} can only be called from a reducer or hook that jitflow is running"
        )
    return context


@contextmanager
def calling(context: CallContext) -> Iterator[CallContext]:
    """Make ``context`` the current call's for the duration of the block."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def not_available(function: str, why: str = "jitflow does not call this service yet") -> Exception:
    """The error raised at call time by SDK functions jitflow cannot perform."""
    return NotImplementedError(f"{function}: {why}")
