"""The request modal's state without Slack: what ``private_metadata`` carries between handlers,
and the submission checked against the form as it was shown (pure functions)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from jitflow.config.models import (
    AptibleRoleTarget,
    AptibleStrategy,
    Flow,
    FlowParams,
    JitflowConfig,
    PromptField,
)
from jitflow.sdk.forms import FieldOption
from jitflow.slack.form_state import FormTooLarge, field_of_block, restored
from jitflow.slack.form_submission import submitted_request
from jitflow.slack.request_modal import (
    DURATION_BLOCK,
    TARGET_BLOCK,
    FlowForm,
    FormConfigError,
    flow_form,
    opened_state,
    request_view,
)

FIELDS = (
    PromptField(name="reason", type="string"),
    PromptField(name="ticket", type="string", label="Ticket"),
    PromptField(name="size", type="int", required=False, allowed_values=("1", "2")),
)


def form(fields: tuple[PromptField, ...] = FIELDS) -> FlowForm:
    flow = Flow(
        key="f",
        name="f",
        vars={"team": "ops"},
        params=FlowParams(strategy="s", prompt_fields=fields, additional_header_text="Read me"),
        durations=(600,),
    )
    config = JitflowConfig(
        flows={"f": flow},
        strategies={"s": AptibleStrategy(key="s", name="s", integration="a", targets=("t",))},
        targets={"t": AptibleRoleTarget(key="t", name="t", role_id="r")},
    )
    return flow_form(config, flow)


def submitted(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``view`` as Slack sends it back with these inputs (by block id) filled."""
    state: dict[str, Any] = {
        TARGET_BLOCK: {"value": {"selected_option": {"value": "t"}}},
        DURATION_BLOCK: {"value": {"selected_option": {"value": "600"}}},
    }
    for block, value in values.items():
        state[block] = {"value": {"value": value}}
    return {**view, "state": {"values": state}}


def test_handler_changes_survive_the_round_trip_through_the_metadata() -> None:
    flow = form()
    opened = opened_state(flow, "C1", frozenset({"ticket"}))
    changed = opened.form.model_copy(deep=True)
    changed.fields["ticket"].visible = False
    changed.fields["ticket"].value = "OPS-9"
    changed.fields["size"].label = "How many"
    changed.fields["size"].current_allowed_values = [FieldOption(value="2", label="two")]
    changed.additional_header_text = "Urgent: be brief"
    view = request_view(flow, dataclasses.replace(opened, form=changed, rev=3))
    assert [b["block_id"] for b in view["blocks"]][-2:] == [
        "jitflow_field_reason~3",
        "jitflow_field_size~3",
    ]
    assert view["blocks"][0]["text"]["text"] == "Urgent: be brief"

    back = restored(submitted(view, {"jitflow_field_reason~3": "why not"}), flow.base)
    assert (back.flow, back.channel, back.rev, back.changing) == (
        "f",
        "C1",
        3,
        frozenset({"ticket"}),
    )
    ticket, size = back.form.fields["ticket"], back.form.fields["size"]
    assert (ticket.visible, ticket.value) == (False, "OPS-9")
    assert size.label == "How many" and [o.label for o in size.current_allowed_values] == ["two"]
    assert back.form.fields["reason"].value == "why not"
    assert back.form.additional_header_text == "Urgent: be brief"
    assert back.form.flow_vars == {"team": "ops"}
    assert field_of_block("jitflow_field_my~field~12") == "my~field"


def test_the_submission_follows_the_shown_form() -> None:
    flow = form()
    opened = opened_state(flow, "C1", frozenset())
    changed = opened.form.model_copy(deep=True)
    changed.fields["ticket"].visible = False  # required, hidden, and given no value
    changed.fields["size"].current_allowed_values = [FieldOption(value="2", label="two")]
    view = request_view(flow, dataclasses.replace(opened, form=changed, rev=1))
    filled = submitted(view, {"jitflow_field_reason~1": "r", "jitflow_field_size~1": "1"})
    errors = submitted_request(flow, filled, restored(filled, flow.base), "a@example.com", {})
    assert errors == {
        TARGET_BLOCK: "The flow requires ticket, which the form hides without a value "
        "(its on_change handler should set one).",
        "jitflow_field_size~1": "Pick one of 2.",  # the choices shown, not the configured ones
    }

    changed.fields["ticket"].value = "OPS-1"
    view = request_view(flow, dataclasses.replace(opened, form=changed, rev=2))
    filled = submitted(view, {"jitflow_field_reason~2": "r", "jitflow_field_size~2": "2"})
    request = submitted_request(flow, filled, restored(filled, flow.base), "a@example.com", {})
    assert not isinstance(request, dict)
    assert (request.reason, request.fields) == ("r", {"ticket": "OPS-1", "size": "2"})


def test_changes_too_large_for_slacks_metadata_are_refused() -> None:
    flow = form()
    opened = opened_state(flow, "C1", frozenset())
    changed = opened.form.model_copy(deep=True)
    changed.fields["size"].current_allowed_values = [
        FieldOption(value=f"v{i:050d}", label=f"choice {i}") for i in range(60)
    ]
    with pytest.raises(FormTooLarge, match="Slack keeps 3000"):
        request_view(flow, dataclasses.replace(opened, form=changed))


def test_a_configured_choice_longer_than_slack_keeps_is_refused_where_the_form_is_built() -> None:
    # Cut to Slack's 150 characters, the value would never match the choice when submitted.
    long = PromptField(name="team", type="string", allowed_values=("ops", "x" * 151))
    with pytest.raises(FormConfigError) as refused:
        form((*FIELDS, long))
    assert str(refused.value).startswith(
        f"sym_flow.f: prompt_field team's allowed value {'x' * 40!r}… is longer than the 150 "
        "characters Slack keeps"
    )
    fits = PromptField(name="team", type="string", allowed_values=("ops", "x" * 150))
    assert form((*FIELDS, fits)).fields[-1].allowed_values == ("ops", "x" * 150)
