"""The request form as Sym's SDK shows it to ``on_change_<field>`` handlers (``SymPromptForm``).

The form starts from the flow's prompt fields as configured (label, required, visible, the
allowed values as ``FieldOption``s, the default as the value) and handlers change it while a
person fills it in. This module builds that first form and checks what a handler returns, so
that what the form shows next is something jitflow can render and validate: a field's name, type
and original choices stay as configured (Sym makes them immutable), and a handler cannot add a
field the flow does not have.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from jitflow.config.models import Flow
from jitflow.config.models import PromptField as ConfigField
from jitflow.reducer_runtime.outcomes import OutcomeError, short_text
from jitflow.sdk.forms import FieldOption, FieldType, PromptField, SymPromptForm

#: The configuration's prompt field types as the SDK's ``FieldType``.
FIELD_TYPES: dict[str, FieldType] = {
    "string": FieldType.STRING,
    "int": FieldType.INT,
    "boolean": FieldType.BOOL,
    "duration": FieldType.DURATION,
    "list": FieldType.STR_LIST,
    "date": FieldType.STRING,
    "datetime": FieldType.STRING,
}


#: Slack keeps this many characters of a choice's value: a longer one would be cut, and the cut
#: value would never match the choice when the form comes back.
MAX_CHOICE_VALUE = 150


def choice_problem(choice: Any) -> str | None:
    """Why user code's ``choice`` cannot be offered in the form, or None. Checked here because
    ``FieldOption.model_construct`` (or assigning to a field) skips the SDK's own checks, and
    the front door must not fail on what it then finds (a label that is not text). Short: the
    person may read it in a choice, where Slack shows 75 characters."""
    if not isinstance(choice, FieldOption):
        return f"{_shown(choice)} is not a FieldOption"
    label = getattr(choice, "label", None)
    value = getattr(choice, "value", None)
    if not isinstance(label, str):
        return f"label {_shown(label)} is not text"
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"value {_shown(value)} is not text or a whole number"
    if len(str(value)) > MAX_CHOICE_VALUE:
        return (
            f"value {_shown(str(value)[:20])}… has {len(str(value))} characters "
            f"(Slack keeps {MAX_CHOICE_VALUE})"
        )
    return None


def option(value: str) -> FieldOption:
    """A configured allowed value as a choice. Built without the SDK's 55-character check:
    the configuration, not a handler, wrote it, and Slack's own limit is what applies."""
    return FieldOption.model_construct(value=value, label=value[:55])


def form_field(field: ConfigField) -> PromptField:
    """A configured prompt field as the SDK's ``PromptField``, its default as the value (the
    matching ``FieldOption`` for a field with choices, as Sym represents a selected choice)."""
    options = [option(value) for value in field.allowed_values or ()]
    value: Any = field.default
    if options and value is not None:
        value = next((o for o in options if o.value == str(value)), None)
    return PromptField(
        name=field.name,
        type=FIELD_TYPES.get(field.type, FieldType.STRING),
        value=value,
        label=field.label,
        required=field.required,
        current_allowed_values=options,
        original_allowed_values=list(options),
        visible=field.visible,
    )


def initial_form(flow: Flow, fields: Iterable[ConfigField]) -> SymPromptForm:
    """The form of ``flow`` before anyone changed it: ``fields`` as configured."""
    return SymPromptForm(
        fields=OrderedDict((field.name, form_field(field)) for field in fields),
        flow_vars=dict(flow.vars),
        additional_header_text=flow.params.additional_header_text,
    )


def checked_form(returned: Any, given: SymPromptForm) -> SymPromptForm:
    """What an ``on_change_*`` handler returned, checked against the form it was ``given``.

    Raises ``OutcomeError`` saying what is wrong. A field the handler dropped stays as it was.
    """
    if not isinstance(returned, SymPromptForm):
        raise OutcomeError(
            f"returned {short_text(returned)}; an on_change handler returns the form it was "
            "given (a SymPromptForm), changed or not"
        )
    unknown = sorted(set(returned.fields) - set(given.fields))
    if unknown:
        raise OutcomeError(
            f"returned a form with fields the flow does not have: {', '.join(unknown)}; "
            "a handler changes the flow's fields, it cannot add any"
        )
    fields: OrderedDict[str, PromptField] = OrderedDict()
    for name, before in given.fields.items():
        after = returned.fields.get(name, before)
        if not isinstance(after, PromptField):
            raise OutcomeError(f"returned {short_text(after)} as field {name!r}, not a PromptField")
        fields[name] = _checked_field(name, after, before)
    header = returned.additional_header_text
    if header is not None and not isinstance(header, str):
        raise OutcomeError(f"returned additional_header_text {short_text(header)}, not text")
    return SymPromptForm(fields=fields, flow_vars=given.flow_vars, additional_header_text=header)


def _shown(value: Any) -> str:
    """A wrong value as the handler wrote it (text quoted: ``'no'`` is not ``False``)."""
    return short_text(repr(value))


def _checked_field(name: str, after: PromptField, before: PromptField) -> PromptField:
    """``after`` with its types checked (pydantic does not check assignments) and its
    immutable parts (name, type, original choices) as they were."""
    for attribute in ("visible", "required"):
        if not isinstance(getattr(after, attribute), bool):
            raise OutcomeError(
                f"set {name}.{attribute} to {_shown(getattr(after, attribute))}; "
                "it is True or False"
            )
    if after.label is not None and not isinstance(after.label, str):
        raise OutcomeError(f"set {name}.label to {_shown(after.label)}; it is text or None")
    choices = after.current_allowed_values
    if not isinstance(choices, list) or not all(isinstance(c, FieldOption) for c in choices):
        raise OutcomeError(
            f"set {name}.current_allowed_values to {_shown(choices)}; it is a list of "
            "FieldOption(value=..., label=...)"
        )
    for choice in choices:
        problem = choice_problem(choice)
        if problem:
            raise OutcomeError(f"set {name}.current_allowed_values with a bad choice: {problem}")
    value = after.value
    if not (value is None or isinstance(value, str | int | float | bool | FieldOption)):
        raise OutcomeError(
            f"set {name}.value to {_shown(value)}; it is text, a number, True/False or one "
            "of the field's FieldOptions"
        )
    return PromptField.model_construct(
        name=before.name,
        type=before.type,
        value=value,
        label=after.label,
        required=after.required,
        current_allowed_values=list(choices),
        original_allowed_values=list(before.original_allowed_values),
        visible=after.visible,
    )
