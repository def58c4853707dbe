"""The handler names Sym dispatches on, the arguments it passes, and those jitflow calls.

Sym finds reducers and hooks by function name: ``get_*`` reducers, ``on_<event>`` hooks before
the event's default processing, ``after_<event>`` hooks after it (sym-semantics B.1 to B.3).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from jitflow.contracts.hooks import HOOKED_EVENTS

#: The approval template's events, in the order a request meets them.
EVENT_NAMES: tuple[str, ...] = (
    "prompt",
    "request",
    "request_forward",
    "request_expire",
    "approve",
    "deny",
    "escalate",
    "deescalate",
)

#: Every handler name Sym knows, with the arguments Sym passes to it.
HANDLER_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "get_permissions": ("event",),
    "get_request_notifications": ("event",),
    "get_approvers": ("event",),
    "get_identity": ("event", "service_type", "external_id", "user"),
    "get_flows": ("user", "flows", "flows_filter_vars"),
    **{
        f"{when}_{name}": ("event", "context") if name == "request_forward" else ("event",)
        for name in EVENT_NAMES
        for when in ("on", "after")
    },
}

#: Handlers whose arguments Sym does not publish: accepted by name, not checked.
UNCHECKED_HANDLERS: frozenset[str] = frozenset({"get_identity_lookup"})

#: ``on_change_<field>`` handlers receive the requester's email and the form.
ON_CHANGE_PREFIX = "on_change_"
ON_CHANGE_ARGUMENTS: tuple[str, ...] = ("username", "form")

#: What each ``on_*`` hook may return: Sym lets hooks move a request forward only.
FORWARD_STEPS: dict[str, frozenset[str]] = {
    "prompt": frozenset({"request"}),
    "request": frozenset({"request", "approve", "deny"}),
    "approve": frozenset({"approve", "deny"}),
    "deny": frozenset({"deny"}),
    "request_expire": frozenset(),
    "escalate": frozenset({"escalate", "deescalate"}),
    "deescalate": frozenset({"deescalate"}),
}

#: Events an ``on_*`` hook may drop with ``ApprovalTemplate.ignore``; access already granted or
#: being removed cannot be ignored.
IGNORABLE_EVENTS: frozenset[str] = frozenset({"prompt", "request", "approve", "deny"})


__all__ = ["HOOKED_EVENTS"]


def known_handler_names() -> list[str]:
    return sorted([*HANDLER_ARGUMENTS, *UNCHECKED_HANDLERS])


def hook_event(hook_name: str) -> tuple[str, str] | None:
    """``"on_request"`` -> ``("on", "request")``; None when it is not a hook name."""
    for when in ("on", "after"):
        prefix = f"{when}_"
        if hook_name.startswith(prefix) and hook_name[len(prefix) :] in EVENT_NAMES:
            return when, hook_name[len(prefix) :]
    return None


def accepts_arguments(function: Callable[..., Any], count: int) -> bool:
    """Whether ``function`` can be called with ``count`` positional arguments."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return True
    required = maximum = 0
    for parameter in parameters:
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            maximum += 1
            required += parameter.default is parameter.empty
        elif parameter.kind is parameter.VAR_POSITIONAL:
            maximum = count
        elif parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty:
            return False
    return required <= count <= maximum
