"""A Sym-style impl.py runs in jitflow with only its import lines changed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from reducer_test_support import REQUESTER, event, file_implementation, make_config
from temporalio.testing import ActivityEnvironment

from activities.reducers import ReducerActivities
from jitflow.contracts.events import EventData, HookCall, HookOutcome, PermissionsCall
from jitflow.reducer_runtime import check_implementations

PORTED = Path(__file__).parent / "ported" / "impl.py"

#: The modules of Sym's SDK that a port may import, as ``reducers.<module>``.
SYM_SDK_MODULES = {
    "annotations",
    "event",
    "flow",
    "user",
    "target",
    "strategy",
    "strategies",
    "secret",
    "resource",
    "forms",
    "field_option",
    "notifications",
    "request_destination",
    "request_permission",
    "templates",
    "errors",
    "exceptions",
    "utils",
    "models",
    "integrations",
}

VARS = {"approvers": "bob@example.com,carol@example.com", "request_channel": "#sym-requests"}


@pytest.fixture
def ported() -> ReducerActivities:
    config = make_config(file_implementation(PORTED), vars=VARS)
    assert check_implementations(config) == []
    return ReducerActivities(config, lambda: {"bob@example.com": "member"})


def hook(acts: ReducerActivities, name: str, data: EventData) -> HookOutcome:
    outcome: HookOutcome = ActivityEnvironment().run(
        acts.run_hook, HookCall(flow="this", hook=name, event=data)
    )
    return outcome


def test_the_port_changed_only_import_lines() -> None:
    text = PORTED.read_text()
    sym_original = text.replace("from reducers", "from sym.sdk")
    changed = [
        line
        for line, original in zip(text.splitlines(), sym_original.splitlines(), strict=True)
        if line != original
    ]
    assert changed and all(re.match(r"from reducers\.[\w.]+ import ", line) for line in changed)
    modules = {re.match(r"from reducers\.([\w.]+) import", line)[1] for line in changed}  # type: ignore[index]
    assert {m.split(".")[0] for m in modules} <= SYM_SDK_MODULES
    assert "jitflow" not in text.replace("to jitflow", "").replace("jitflow's", "")


def test_permissions_and_notifications(ported: ReducerActivities) -> None:
    result = ActivityEnvironment().run(
        ported.get_permissions, PermissionsCall(flow="this", event=event())
    )
    assert result.source == "get_permissions"
    assert result.approvers == ("bob@example.com", "carol@example.com")
    assert result.webapp_view_levels == ("member",) and not result.allow_self_approval
    assert result.notifications[0]["destinations"][0]["channel_name"] == "#sym-requests"
    assert result.role_of("bob@example.com") == "member"


def test_break_glass_requests_are_auto_approved(ported: ReducerActivities) -> None:
    glass = hook(ported, "on_request", event(fields={"reason": "Break-Glass: prod is down"}))
    assert glass.action == "approve"
    assert glass.fields == {"reason": "Auto-approved break-glass: Break-Glass: prod is down"}
    assert hook(ported, "on_request", event()) == HookOutcome(called=True)


def test_only_approvers_or_the_requester_deny(ported: ReducerActivities) -> None:
    assert hook(ported, "on_deny", event("deny", by="carol@example.com")).action is None
    assert hook(ported, "on_deny", event("deny", by=REQUESTER)).action is None
    refused = hook(ported, "on_deny", event("deny", by="mallory@example.com"))
    assert (refused.action, refused.message) == (
        "ignore",
        "You are not authorized to deny this request.",
    )


def test_after_escalate_records_a_message(ported: ReducerActivities) -> None:
    data = event("escalate", step_outputs={"escalate": {"membership_id": "m-1"}})
    outcome = hook(ported, "after_escalate", data)
    output = {"membership_id": "m-1", "body": {"membership_id": "m-1"}, "errors": []}
    expected = f"{REQUESTER} escalated to Admin Role: {output}"
    assert outcome == HookOutcome(called=True, message=expected, returned=expected)
