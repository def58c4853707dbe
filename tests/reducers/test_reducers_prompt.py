"""The request form's functions, called directly (``PromptCalls``): ``on_prompt``'s decision,
``@prefetch`` choices, ``on_change_<field>`` forms, and what jitflow refuses of each, with the
function's name and line; and ``jitflow validate``'s checks of them."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import pytest
from reducer_test_support import file_implementation, make_config, write_module

from jitflow.config.models import Flow, FlowParams, JitflowConfig, PromptField
from jitflow.reducer_runtime import ImplementationError, ReducerFailed, ReducerRunner
from jitflow.reducer_runtime.checks import check_implementations
from jitflow.reducer_runtime.prompt import PromptCalls
from jitflow.reducer_runtime.prompt_form import initial_form
from jitflow.sdk.forms import FieldOption, FieldType, SymPromptForm

IMPL = """
from reducers import ApprovalTemplate, FieldOption, hook, prefetch


@hook
def on_prompt(event):
    seen.append((event.name, event.user.email, event.user.role.value, event.channel.identifier))
    if event.flow.vars.get("mode") == "closed":
        return ApprovalTemplate.ignore()
    if event.flow.vars.get("mode") == "approve":
        return ApprovalTemplate.approve()
    return ApprovalTemplate.request()


seen = []


@prefetch(field_name="ticket")
def tickets(event):
    mode = event.flow.vars.get("mode")
    if mode == "bad":
        return ["OPS-1"]
    if mode == "many":
        return [FieldOption(value=f"OPS-{n}", label=f"OPS-{n}") for n in range(1001)]
    if mode == "dict":
        return [FieldOption(value={"id": 1}, label="one")]
    if mode == "long":
        return [FieldOption.model_construct(value="x" * 151, label="long")]
    return [FieldOption(value="OPS-1", label=f"OPS-1 for {event.user.email}")]


def on_change_my_field(username, form):
    mode = form.flow_vars.get("mode")
    if mode == "bad":
        return None
    if mode == "grow":
        form.fields["extra"] = form.fields["my-field"]
        return form
    if mode == "long":
        form.fields["my-field"].current_allowed_values = [
            FieldOption.model_construct(value="y" * 151, label="long")
        ]
        return form
    form.fields["notes"].visible = False
    form.fields["notes"].name = "renamed"
    form.fields["my-field"].current_allowed_values = [FieldOption(value="b", label="B")]
    return form
"""


def config_with(tmp_path: Path, mode: str = "") -> JitflowConfig:
    impl = write_module(tmp_path, IMPL)
    base = make_config(file_implementation(impl), vars={"mode": mode} if mode else {})
    fields = (
        PromptField(name="my-field", type="string", allowed_values=("a", "b")),
        PromptField(name="notes", type="string", required=False),
        PromptField(name="ticket", type="string", prefetch=True),
    )
    flow = base.flows["this"]
    flow = flow.model_copy(
        update={"params": flow.params.model_copy(update={"prompt_fields": fields})}
    )
    return base.model_copy(update={"flows": {"this": flow}})


def calls(config: JitflowConfig) -> PromptCalls:
    return PromptCalls(ReducerRunner(config, lambda: {"alice@example.com": "admin"}))


def form_of(config: JitflowConfig) -> SymPromptForm:
    flow = config.flows["this"]
    return initial_form(flow, flow.params.prompt_fields)


def test_on_prompt_gets_the_prompt_event_and_decides_whether_the_form_shows(
    tmp_path: Path,
) -> None:
    prompt = calls(config_with(tmp_path))
    answer = prompt.open("this", "alice@example.com", "C0APPROVALS")
    assert (answer.show, answer.message, answer.changing) == (True, None, frozenset({"my-field"}))
    loaded = prompt.runner.implementation("this")
    assert loaded is not None
    assert loaded.module.seen == [("prompt", "alice@example.com", "admin", "C0APPROVALS")]

    closed = calls(config_with(tmp_path, "closed"))
    shut = closed.open("this", "bob@example.com", None)
    assert (
        shut.show is False
        and shut.message == "This flow's rules do not let you request access now."
    )


def test_on_prompt_may_not_approve(tmp_path: Path) -> None:
    with pytest.raises(ReducerFailed) as failed:
        calls(config_with(tmp_path, "approve")).open("this", "alice@example.com", None)
    assert failed.value.function == "on_prompt"
    assert "returned ApprovalTemplate.approve()" in failed.value.message
    assert failed.value.where.endswith("impl.py:5")


def test_prefetch_returns_field_options_and_nothing_else(tmp_path: Path) -> None:
    (option,) = calls(config_with(tmp_path)).prefetch("this", "ticket", "bob@example.com")
    assert option == FieldOption(value="OPS-1", label="OPS-1 for bob@example.com")
    with pytest.raises(ReducerFailed) as failed:
        calls(config_with(tmp_path, "bad")).prefetch("this", "ticket", "bob@example.com")
    assert failed.value.function == "tickets"
    assert "a prefetch function returns a list of FieldOption" in failed.value.message
    with pytest.raises(ImplementationError, match="no @prefetch\\(field_name='notes'\\)"):
        calls(config_with(tmp_path)).prefetch("this", "notes", "bob@example.com")


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("many", "returned 1001 choices; a prefetch function returns at most 1000"),
        ("dict", "returned a bad choice: value {'id': 1} is not text or a whole number"),
        ("long", "returned a bad choice: value 'xxxxxxxxxxxxxxxxxxxx'… has 151 characters"),
    ],
)
def test_prefetch_choices_the_form_cannot_offer_are_refused_in_words(
    tmp_path: Path, mode: str, says: str
) -> None:
    """The front door filters choices by label and gives their values to Slack, which keeps
    150 characters of one: what it could not use is refused here, not met as a crash there."""
    with pytest.raises(ReducerFailed) as failed:
        calls(config_with(tmp_path, mode)).prefetch("this", "ticket", "bob@example.com")
    assert failed.value.function == "tickets" and says in failed.value.message


def test_on_change_finds_the_handler_by_the_field_name_and_keeps_what_is_immutable(
    tmp_path: Path,
) -> None:
    config = config_with(tmp_path)
    given = form_of(config)
    changed = calls(config).on_change("this", "my-field", "alice@example.com", given)
    assert changed is not None
    assert list(changed.fields) == ["my-field", "notes", "ticket"]
    notes = changed.fields["notes"]
    assert (notes.name, notes.visible) == ("notes", False)  # the name stays, visibility changes
    field = changed.fields["my-field"]
    assert field.type == FieldType.STRING
    assert [o.value for o in field.current_allowed_values] == ["b"]
    assert [o.value for o in field.original_allowed_values] == ["a", "b"]
    assert given.fields["notes"].visible is True  # the handler changed a copy
    assert calls(config).on_change("this", "notes", "alice@example.com", given) is None


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("bad", "returned None; an on_change handler returns the form it was given"),
        ("grow", "returned a form with fields the flow does not have: extra"),
        (
            "long",
            "set my-field.current_allowed_values with a bad choice: value 'yyyyyyyyyyyyyyyyyyyy'… "
            "has 151 characters (Slack keeps 150)",
        ),
    ],
)
def test_on_change_must_return_the_flows_form(tmp_path: Path, mode: str, says: str) -> None:
    config = config_with(tmp_path, mode)
    with pytest.raises(ReducerFailed) as failed:
        calls(config).on_change("this", "my-field", "alice@example.com", form_of(config))
    assert failed.value.function == "on_change_my_field" and says in failed.value.message


def test_a_handler_setting_a_wrong_type_is_refused(tmp_path: Path) -> None:
    impl = write_module(
        tmp_path,
        """
        def on_change_notes(username, form):
            form.fields["notes"].visible = "no"
            return form
        """,
    )
    config = make_config(file_implementation(impl))
    flow = config.flows["this"]
    notes = PromptField(name="notes", type="string")
    flow = flow.model_copy(update={"params": FlowParams(strategy="this", prompt_fields=(notes,))})
    config = config.model_copy(update={"flows": {"this": flow}})
    form = SymPromptForm(fields=OrderedDict(notes=initial_form(flow, (notes,)).fields["notes"]))
    with pytest.raises(ReducerFailed, match=r"set notes\.visible to 'no'; it is True or False"):
        calls(config).on_change("this", "notes", "alice@example.com", form)


def test_validate_reports_missing_prefetch_functions_and_on_change_handlers(
    tmp_path: Path,
) -> None:
    impl = write_module(tmp_path, "def helper():\n    return 1\n")
    on_change = write_module(
        tmp_path, "def on_change_other(username, form):\n    return form\n", "oc.py"
    )
    config = make_config(file_implementation(impl))
    fields = (
        PromptField(name="ticket", type="string", prefetch=True),
        PromptField(name="urgency", type="string", on_change=str(on_change)),
    )
    flow: Flow = config.flows["this"]
    flow = flow.model_copy(update={"params": FlowParams(strategy="this", prompt_fields=fields)})
    errors = check_implementations(config.model_copy(update={"flows": {"this": flow}}))
    assert errors == [
        f"sym_flow.this: prompt field ticket has prefetch = true, but {impl} has no "
        "@prefetch(field_name='ticket') function",
        f"sym_flow.this: on_change of urgency: {on_change} defines no "
        "on_change_urgency(username, form)",
    ]


def test_two_prefetch_functions_for_one_field_are_refused(tmp_path: Path) -> None:
    impl = write_module(
        tmp_path,
        """
        from reducers import prefetch

        @prefetch(field_name="ticket")
        def first(event):
            return []

        @prefetch(field_name="ticket")
        def second(event):
            return []
        """,
    )
    with pytest.raises(ImplementationError, match="a second prefetch function for field 'ticket'"):
        calls(make_config(file_implementation(impl))).prefetch("this", "ticket", "a@example.com")
