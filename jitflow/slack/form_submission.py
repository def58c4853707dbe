"""Reading a submitted request modal back into an ``AccessRequestInput``, or Slack's errors.

The form is checked as the person saw it (``form_state.restored``): a field an ``on_change``
handler hid is not required and keeps the value the handler gave it, one it made optional may
be left empty, a select must hold one of the choices it offered then, and a prefetched field
one of the choices its ``@prefetch`` function gives (``choices``, which the caller fetched).
What is wrong is answered at the block concerned; the workflow's resolve step still checks
everything again, as for any caller. A submission that did not wait for the redraw an
``on_change`` field asked for (``still_updating``) is not checked at all: the form it would be
checked against is not the one the handler made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jitflow.config.models import PromptField
from jitflow.contracts.access import AccessRequestInput
from jitflow.slack.form_state import ACTION_ID, ModalState, block_id, value_text
from jitflow.slack.request_modal import DURATION_BLOCK, TARGET_BLOCK, FlowForm

#: A prefetched field's allowed values, or why they could not be read.
Choices = Mapping[str, frozenset[str] | str]

#: What a submission made before the last ``on_change`` redraw landed is told, at that field.
STILL_UPDATING = "the form is still updating; check the fields and submit again"


def selected(view: dict[str, Any], block: str) -> str:
    """The value picked or typed in ``block`` of a submitted view, ``""`` when empty."""
    entry = (((view.get("state") or {}).get("values") or {}).get(block) or {}).get(ACTION_ID) or {}
    chosen = entry.get("selected_option") or {}
    value = chosen.get("value") if chosen else entry.get("value")
    return str(value).strip() if value is not None else ""


def prefetched_to_check(form: FlowForm, state: ModalState) -> list[str]:
    """The shown prefetched fields that hold a value: those whose choices ``choices`` needs."""
    return [
        name
        for name in sorted(form.prefetched)
        if (field := state.form.fields.get(name)) is not None
        and field.visible
        and value_text(field.value) is not None
    ]


def still_updating(state: ModalState) -> dict[str, str]:
    """Slack's errors for the shown ``on_change`` fields whose submitted value is not the one
    the modal was last drawn with: their handler ran (or runs) for a form this submission
    did not wait for, so the form ``state`` holds is not the one to check."""
    return {
        block_id(name, state.rev): STILL_UPDATING
        for name in sorted(state.changing)
        if (field := state.form.fields.get(name)) is not None
        and field.visible
        and value_text(field.value) != state.seen.get(name)
    }


def submitted_request(
    form: FlowForm, view: dict[str, Any], state: ModalState, requester: str, choices: Choices
) -> AccessRequestInput | dict[str, str]:
    """The request the submitted ``view`` describes, or Slack's errors by block id."""
    errors: dict[str, str] = {}
    target = selected(view, TARGET_BLOCK)
    if target not in {name for name, _ in form.targets}:
        errors[TARGET_BLOCK] = "Pick one of the flow's targets."
    duration = selected(view, DURATION_BLOCK)
    if not duration.isdigit() or int(duration) not in form.durations:
        errors[DURATION_BLOCK] = "Pick one of the allowed durations."
    fields: dict[str, Any] = {}
    configured = {field.name: field for field in form.fields}
    for name, field in state.form.fields.items():
        value = value_text(field.value)
        if not field.visible:
            if value is not None:
                fields[name] = value
            elif _needed(configured.get(name)):
                # The workflow would refuse the request for it: say so now, where it can be seen.
                errors.setdefault(
                    TARGET_BLOCK,
                    f"The flow requires {name}, which the form hides without a value "
                    "(its on_change handler should set one).",
                )
            continue
        block = block_id(name, state.rev)
        if value is None:
            if field.required:
                errors[block] = f"{field.label or name} is required."
            continue
        refusal = _refusal(name, value, field.current_allowed_values, form, choices)
        if refusal:
            errors[block] = refusal
        fields[name] = value
    if errors:
        return errors
    reason = fields.pop("reason", None)
    return AccessRequestInput(
        flow=form.flow,
        target=target,
        requester=requester,
        duration=int(duration),
        reason=reason,
        fields=fields,
    )


def _needed(configured: PromptField | None) -> bool:
    """Whether the configuration requires the field with no default to fall back on."""
    return configured is not None and configured.required and configured.default is None


def _refusal(
    name: str, value: str, offered: list[Any], form: FlowForm, choices: Choices
) -> str | None:
    """Why ``value`` is not one of the field's choices, or None."""
    if name in form.prefetched:
        allowed = choices.get(name)
        if isinstance(allowed, str):
            return allowed
        if allowed is None or value not in allowed:
            return "Pick one of the offered choices."
        return None
    values = [str(option.value) for option in offered]
    if values and value not in values:
        shown = ", ".join(values[:10]) + (", ..." if len(values) > 10 else "")
        return f"Pick one of {shown}."
    return None
