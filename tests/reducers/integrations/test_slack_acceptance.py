"""Sym-style modules that use Slack behave as their code says, run the way the worker runs them
(``ReducerActivities``, on an activity's thread) against the Slack emulator over real HTTP.

Who may approve is then decided by the workflow's own rule (``decision_refusal``, what its
update validators apply to the recorded ``Permissions``), so "a channel member may approve" is
checked end to end from the module's ``get_approvers`` to the refusal text a non-member sees.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from integration_support import (
    ACCESS_REQUESTS_CHANNEL,
    APPROVERS_CHANNEL,
    MODULES,
    PD_SUBDOMAIN,
    RunningSlack,
    config_with,
    integration,
    slack_integration,
)
from reducer_test_support import REQUESTER, event
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.reducers import REDUCER_ERROR, ReducerActivities
from jitflow.config.models import JitflowConfig, SecretRef, SymIntegration
from jitflow.contracts.access import ResolvedRequest
from jitflow.contracts.events import (
    EventData,
    HookCall,
    HookOutcome,
    Permissions,
    PermissionsCall,
    TargetData,
)
from jitflow.emulator.slack_state import SlackChannel
from jitflow.emulator.slack_state import SlackUser as EmulatedUser
from jitflow.integrations import IntegrationServices
from jitflow.reducer_runtime import check_implementations
from jitflow.reducer_runtime.call_checks import call_issues
from jitflow.testing.service_emulators import RunningService
from workflows.permissions import decision_refusal

ROLES = {"admin@example.com": "admin"}
Acts = Callable[..., ReducerActivities]


@pytest.fixture
def acts(tokens: dict[str, SecretRef], slack_services: IntegrationServices) -> Acts:
    """``acts(module, slack=True, **vars)``: the worker's reducer activities over a flow using
    ``module``, with the Slack integration (or none)."""

    def make(module: str, slack: bool = True, **vars: str) -> ReducerActivities:
        integrations = [slack_integration(tokens["slack"])] if slack else []
        config = flow_config(module, integrations, vars)
        assert check_implementations(config) == []
        return ReducerActivities(config, lambda: dict(ROLES), integrations=slack_services)

    return make


def flow_config(
    module: str, integrations: list[SymIntegration], vars: Mapping[str, str]
) -> JitflowConfig:
    return config_with(MODULES / module, integrations, vars=dict(vars))


def hook(acts: ReducerActivities, name: str, data: EventData) -> HookOutcome:
    outcome: HookOutcome = ActivityEnvironment().run(
        acts.run_hook, HookCall(flow="this", hook=name, event=data)
    )
    return outcome


def permissions(acts: ReducerActivities) -> Permissions:
    result: Permissions = ActivityEnvironment().run(
        acts.get_permissions, PermissionsCall(flow="this", event=event())
    )
    return result


def resolved() -> ResolvedRequest:
    """The request as the workflow records it: Alice asks for the admin role."""
    return ResolvedRequest(
        flow_key="this",
        flow_name="aptible_access",
        target=TargetData(key="prod", name="main-aptible-admin-role", role_id="r"),
        strategy_key="this",
        integration_key="aptible",
        org_id="o",
        requester=REQUESTER,
        duration_seconds=600,
        allowed_durations=(600,),
        request_timeout_seconds=None,
        allow_revoke=True,
        schedule_deescalation=True,
        allow_guest_interaction=False,
        include_decision_message=False,
    )


# -- get_approvers returning slack.channel("#approvers") -----------------------------------------


def test_the_members_of_the_approvers_channel_approve_and_no_one_else(
    acts: Acts, workspace: RunningSlack
) -> None:
    result = permissions(acts("slack_channel_approvers.py"))
    assert result.source == "get_approvers"
    assert result.approvers == ("alice@example.com", "bob@example.com", "carol@example.com")
    assert result.allow_self_approval is False
    # The channel is still where the request is announced.
    assert result.notifications[0]["destinations"] == [
        {
            "kind": "SlackChannelName",
            "allow_self": False,
            "timeout": None,
            "channel_name": "#approvers",
        }
    ]
    request = resolved()
    assert decision_refusal(result, request, "bob@example.com", "approve") is None
    assert decision_refusal(result, request, "Carol@Example.com", "deny") is None
    refused = decision_refusal(result, request, "dave@example.com", "approve")
    assert refused is not None and "dave@example.com is not an approver" in refused
    assert "bob@example.com" in refused  # the refusal lists who may
    own = decision_refusal(result, request, REQUESTER, "approve")  # in the channel, but asked
    assert own is not None and "may not approve their own request" in own
    assert decision_refusal(result, request, "admin@example.com", "approve") is None


def test_a_new_channel_member_approves_the_next_request(
    acts: Acts, workspace: RunningSlack
) -> None:
    flow = acts("slack_channel_approvers.py")
    assert "dave@example.com" not in permissions(flow).approvers
    approvers = next(c for c in workspace.state.channels if c.name == "approvers")
    approvers.members.append("U0DAVE")
    assert "dave@example.com" in permissions(flow).approvers


def test_without_slack_the_channel_approves_nobody_but_admins_and_validate_says_so(
    acts: Acts, tokens: dict[str, SecretRef], workspace: RunningSlack
) -> None:
    result = permissions(acts("slack_channel_approvers.py", slack=False))
    assert result.approvers == ()
    assert decision_refusal(result, resolved(), "bob@example.com", "approve") is not None
    assert decision_refusal(result, resolved(), "admin@example.com", "approve") is None
    assert workspace.app.calls.total() == 0

    for integrations, why in [
        ([], "no slack integration is configured"),
        ([slack_integration(None)], "sym_integration.slack has no bot_token_secret"),
    ]:
        warning, by_name = call_issues(flow_config("slack_channel_approvers.py", integrations, {}))
        assert warning.severity == "warning" and why in warning.message
        assert "approves nobody but admins" in warning.message
        assert 'slack.channel("#approvers") names the approvers channel by name' in (
            by_name.message
        )
    with_slack = flow_config("slack_channel_approvers.py", [slack_integration(tokens["slack"])], {})
    assert [i.message for i in call_issues(with_slack)] == [by_name.message]


def test_when_slack_cannot_say_who_is_in_the_channel_the_request_fails_naming_it(
    acts: Acts, workspace: RunningSlack
) -> None:
    flow = acts("slack_channel_approvers.py")
    workspace.state.channels = [c for c in workspace.state.channels if c.name != "approvers"]
    with pytest.raises(ApplicationError) as missing:
        permissions(flow)
    assert missing.value.type == REDUCER_ERROR and missing.value.non_retryable
    assert missing.value.message.startswith("get_approvers (")
    assert "SlackError (Slack:CHANNEL_NOT_FOUND)" in missing.value.message
    assert "no channel #approvers" in missing.value.message

    workspace.state.down = True
    with pytest.raises(ApplicationError) as down:
        permissions(flow)
    assert "SlackError (Slack:SERVER_ERROR)" in down.value.message
    assert "HTTP 503" in down.value.message


# -- on_request: auto-approval for the on-call channel; after_request tells the team ----------------


def test_a_requester_in_the_on_call_channel_is_approved_at_once(
    acts: Acts, workspace: RunningSlack
) -> None:
    flow = acts("slack_on_call_channel.py", on_call_channel="#oncall")
    approved = hook(flow, "on_request", event())  # alice is in #oncall
    assert (approved.action, approved.message) == ("approve", "in the on-call channel")
    assert hook(flow, "on_request", event(by="bob@example.com")) == HookOutcome(called=True)


def test_send_message_arrives_in_the_channel(acts: Acts, workspace: RunningSlack) -> None:
    flow = acts("slack_on_call_channel.py", on_call_channel="#oncall")
    assert hook(flow, "after_request", event()).message == "the team was told"
    [message] = workspace.state.messages
    assert message.channel == ACCESS_REQUESTS_CHANNEL
    assert message.text == "alice@example.com asked for Admin Role: deploy hotfix for the outage"


@pytest.mark.parametrize("failure", ["outage", "unreachable"])
def test_when_slack_is_down_the_fallback_approves_normally_and_unguarded_calls_fail(
    acts: Acts, workspace: RunningSlack, failure: str
) -> None:
    flow = acts("slack_on_call_channel.py", on_call_channel="#oncall")
    if failure == "outage":
        workspace.state.down = True
        expected = "SlackError (Slack:SERVER_ERROR): Slack answered"
    else:
        workspace.stop()
        expected = "SlackError (Slack:UNREACHABLE): could not reach Slack"
    assert hook(flow, "on_request", event()) == HookOutcome(called=True)  # approvers decide
    with pytest.raises(ApplicationError) as caught:
        hook(flow, "after_request", event())
    assert caught.value.type == REDUCER_ERROR and caught.value.non_retryable
    assert caught.value.message.startswith("after_request (")
    assert expected in caught.value.message
    assert "chat.postMessage" in caught.value.message
    assert "xoxb-" not in caught.value.message


def test_without_a_slack_integration_the_error_names_what_is_missing(
    acts: Acts, workspace: RunningSlack
) -> None:
    flow = acts("slack_on_call_channel.py", slack=False, on_call_channel="#oncall")
    assert hook(flow, "on_request", event()) == HookOutcome(called=True)  # caught: fallback
    with pytest.raises(ApplicationError) as caught:
        hook(flow, "after_request", event())
    assert "raised SlackError (Slack:NOT_CONFIGURED)" in caught.value.message
    assert "no slack integration is configured for flow 'aptible_access'" in caught.value.message
    assert workspace.app.calls.total() == 0


# -- Sym's PagerDuty example: its except block posts to Slack -------------------------------------


def test_sym_pagerduty_example_reports_the_outage_in_slack(
    tokens: dict[str, SecretRef],
    services: IntegrationServices,
    pd_service: RunningService,
    workspace: RunningSlack,
) -> None:
    """``pagerduty_on_call.py`` is Sym's example as written: when PagerDuty fails, it posts the
    error to #access-requests and lets approvers decide."""
    both = IntegrationServices(
        secrets=services.secrets,
        endpoints={**services.endpoints, "slack": workspace.api_url},
    )
    config = config_with(
        MODULES / "pagerduty_on_call.py",
        [
            integration("pd", "pagerduty", PD_SUBDOMAIN, token=tokens["pagerduty"]),
            slack_integration(tokens["slack"]),
        ],
        vars={"schedule": "Primary"},
    )
    flow = ReducerActivities(config, lambda: dict(ROLES), integrations=both)
    pd_service.app.outage = 503
    assert hook(flow, "on_request", event()) == HookOutcome(called=True)
    [message] = workspace.state.messages
    assert message.channel == ACCESS_REQUESTS_CHANNEL
    assert message.text.startswith("Could not ask PagerDuty who is on call; approvers decide.")
    assert "PagerDuty" in message.text and "503" in message.text
    both.close()


# -- get_approvers written here, over the same workspace ---------------------------------------------


def approvers_module(tmp_path: Path, returned: str) -> str:
    """A module whose ``get_approvers`` returns the expression ``returned``; its path."""
    path = tmp_path / "impl.py"
    path.write_text(
        "from reducers.annotations import reducer\n"
        "from reducers.integrations import slack\n\n\n"
        f"@reducer\ndef get_approvers(event):\n    return {returned}\n"
    )
    return str(path)


def members_of(workspace: RunningSlack, name: str) -> list[str]:
    return next(c for c in workspace.state.channels if c.name == name).members


@pytest.mark.parametrize(
    ("returned", "allowed"),
    [
        # The lead may approve their own requests; #approvers' members may not theirs.
        ('[slack.user("lead@example.com", allow_self=True), slack.channel("#approvers")]', False),
        ('[slack.user("alice@example.com", allow_self=True), slack.channel("#approvers")]', True),
        ('[slack.channel("#approvers", allow_self=True), "lead@example.com"]', True),
        ('[slack.channel("#oncall"), slack.channel("#approvers", allow_self=True)]', True),
        ('[slack.channel("#access-requests", allow_self=True), slack.channel("#oncall")]', True),
        ('[slack.channel("#oncall"), slack.user("bob@example.com", allow_self=True)]', False),
        # In a fallback, only the destination the approvers come from counts.
        (
            'slack.fallback(slack.channel("#approvers"), '
            'slack.user("alice@example.com", allow_self=True))',
            False,
        ),
    ],
)
def test_self_approval_follows_the_destination_that_reaches_the_requester(
    acts: Acts, workspace: RunningSlack, tmp_path: Path, returned: str, allowed: bool
) -> None:
    result = permissions(acts(approvers_module(tmp_path, returned)))
    assert "alice@example.com" in result.approvers
    assert result.allow_self_approval is allowed
    own = decision_refusal(result, resolved(), REQUESTER, "approve")
    assert (own is None) is allowed


def test_a_channel_allowing_self_approval_does_not_when_the_requester_has_left_it(
    acts: Acts, workspace: RunningSlack, tmp_path: Path
) -> None:
    flow = acts(approvers_module(tmp_path, 'slack.channel("#approvers", allow_self=True)'))
    assert permissions(flow).allow_self_approval is True
    members_of(workspace, "approvers").remove("U0ALICE")
    assert permissions(flow).allow_self_approval is False


def test_a_fallback_approves_with_its_first_destination_that_reaches_someone(
    acts: Acts, workspace: RunningSlack, tmp_path: Path
) -> None:
    flow = acts(
        approvers_module(
            tmp_path,
            'slack.fallback(slack.channel("#approvers"), slack.channel("#access-requests"))',
        )
    )
    result = permissions(flow)
    assert result.approvers == ("alice@example.com", "bob@example.com", "carol@example.com")
    [record] = result.notifications
    assert (record["approvers_from"], record["skipped"]) == (0, [])
    refused = decision_refusal(result, resolved(), "dave@example.com", "approve")  # 2nd only
    assert refused is not None and "not an approver" in refused


def test_a_fallback_passes_over_destinations_slack_cannot_read_or_that_reach_nobody(
    acts: Acts, workspace: RunningSlack, tmp_path: Path
) -> None:
    workspace.state.channels.append(SlackChannel(id="C0EMPTY", name="empty"))
    flow = acts(
        approvers_module(
            tmp_path,
            'slack.fallback(slack.channel("#gone"), slack.channel("#empty"), '
            'slack.channel("#access-requests"), slack.user("lead@example.com"))',
        )
    )
    result = permissions(flow)
    assert result.approvers == (
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
    )
    [record] = result.notifications
    assert record["approvers_from"] == 2
    gone, empty = record["skipped"]
    assert gone["index"] == 0 and gone["why"].startswith("Slack:CHANNEL_NOT_FOUND: ")
    assert empty == {"index": 1, "why": "reaches nobody jitflow can name"}


def test_when_slack_is_down_a_fallback_approves_with_the_next_destination(
    acts: Acts, workspace: RunningSlack, tmp_path: Path
) -> None:
    workspace.state.down = True
    flow = acts(
        approvers_module(
            tmp_path, 'slack.fallback(slack.channel("#approvers"), slack.user("lead@example.com"))'
        )
    )
    result = permissions(flow)
    assert result.approvers == ("lead@example.com",)
    [record] = result.notifications
    assert record["approvers_from"] == 1
    assert record["skipped"][0]["why"].startswith("Slack:SERVER_ERROR: ")


def test_when_no_fallback_destination_reaches_anyone_only_admins_approve(
    acts: Acts, workspace: RunningSlack, tmp_path: Path
) -> None:
    workspace.state.down = True
    flow = acts(
        approvers_module(
            tmp_path, 'slack.fallback(slack.channel("#approvers"), slack.user("U0BOB"))'
        )
    )
    result = permissions(flow)
    assert result.approvers == () and result.levels == ()
    assert [s["index"] for s in result.notifications[0]["skipped"]] == [0, 1]
    assert decision_refusal(result, resolved(), "bob@example.com", "approve") is not None
    assert decision_refusal(result, resolved(), "admin@example.com", "approve") is None


def test_a_fallback_that_must_not_continue_on_failure_fails_the_request(
    acts: Acts, workspace: RunningSlack, tmp_path: Path
) -> None:
    workspace.state.down = True
    flow = acts(
        approvers_module(
            tmp_path,
            'slack.fallback(slack.channel("#approvers"), slack.user("lead@example.com"), '
            "continue_on_delivery_failure=False)",
        )
    )
    with pytest.raises(ApplicationError) as caught:
        permissions(flow)
    assert caught.value.type == REDUCER_ERROR and caught.value.non_retryable
    assert "SlackError (Slack:SERVER_ERROR)" in caught.value.message


def test_a_second_request_reads_the_channel_again_but_not_its_members_accounts(
    acts: Acts, workspace: RunningSlack
) -> None:
    flow = acts("slack_channel_approvers.py")
    first = permissions(flow)
    calls = workspace.app.calls
    assert (calls["conversations.members"], calls["users.info"]) == (1, 4)
    assert permissions(flow).approvers == first.approvers
    assert calls["conversations.members"] == 2  # who is in the channel: asked every time
    assert calls["users.info"] == 4  # what each member's account is: kept
    assert calls["users.list"] == 0


def test_guests_and_people_of_other_workspaces_in_the_channel_do_not_approve(
    acts: Acts, workspace: RunningSlack
) -> None:
    workspace.state.users += [
        EmulatedUser(id="U0GUEST", name="gus", email="gus@example.com", is_restricted=True),
        EmulatedUser(id="U0PARTNER", name="pat", email="pat@example.com", team_id="T0PARTNER"),
    ]
    members_of(workspace, "approvers").extend(["U0GUEST", "U0PARTNER"])
    result = permissions(acts("slack_channel_approvers.py"))
    assert result.approvers == ("alice@example.com", "bob@example.com", "carol@example.com")
    for outsider in ("gus@example.com", "pat@example.com"):
        refused = decision_refusal(result, resolved(), outsider, "approve")
        assert refused is not None and f"{outsider} is not an approver" in refused


def test_validate_asks_for_a_channel_id_where_get_approvers_names_a_channel(
    tokens: dict[str, SecretRef], tmp_path: Path
) -> None:
    slack_only = [slack_integration(tokens["slack"])]
    by_name = flow_config(
        approvers_module(tmp_path, 'slack.fallback(slack.user("U0BOB"), slack.channel("#ops"))'),
        slack_only,
        {},
    )
    [warning] = call_issues(by_name)
    assert warning.severity == "warning" and warning.line == 7
    assert warning.message.startswith('get_approvers: slack.channel("#ops") names the approvers')
    assert "give the channel's id instead" in warning.message
    for returned in [
        f'slack.channel("{APPROVERS_CHANNEL}")',
        'slack.channel(event.flow.vars["c"])',
    ]:
        assert call_issues(flow_config(approvers_module(tmp_path, returned), slack_only, {})) == []
