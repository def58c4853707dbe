"""The request form ``/jitflow`` opens: a Slack modal built from a flow, and what was submitted.

The modal offers exactly what the flow allows (its strategy's targets, its allowed durations, its
visible prompt fields), so a person picks from the configuration instead of typing names. The
submission is read back into an ``AccessRequestInput``; what is missing or not offered is
answered with Slack's ``response_action: errors`` at the block concerned, and the request is
not started. The workflow's resolve step still checks everything again, as for any caller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jitflow.config.models import Flow, JitflowConfig, PromptField
from jitflow.contracts.access import AccessRequestInput
from jitflow.slack.messages import duration_text

CALLBACK_ID = "jitflow_request"
TARGET_BLOCK = "jitflow_target"
DURATION_BLOCK = "jitflow_duration"
FIELD_BLOCK_PREFIX = "jitflow_field_"
ACTION_ID = "value"
#: Prompt fields the modal shows by its own selects, not as fields.
_SPECIAL_FIELDS = {"duration", "target", "target_id"}


@dataclass(frozen=True)
class FlowForm:
    """What the modal offers for one flow."""

    flow: str
    label: str
    targets: tuple[tuple[str, str], ...]
    """``(resource name, label)`` of each target, in the strategy's order."""
    durations: tuple[int, ...]
    fields: tuple[PromptField, ...]


def flow_form(config: JitflowConfig, flow: Flow) -> FlowForm:
    strategy = config.strategies.get(flow.params.strategy or "")
    keys = strategy.targets if strategy is not None else ()
    targets = tuple(
        (config.targets[key].key, config.targets[key].display)
        for key in keys
        if key in config.targets
    )
    fields = tuple(
        field
        for field in flow.params.prompt_fields
        if field.visible and field.name not in _SPECIAL_FIELDS
    )
    return FlowForm(flow.name, flow.label or flow.name, targets, flow.durations, fields)


def _text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:75]}


def _select(
    block_id: str, label: str, options: list[tuple[str, str]], optional: bool
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _text(label),
        "element": {
            "type": "static_select",
            "action_id": ACTION_ID,
            "options": [{"text": _text(text), "value": value} for value, text in options[:100]],
        },
    }


def _field_block(field: PromptField) -> dict[str, Any]:
    label = field.label or field.name.replace("_", " ").capitalize()
    block_id = FIELD_BLOCK_PREFIX + field.name
    if field.allowed_values:
        options = [(value, value) for value in field.allowed_values]
        return _select(block_id, label, options, not field.required)
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ACTION_ID,
        "multiline": field.name == "reason",
    }
    if field.default is not None:
        element["initial_value"] = str(field.default)
    return {
        "type": "input",
        "block_id": block_id,
        "optional": not field.required,
        "label": _text(label),
        "element": element,
    }


def request_view(form: FlowForm, channel_id: str) -> dict[str, Any]:
    """The modal for ``form``; ``channel_id`` (where the command was typed) rides along."""
    blocks = [
        _select(TARGET_BLOCK, "What", [(name, label) for name, label in form.targets], False),
        _select(
            DURATION_BLOCK,
            "For how long",
            [(str(seconds), duration_text(seconds)) for seconds in form.durations],
            False,
        ),
        *(_field_block(field) for field in form.fields),
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": json.dumps({"flow": form.flow, "channel": channel_id}),
        "title": _text("Request access"),
        "submit": _text("Request"),
        "close": _text("Cancel"),
        "blocks": blocks,
    }


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """``{block_id: value}`` of a submitted view's inputs (selects and text inputs)."""
    values: dict[str, str] = {}
    state = (view.get("state") or {}).get("values") or {}
    for block_id, actions in state.items():
        entry = (actions or {}).get(ACTION_ID) or {}
        selected = entry.get("selected_option") or {}
        value = selected.get("value") if selected else entry.get("value")
        if value is not None and str(value).strip():
            values[str(block_id)] = str(value).strip()
    return values


def submitted_request(
    form: FlowForm, values: dict[str, str], requester: str
) -> AccessRequestInput | dict[str, str]:
    """The request the form describes, or Slack's errors by block id."""
    errors: dict[str, str] = {}
    target = values.get(TARGET_BLOCK, "")
    if target not in {name for name, _ in form.targets}:
        errors[TARGET_BLOCK] = "Pick one of the flow's targets."
    duration = values.get(DURATION_BLOCK, "")
    if not duration.isdigit() or int(duration) not in form.durations:
        errors[DURATION_BLOCK] = "Pick one of the allowed durations."
    fields: dict[str, Any] = {}
    for field in form.fields:
        block_id = FIELD_BLOCK_PREFIX + field.name
        value = values.get(block_id)
        if value is None:
            if field.required:
                errors[block_id] = f"{field.label or field.name} is required."
            continue
        if field.allowed_values and value not in field.allowed_values:
            errors[block_id] = f"Pick one of {', '.join(field.allowed_values)}."
        fields[field.name] = value
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
