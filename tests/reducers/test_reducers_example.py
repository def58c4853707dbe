"""``reducers/aptible_access.py``, the example of ``examples/aptible``, with that flow's vars."""

from __future__ import annotations

from pathlib import Path

import pytest
from reducer_test_support import REQUESTER, event, make_config
from temporalio.testing import ActivityEnvironment

from activities.reducers import ReducerActivities
from jitflow.config.loader import load_config
from jitflow.config.models import Implementation
from jitflow.contracts.events import HookCall, HookOutcome, PermissionsCall
from jitflow.reducer_runtime import check_implementations

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

EXAMPLE_VARS = {"approvers": "bob@example.com", "on_call": "carol@example.com"}


@pytest.fixture
def example() -> ReducerActivities:
    config = make_config(
        Implementation(kind="module", module="reducers.aptible_access"), vars=EXAMPLE_VARS
    )
    return ReducerActivities(config, lambda: {"admin@example.com": "admin"})


def on_request(acts: ReducerActivities, by: str, reason: str) -> HookOutcome:
    data = event(by=by, fields={"reason": reason}).model_copy(
        update={"requester": event(by=by).user}
    )
    outcome: HookOutcome = ActivityEnvironment().run(
        acts.run_hook, HookCall(flow="this", hook="on_request", event=data)
    )
    return outcome


def test_approvers_come_from_the_flow_vars(example: ReducerActivities) -> None:
    result = ActivityEnvironment().run(
        example.get_permissions, PermissionsCall(flow="this", event=event())
    )
    assert (result.source, result.approvers, result.levels) == (
        "get_permissions",
        ("bob@example.com",),
        (),
    )
    assert not result.allow_self_approval and result.role_of("admin@example.com") == "admin"


def test_without_approvers_only_admins_decide() -> None:
    config = make_config(Implementation(kind="module", module="reducers.aptible_access"))
    result = ActivityEnvironment().run(
        ReducerActivities(config, dict).get_permissions, PermissionsCall(flow="this", event=event())
    )
    assert (result.approvers, result.levels) == ((), ("admin",))


def test_on_call_requests_are_auto_approved(example: ReducerActivities) -> None:
    outcome = on_request(example, "carol@example.com", "database migration")
    assert outcome.action == "approve"
    assert outcome.fields == {"reason": "Auto-approved, on call: database migration"}
    assert on_request(example, REQUESTER, "database migration") == HookOutcome(called=True)


@pytest.mark.parametrize("reason", ["", "   ", "because"])
def test_requests_without_a_real_reason_are_ignored(
    example: ReducerActivities, reason: str
) -> None:
    outcome = on_request(example, "carol@example.com", reason)
    assert outcome.action == "ignore"
    assert outcome.message == "Please give a reason of at least 10 characters."


def test_after_escalate_records_who_got_what(example: ReducerActivities) -> None:
    outcome: HookOutcome = ActivityEnvironment().run(
        example.run_hook, HookCall(flow="this", hook="after_escalate", event=event("escalate"))
    )
    assert outcome.message == f"{REQUESTER} has Admin Role for 10 min"


def test_the_example_configuration_loads_its_reducers() -> None:
    config = load_config(EXAMPLES / "aptible", environ={})
    assert check_implementations(config) == []
    acts = ReducerActivities(config, dict)
    data = event().model_copy(update={"flow": next(iter(config.flows))})
    result = ActivityEnvironment().run(
        acts.get_permissions, PermissionsCall(flow=data.flow, event=data)
    )
    assert result.approvers == ("bob@example.com",)


def test_a_misnamed_hook_in_a_tf_flow_file_is_reported(tmp_path: Path) -> None:
    for tf in (EXAMPLES / "aptible").glob("*.tf"):
        text = tf.read_text().replace('"reducers.aptible_access"', 'file("impl.py")')
        (tmp_path / tf.name).write_text(text)
    (tmp_path / "impl.py").write_text("import os\n\n\ndef on_requst(event):\n    return None\n")
    [error] = check_implementations(load_config(tmp_path, environ={}))
    assert error == (
        f"sym_flow.this: {tmp_path / 'impl.py'}:4: on_requst: not a reducer or hook name: "
        "did you mean on_request? (dispatch is by name; rename it, or give a helper a name "
        "further from the handler names)"
    )
