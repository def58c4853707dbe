"""The request form ``/jitflow`` opens: a Slack modal built from a flow and its form's state.

The modal offers exactly what the flow allows (its strategy's targets, its allowed durations, its
prompt fields), so a person picks from the configuration instead of typing names. The fields
are drawn from the form as handlers left it (``form_state.ModalState``): a field an
``on_change`` handler hid is not shown, one it showed is; a field with a handler dispatches an
action when it changes (``dispatch_action``); a ``prefetch = true`` field is an
``external_select`` whose choices Slack asks for as the person types (``block_suggestion``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jitflow.config.models import Flow, JitflowConfig, PromptField
from jitflow.reducer_runtime.prompt_form import MAX_CHOICE_VALUE, initial_form
from jitflow.sdk.forms import FieldOption, SymPromptForm
from jitflow.sdk.forms import PromptField as FormField
from jitflow.slack.form_state import (
    ACTION_ID,
    FIELD_BLOCK_PREFIX,
    ModalState,
    block_id,
    metadata,
    value_text,
)
from jitflow.slack.messages import duration_text

CALLBACK_ID = "jitflow_request"
TARGET_BLOCK = "jitflow_target"
DURATION_BLOCK = "jitflow_duration"
HEADER_BLOCK = "jitflow_header"
ERROR_BLOCK = "jitflow_form_error"
#: Prompt fields the modal shows by its own selects, not as fields.
SPECIAL_FIELDS = frozenset({"duration", "target", "target_id"})
#: Slack's limits: options of a select, characters of an option's text and value.
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = MAX_CHOICE_VALUE

__all__ = [
    "ACTION_ID",
    "CALLBACK_ID",
    "DURATION_BLOCK",
    "FIELD_BLOCK_PREFIX",
    "TARGET_BLOCK",
    "FlowForm",
    "FormConfigError",
    "flow_form",
    "opened_state",
    "request_view",
    "slack_option",
]


@dataclass(frozen=True)
class FlowForm:
    """What the modal offers for one flow."""

    flow: str
    label: str
    targets: tuple[tuple[str, str], ...]
    """``(resource name, label)`` of each target, in the strategy's order."""
    durations: tuple[int, ...]
    fields: tuple[PromptField, ...]
    """The prompt fields shown as fields, hidden ones too: a handler may show them."""
    base: SymPromptForm
    """``fields`` as the SDK's form, before any handler changed it."""

    @property
    def prefetched(self) -> frozenset[str]:
        """Fields whose choices come from a ``@prefetch`` function."""
        return frozenset(field.name for field in self.fields if field.prefetch)


class FormConfigError(ValueError):
    """A flow's configuration offers a choice the Slack form cannot carry."""


def flow_form(config: JitflowConfig, flow: Flow) -> FlowForm:
    """What the modal offers for ``flow``; ``FormConfigError`` when a target or an allowed value
    is longer than Slack keeps of a choice's value (cut, it would never match when submitted,
    so the choice could not be picked)."""
    strategy = config.strategies.get(flow.params.strategy or "")
    keys = strategy.targets if strategy is not None else ()
    targets = tuple(
        (config.targets[key].key, config.targets[key].display)
        for key in keys
        if key in config.targets
    )
    fields = tuple(f for f in flow.params.prompt_fields if f.name not in SPECIAL_FIELDS)
    too_long = [f"target {name[:40]!r}…" for name, _ in targets if len(name) > MAX_OPTION_VALUE]
    too_long += [
        f"prompt_field {field.name}'s allowed value {value[:40]!r}…"
        for field in fields
        for value in field.allowed_values or ()
        if len(value) > MAX_OPTION_VALUE
    ]
    if too_long:
        raise FormConfigError(
            f"sym_flow.{flow.key}: {', '.join(too_long)} is longer than the "
            f"{MAX_OPTION_VALUE} characters Slack keeps of a choice's value; shorten it to "
            "offer it in the /jitflow form"
        )
    return FlowForm(
        flow.name,
        flow.label or flow.name,
        targets,
        flow.durations,
        fields,
        initial_form(flow, fields),
    )


def opened_state(form: FlowForm, channel: str, changing: frozenset[str]) -> ModalState:
    """The state of a modal just opened: the form as configured."""
    shown = frozenset(field.name for field in form.fields)
    return ModalState(form.flow, channel, form.base, form.base, changing & shown)


def _text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:MAX_OPTION_TEXT]}


def slack_option(value: Any, label: str) -> dict[str, Any]:
    """A choice as Slack's option object. The value is cut only as a last guard: where choices
    are made (``flow_form``, ``prompt_form.choice_problem``) a longer one is refused."""
    return {"text": _text(label or str(value)), "value": str(value)[:MAX_OPTION_VALUE]}


def _select(
    block: str, label: str, options: list[tuple[str, str]], optional: bool
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block,
        "optional": optional,
        "label": _text(label),
        "element": {
            "type": "static_select",
            "action_id": ACTION_ID,
            "options": [slack_option(value, text) for value, text in options[:MAX_OPTIONS]],
        },
    }


def _chosen(value: Any) -> str | None:
    if isinstance(value, FieldOption):
        value = value.value
    return None if value is None else str(value)


def _element(field: FormField, prefetched: bool) -> dict[str, Any]:
    """The input of one field: a search over prefetched choices, a select, or a text box."""
    chosen = _chosen(field.value)
    if prefetched:
        element: dict[str, Any] = {
            "type": "external_select",
            "action_id": ACTION_ID,
            "min_query_length": 0,
            "placeholder": _text("Type to search"),
        }
        if chosen is not None:
            label = field.value.label if isinstance(field.value, FieldOption) else chosen
            element["initial_option"] = slack_option(chosen, label)
        return element
    if field.current_allowed_values:
        options = [
            slack_option(o.value, o.label) for o in field.current_allowed_values[:MAX_OPTIONS]
        ]
        element = {"type": "static_select", "action_id": ACTION_ID, "options": options}
        initial = next((o for o in options if o["value"] == chosen), None)
        if initial is not None:
            element["initial_option"] = initial
        return element
    element = {
        "type": "plain_text_input",
        "action_id": ACTION_ID,
        "multiline": field.name == "reason",
    }
    if chosen:
        element["initial_value"] = chosen
    return element


def _field_block(field: FormField, state: ModalState, prefetched: bool) -> dict[str, Any]:
    label = field.label or field.name.replace("_", " ").capitalize()
    element = _element(field, prefetched)
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id(field.name, state.rev),
        "optional": not field.required,
        "label": _text(label),
        "element": element,
    }
    if field.name in state.changing:
        block["dispatch_action"] = True
        if element["type"] == "plain_text_input":
            element["dispatch_action_config"] = {"trigger_actions_on": ["on_enter_pressed"]}
    return block


def _shown_value(element: dict[str, Any]) -> str | None:
    """What an input shows when drawn, as its submission will report it untouched."""
    initial = element.get("initial_option")
    if isinstance(initial, dict):
        return value_text(initial.get("value"))
    return value_text(element.get("initial_value"))


def _section(block: str, text: str) -> dict[str, Any]:
    return {"type": "section", "block_id": block, "text": {"type": "mrkdwn", "text": text[:3000]}}


def request_view(form: FlowForm, state: ModalState) -> dict[str, Any]:
    """The modal for ``form`` as ``state`` has it; ``FormTooLarge`` when the handlers' changes
    do not fit in Slack's metadata."""
    blocks: list[dict[str, Any]] = []
    if state.error:
        blocks.append(_section(ERROR_BLOCK, f":warning: {state.error}"))
    if state.form.additional_header_text:
        blocks.append(_section(HEADER_BLOCK, state.form.additional_header_text))
    blocks += [
        _select(TARGET_BLOCK, "What", [(name, label) for name, label in form.targets], False),
        _select(
            DURATION_BLOCK,
            "For how long",
            [(str(seconds), duration_text(seconds)) for seconds in form.durations],
            False,
        ),
    ]
    prefetched = form.prefetched
    shown: dict[str, str | None] = {}
    for field in state.form.fields.values():
        if not field.visible:
            continue
        block = _field_block(field, state, field.name in prefetched)
        blocks.append(block)
        if field.name in state.changing:
            shown[field.name] = _shown_value(block["element"])
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": metadata(state, shown),
        "title": _text("Request access"),
        "submit": _text("Request"),
        "close": _text("Cancel"),
        "blocks": blocks,
    }
