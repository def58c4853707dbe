"""The decorators of ``sym.sdk.annotations``.

As in Sym, dispatch is by function name (``get_*`` reducers, ``on_*``/``after_*`` hooks); the
decorators only mark a function so that jitflow's loader can check, when the module is loaded,
that a marked function has a name and a signature jitflow will call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from jitflow.sdk.forms import FieldOption

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute set on decorated functions: ``"reducer"``, ``"hook"`` or ``"prefetch"``.
HANDLER_KIND_ATTRIBUTE = "__jitflow_handler__"
#: Attribute holding a prefetch function's prompt field name.
PREFETCH_FIELD_ATTRIBUTE = "__jitflow_prefetch_field__"


def reducer(fn: F) -> F:
    """Mark ``fn`` as a reducer; its name must be one Sym calls (``get_permissions``...)."""
    setattr(fn, HANDLER_KIND_ATTRIBUTE, "reducer")
    return fn


def hook(fn: F) -> F:
    """Mark ``fn`` as a hook: ``on_<event>`` runs before the event, ``after_<event>`` after it."""
    setattr(fn, HANDLER_KIND_ATTRIBUTE, "hook")
    return fn


def prefetch(field_name: str) -> Callable[[Callable[..., list[FieldOption]]], Any]:
    """Mark a function computing the options of the prompt field ``field_name``."""
    if not isinstance(field_name, str) or not field_name:
        raise ValueError(f"prefetch(field_name={field_name!r}): name the prompt field")

    def decorator(fn: Callable[..., list[FieldOption]]) -> Callable[..., list[FieldOption]]:
        setattr(fn, HANDLER_KIND_ATTRIBUTE, "prefetch")
        setattr(fn, PREFETCH_FIELD_ATTRIBUTE, field_name)
        return fn

    return decorator


__all__ = ["hook", "prefetch", "reducer"]
