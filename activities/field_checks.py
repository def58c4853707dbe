"""A request's prompt-field values, checked against the flow's ``prompt_field`` blocks.

The Slack form offers only what the flow allows, but the ``temporal`` CLI and ``jitflow request``
send whatever they are given, and the values reach ``get_permissions``/``get_approvers``, also
at the add-membership check. So the resolve step, where every request passes, refuses names the
flow does not define, values outside ``allowed_values`` and values that are not of the field's
type. What it cannot check is a ``prefetch`` field's value (only the flow's own code knows the
choices): reducers must not grant on it alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jitflow.config.models import Flow

#: Fields every request has, whatever the flow declares.
BUILT_IN = frozenset({"reason", "duration", "target_id"})
_BOOLEAN_TEXT = frozenset({"true", "false"})
_INT = re.compile(r"[+-]?[0-9]+")


def field_problems(
    flow: Flow, fields: Mapping[str, Any], *, options_may_change: bool = False
) -> list[str]:
    """One sentence per bad field, naming it and its value; empty when all are fine.

    ``options_may_change``: the flow has ``on_change_<field>`` handlers, which may offer other
    choices than the configuration's ``allowed_values`` (the Slack form checks those)."""
    declared = {field.name: field for field in flow.params.prompt_fields}
    problems: list[str] = []
    for name, value in fields.items():
        field = declared.get(name)
        if field is None:
            if name not in BUILT_IN:
                known = ", ".join(sorted(declared)) or "none"
                problems.append(f"field {name!r} is not a field of flow {flow.name!r} ({known})")
            continue
        shown = repr(value)[:80]
        fixed = field.allowed_values is not None and not options_may_change
        if fixed and field.allowed_values is not None and _text(value) not in field.allowed_values:
            allowed = ", ".join(field.allowed_values)
            problems.append(f"field {name!r} = {shown} is not one of its values: {allowed}")
        elif field.type == "int" and not _is_int(value):
            problems.append(f"field {name!r} = {shown} is not a whole number")
        elif field.type == "boolean" and not (
            isinstance(value, bool) or _text(value).lower() in _BOOLEAN_TEXT
        ):
            problems.append(f"field {name!r} = {shown} is not true or false")
        elif field.type == "list" and not isinstance(value, list | tuple | str):
            problems.append(f"field {name!r} = {shown} is not a list")
    return problems


def typed_fields(flow: Flow, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with ``int`` and ``boolean`` values as numbers and booleans, as Sym hands them to
    reducers (a ``"false"`` string would be true to ``if event.fields["x"]:``). Checked first
    with ``field_problems``."""
    declared = {field.name: field.type for field in flow.params.prompt_fields}
    typed = dict(fields)
    for name, value in fields.items():
        kind = declared.get(name)
        if kind == "int" and isinstance(value, str) and _is_int(value):
            typed[name] = int(value.strip())
        elif kind == "boolean" and isinstance(value, str):
            typed[name] = value.strip().lower() == "true"
    return typed


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return _INT.fullmatch(str(value).strip()) is not None
