"""What an open request modal holds: its flow, its channel, and its form as handlers left it.

Slack keeps two things for an open modal and sends them back with every interaction: the values
typed or picked (``view.state``) and ``private_metadata``, a string of at most 3000 characters
that only the app writes. jitflow puts there what ``on_change_*`` handlers changed in the form
compared with the configuration (a field hidden or shown, made optional, relabelled, given other
choices, and the value of a hidden field), so that the next handler and the submission see the
form the person sees, without the front door keeping any state of its own.

Every ``views.update`` bumps ``rev``: field blocks are then renamed (``jitflow_field_x~3``), so
that Slack shows the values the handler set instead of keeping what was typed in the old block.

The metadata also records what each field with an ``on_change`` handler showed when the modal
was last drawn (``seen``): a submission whose value there differs was made before the redraw for
that change landed, so the form it would be checked against is not the one the handler wants.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jitflow.sdk.forms import FieldOption, FieldType, PromptField, SymPromptForm

FIELD_BLOCK_PREFIX = "jitflow_field_"
ACTION_ID = "value"
#: Slack's limit on ``private_metadata``.
MAX_METADATA = 3000


class FormTooLarge(ValueError):
    """The form's changes do not fit in Slack's ``private_metadata``."""


@dataclass(frozen=True)
class ModalState:
    """An open request modal: whose flow, where it was asked for, the form as it is now."""

    flow: str
    channel: str
    form: SymPromptForm
    base: SymPromptForm = field(compare=False)
    """The form as configured; the metadata holds the differences from it."""
    changing: frozenset[str] = frozenset()
    """Fields whose change runs an ``on_change`` handler (their blocks dispatch actions)."""
    rev: int = 0
    error: str | None = None
    """Shown at the top of the modal once: a handler that failed, in the person's words."""
    seen: Mapping[str, str | None] = field(default_factory=dict, compare=False)
    """What the ``changing`` fields showed when the modal was last drawn (read back from the
    metadata; a new drawing records its own)."""


def block_id(name: str, rev: int) -> str:
    return FIELD_BLOCK_PREFIX + name + (f"~{rev}" if rev else "")


def field_of_block(block: str) -> str | None:
    """The field a block id belongs to (``jitflow_field_reason~2`` -> ``reason``)."""
    if not block.startswith(FIELD_BLOCK_PREFIX):
        return None
    rest = block[len(FIELD_BLOCK_PREFIX) :]
    name, separator, rev = rest.rpartition("~")
    return name if separator and rev.isdigit() else rest


def metadata(state: ModalState, shown: Mapping[str, str | None] | None = None) -> str:
    """``private_metadata`` for ``state``, drawn with the ``changing`` fields showing ``shown``;
    ``FormTooLarge`` beyond Slack's 3000 characters."""
    changes = _changes(state.form, state.base)
    body: dict[str, Any] = {"flow": state.flow, "channel": state.channel}
    if state.rev:
        body["rev"] = state.rev
    if state.changing:
        body["changing"] = sorted(state.changing)
        body["seen"] = {name: (shown or {}).get(name) for name in sorted(state.changing)}
    if changes:
        body["form"] = changes
    if state.form.additional_header_text != state.base.additional_header_text:
        body["header"] = state.form.additional_header_text
    text = json.dumps(body, separators=(",", ":"))
    if len(text) > MAX_METADATA:
        raise FormTooLarge(
            f"the form's changes take {len(text)} characters; Slack keeps {MAX_METADATA} "
            "(fewer or shorter choices fit)"
        )
    return text


def read_metadata(text: str | None) -> dict[str, Any]:
    """A modal's ``private_metadata`` as written by ``metadata``; ``{}`` when unreadable."""
    try:
        decoded = json.loads(text or "{}")
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def restored(view: dict[str, Any], base: SymPromptForm) -> ModalState:
    """The modal ``view`` as Slack sent it back: ``base`` with the recorded changes, the values
    of its inputs, and the hidden fields' recorded values."""
    meta = read_metadata(view.get("private_metadata"))
    recorded = meta.get("form")
    changes: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
    fields: OrderedDict[str, PromptField] = OrderedDict()
    typed = input_values(view)
    for name, configured in base.fields.items():
        entry = changes.get(name)
        change: dict[str, Any] = entry if isinstance(entry, dict) else {}
        current = _apply(configured, change)
        if current.visible:
            current = _with_value(current, typed.get(name))
        fields[name] = current
    changing = meta.get("changing")
    seen = meta.get("seen")
    header = base.additional_header_text
    if "header" in meta and isinstance(meta["header"], str | None):
        header = meta["header"]
    return ModalState(
        flow=str(meta.get("flow", "")),
        channel=str(meta.get("channel", "")),
        form=base.model_copy(update={"fields": fields, "additional_header_text": header}),
        changing=frozenset(str(n) for n in changing) if isinstance(changing, list) else frozenset(),
        rev=int(meta["rev"]) if isinstance(meta.get("rev"), int) else 0,
        base=base,
        seen={
            str(name): value if isinstance(value, str) else None
            for name, value in (seen.items() if isinstance(seen, dict) else ())
        },
    )


def input_values(view: dict[str, Any]) -> dict[str, FieldOption | str | None]:
    """Each field input's value in ``view.state``: the picked choice or the typed text."""
    values: dict[str, FieldOption | str | None] = {}
    state = (view.get("state") or {}).get("values") or {}
    for block, actions in state.items():
        name = field_of_block(str(block))
        entry = (actions or {}).get(ACTION_ID) or {}
        if name is None:
            continue
        selected = entry.get("selected_option")
        if isinstance(selected, dict):
            label = str((selected.get("text") or {}).get("text", ""))
            values[name] = FieldOption.model_construct(
                value=str(selected.get("value", "")), label=label
            )
        else:
            text = entry.get("value")
            values[name] = str(text).strip() if text is not None and str(text).strip() else None
    return values


def value_text(value: Any) -> str | None:
    """A field's value as the request records it: a choice's value, or the text."""
    if isinstance(value, FieldOption):
        value = value.value
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return str(value).strip()


def _with_value(field_: PromptField, value: FieldOption | str | None) -> PromptField:
    if field_.type == FieldType.INT and isinstance(value, str) and value.lstrip("-").isdigit():
        return field_.model_copy(update={"value": int(value)})
    return field_.model_copy(update={"value": value})


def _option_pair(option: FieldOption) -> list[Any]:
    return [option.value, option.label]


def _changes(form: SymPromptForm, base: SymPromptForm) -> dict[str, dict[str, Any]]:
    """What each field has other than configured; a hidden field's value too (Slack has no
    input to keep it in)."""
    changes: dict[str, dict[str, Any]] = {}
    for name, current in form.fields.items():
        configured = base.fields.get(name)
        if configured is None:
            continue
        change: dict[str, Any] = {}
        for attribute in ("visible", "required", "label"):
            if getattr(current, attribute) != getattr(configured, attribute):
                change[attribute] = getattr(current, attribute)
        options = [_option_pair(o) for o in current.current_allowed_values]
        if options != [_option_pair(o) for o in configured.current_allowed_values]:
            change["options"] = options
        if not current.visible and current.value is not None:
            value = current.value
            change["value"] = _option_pair(value) if isinstance(value, FieldOption) else value
        if change:
            changes[name] = change
    return changes


def _apply(configured: PromptField, change: dict[str, Any]) -> PromptField:
    update: dict[str, Any] = {}
    for attribute in ("visible", "required"):
        if isinstance(change.get(attribute), bool):
            update[attribute] = change[attribute]
    if "label" in change and isinstance(change["label"], str | None):
        update["label"] = change["label"]
    options = change.get("options")
    if isinstance(options, list):
        update["current_allowed_values"] = [
            FieldOption.model_construct(value=pair[0], label=str(pair[1]))
            for pair in options
            if isinstance(pair, list) and len(pair) == 2
        ]
    if "value" in change:
        value = change["value"]
        update["value"] = (
            FieldOption.model_construct(value=value[0], label=str(value[1]))
            if isinstance(value, list) and len(value) == 2
            else value
        )
    return configured.model_copy(update=update)
