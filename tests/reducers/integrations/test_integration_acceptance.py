"""Sym-style modules that use each integration behave as their code says, run the way the worker
runs them (``ReducerActivities``, on an activity's thread) against the services' emulators."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from integration_support import (
    MODULES,
    SYM_ENVIRONMENT,
    config_with,
    sym_integrations,
)
from reducer_test_support import REQUESTER, event
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.reducers import REDUCER_ERROR, ReducerActivities
from jitflow.config.models import JitflowConfig, SecretRef
from jitflow.contracts.events import EventData, HookCall, HookOutcome, Permissions, PermissionsCall
from jitflow.emulator.lambda_api import LambdaState
from jitflow.emulator.pagerduty import PdOnCall
from jitflow.identity import IdentityStore
from jitflow.integrations import IntegrationServices
from jitflow.reducer_runtime import check_implementations
from jitflow.testing.service_emulators import RunningService

ROLES = {"admin@example.com": "admin"}


@pytest.fixture
def acts(tokens: dict[str, SecretRef], services: IntegrationServices) -> Iterator[object]:
    """``acts(module, **vars)``: the worker's reducer activities over a flow using ``module``."""

    def make(module: str, **vars: str) -> ReducerActivities:
        config = flow_config(tokens, module, vars)
        assert check_implementations(config) == []
        return ReducerActivities(config, lambda: dict(ROLES), integrations=services)

    yield make


def flow_config(
    tokens: Mapping[str, SecretRef], module: str, vars: dict[str, str]
) -> JitflowConfig:
    return config_with(
        MODULES / module, sym_integrations(tokens), environment=SYM_ENVIRONMENT, vars=vars
    )


def hook(acts: ReducerActivities, name: str, data: EventData) -> HookOutcome:
    outcome: HookOutcome = ActivityEnvironment().run(
        acts.run_hook, HookCall(flow="this", hook=name, event=data)
    )
    return outcome


def permissions(acts: ReducerActivities, data: EventData | None = None) -> Permissions:
    result: Permissions = ActivityEnvironment().run(
        acts.get_permissions, PermissionsCall(flow="this", event=data or event())
    )
    return result


# -- PagerDuty: on-call auto-approval --------------------------------------------------------


def test_on_call_requesters_are_approved_at_once_others_wait(
    acts: object, pd_service: RunningService
) -> None:
    flow = acts("pagerduty_on_call.py", schedule="Primary")  # type: ignore[operator]
    approved = hook(flow, "on_request", event())  # alice is on call
    assert approved.action == "approve"
    assert approved.message == "On call, approved at once: deploy hotfix for the outage"
    assert hook(flow, "on_request", event(by="bob@example.com")) == HookOutcome(called=True)


def test_when_pagerduty_is_down_the_fallback_runs_as_written(
    acts: object, pd_service: RunningService
) -> None:
    """Sym's example falls back by posting to Slack: this flow has no Slack integration, so that
    line raises SlackError and the request fails, naming what is missing (validate flags that
    line). With Slack, the post arrives: see test_slack_acceptance."""
    flow = acts("pagerduty_on_call.py", schedule="Primary")  # type: ignore[operator]
    pd_service.app.outage = 503
    with pytest.raises(ApplicationError) as caught:
        hook(flow, "on_request", event())
    assert caught.value.type == REDUCER_ERROR
    assert "raised SlackError (Slack:NOT_CONFIGURED)" in caught.value.message
    assert "no slack integration is configured for flow 'aptible_access'" in caught.value.message


@pytest.mark.parametrize("failure", ["outage", "unreachable"])
def test_a_fallback_to_normal_approval_when_pagerduty_is_down(
    acts: object, pd_service: RunningService, failure: str
) -> None:
    flow = acts("pagerduty_fallback.py", escalation_policy="Engineering")  # type: ignore[operator]
    assert hook(flow, "on_request", event()).action == "approve"
    if failure == "outage":
        pd_service.app.outage = 500
    else:
        pd_service.stop()
    assert hook(flow, "on_request", event()) == HookOutcome(called=True)  # approvers decide


def test_an_on_call_change_is_seen_by_the_next_request(
    acts: object, pd_service: RunningService
) -> None:
    flow = acts("pagerduty_fallback.py", escalation_policy="Engineering")  # type: ignore[operator]
    assert hook(flow, "on_request", event(by="bob@example.com")).action is None
    pd_service.app.state.oncalls.append(PdOnCall(user_id="PBOB", escalation_policy_id="PPOL1"))
    assert hook(flow, "on_request", event(by="bob@example.com")).action == "approve"


# -- Okta: group-based approvers ----------------------------------------------------------------


def test_the_okta_group_members_are_the_approvers(
    acts: object, okta_service: RunningService
) -> None:
    flow = acts("okta_approvers.py", approvers_group="00gapprovers")  # type: ignore[operator]
    result = permissions(flow)
    assert result.source == "get_permissions"
    assert result.approvers == ("bob@example.com",)  # carol is suspended
    assert result.webapp_view_levels == ("member",)
    assert result.notifications[0]["destinations"][0]["channel_name"] == "#eng-access"
    refused = hook(flow, "on_approve", event("approve", by="dave@example.com"))
    assert (refused.action, refused.message) == ("ignore", "Only the approvers group may approve.")
    assert hook(flow, "on_approve", event("approve", by="bob@example.com")).action is None


def test_without_okta_the_admins_approve(acts: object, okta_service: RunningService) -> None:
    flow = acts("okta_approvers.py", approvers_group="00gapprovers")  # type: ignore[operator]
    okta_service.app.outage = 503
    with pytest.raises(ApplicationError, match=r"get_request_notifications .*OktaError"):
        permissions(flow)  # get_request_notifications has no fallback: as written
    okta_service.app.outage = None
    missing = acts("okta_approvers.py", approvers_group="00gmissing")  # type: ignore[operator]
    assert permissions(missing).levels == ("admin",)


# -- KnowBe4: a training check that denies ---------------------------------------------------------


def test_training_passed_approves_and_not_passed_denies(
    acts: object, kb4_service: RunningService
) -> None:
    flow = acts("knowbe4_training.py")  # type: ignore[operator]
    passed = hook(flow, "on_request", event())
    assert (passed.action, passed.message) == ("approve", "security training passed")
    refused = hook(flow, "on_request", event(by="bob@example.com"))
    assert refused.action == "deny"
    assert refused.message == "Finish the security training before asking for access."
    kb4_service.app.outage = 503
    assert hook(flow, "on_request", event(by="bob@example.com")) == HookOutcome(called=True)


# -- AWS Lambda: a function that decides -----------------------------------------------------------


def test_a_lambda_decides_and_hears_about_the_request(
    acts: object, lambda_service: RunningService, lambda_state: LambdaState
) -> None:
    flow = acts("lambda_decides.py", decider_arn=lambda_state.arn("decider"))  # type: ignore[operator]
    approved = hook(flow, "on_request", event(fields={"reason": "JIRA-42 deploy"}))
    assert (approved.action, approved.message) == ("approve", f"ticket in reason for {REQUESTER}")
    denied = hook(flow, "on_request", event())
    assert (denied.action, denied.message) == ("deny", "no ticket in the reason")
    after = hook(flow, "after_request", event())
    assert after.message == "decider notified"
    assert [i.kind for i in lambda_state.invocations] == ["RequestResponse"] * 2 + ["Event"]
    assert lambda_state.invocations[0].payload == {"email": REQUESTER, "reason": "JIRA-42 deploy"}


def test_a_missing_lambda_falls_back_to_normal_approval(
    acts: object, lambda_service: RunningService, lambda_state: LambdaState
) -> None:
    flow = acts("lambda_decides.py", decider_arn=lambda_state.arn("gone"))  # type: ignore[operator]
    assert hook(flow, "on_request", event()) == HookOutcome(called=True)
    with pytest.raises(ApplicationError, match=r"AWSLambdaError \(AWSLambda:FUNCTION_NOT_FOUND\)"):
        hook(flow, "after_request", event())  # no fallback there: the hook's failure is noted


# -- Secrets and identities --------------------------------------------------------------------------


def test_a_custom_integration_reads_its_secret_and_saves_an_identity(
    tokens: dict[str, SecretRef], services: IntegrationServices, tmp_path: Path
) -> None:
    with IdentityStore.open(f"sqlite:///{tmp_path / 'jitflow.db'}") as store:
        with_store = IntegrationServices(
            secrets=services.secrets, identities=store, endpoints=services.endpoints
        )
        config = flow_config(tokens, "custom_integration.py", {})
        flow = ReducerActivities(config, lambda: {}, integrations=with_store)
        outcome = hook(flow, "after_request", event())
        assert outcome.message == "key of 17 characters; custom:vo-api-id -> alice"
        assert store.get_identity(REQUESTER, "custom", "vo-api-id") == "alice"
        assert "victorops-api-key" not in (outcome.returned or "")
