"""What the reducer call in progress knows, for the SDK functions that take no event argument.

Sym's ``get_step_output()``, ``sym.get_or_create_user_by_email()`` and the integration helpers
(``pagerduty.is_on_call``...) read the current run from the runtime; jitflow's runner sets this
context around each call to user code (one call per activity, on the activity's own thread),
and the SDK reads it here. ``hub`` reaches the flow's integrations (``jitflow.integrations``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jitflow.sdk.exceptions import SymException

if TYPE_CHECKING:
    from jitflow.integrations.hub import IntegrationHub

#: Builds an integration's error from a name and a message (``PagerDutyError``...).
ErrorFactory = Callable[[str, str], SymException]


@dataclass
class CallContext:
    """The current event's name, the run's step outputs, the roles the identity store knows,
    and the flow's integrations."""

    event_name: str
    step_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    hub: IntegrationHub | None = None
    seen: set[str] = field(default_factory=set)
    """Emails of the users the SDK handed out during the call, so that the ids of these users
    (``user_ids(okta.users_in_group(...))``) can be turned back into emails."""


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


def current_hub(function: str, error: ErrorFactory) -> IntegrationHub:
    """The integrations of the call in progress, for SDK function ``function``.

    Outside a reducer call (or in a runner given no integrations) it raises the integration's
    own error, so that a hook's ``except SymException`` fallback still catches it.
    """
    context = _current.get()
    if context is None or context.hub is None:
        raise error(
            "NOT_AVAILABLE",
            f"{function} can only be called from a reducer or hook that jitflow is running",
        )
    return context.hub


def not_available(function: str, why: str, error: ErrorFactory) -> SymException:
    """The error raised at call time by SDK functions jitflow cannot perform: the integration's
    own class (``SlackError("NOT_SUPPORTED", ...)``), as Sym raises for a failed call."""
    return error("NOT_SUPPORTED", f"{function}: {why}")
