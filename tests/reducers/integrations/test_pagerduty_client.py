"""Sym's ``pagerduty`` helpers over real HTTP against the PagerDuty emulator."""

from __future__ import annotations

import pytest
from integration_support import (
    PD_SUBDOMAIN,
    config_with,
    integration,
    sdk_call,
    secret,
)
from reducers.exceptions import MissingArgument, PagerDutyError, SymException

from jitflow.config.models import JitflowConfig, SecretRef
from jitflow.emulator.pagerduty import PdOnCall, PdUser
from jitflow.integrations import IntegrationServices
from jitflow.testing.service_emulators import RunningService
from reducers import User, UserIdentity, UserRole, pagerduty

ALICE = User.from_email("alice@example.com")
BOB = User.from_email("bob@example.com")
CAROL = User.from_email("carol@example.com")


@pytest.fixture
def config(tokens: dict[str, SecretRef]) -> JitflowConfig:
    return config_with(
        None, [integration("pd", "pagerduty", PD_SUBDOMAIN, token=tokens["pagerduty"])]
    )


def test_is_on_call_for_any_schedule_by_name_or_by_id(
    config: JitflowConfig, services: IntegrationServices, pd_service: RunningService
) -> None:
    with sdk_call(config, services):
        assert pagerduty.is_on_call(ALICE) is True
        assert pagerduty.is_on_call(BOB) is False  # on the schedule, not on call now
        assert pagerduty.is_on_call(ALICE, schedule_name="Primary") is True
        assert pagerduty.is_on_call(ALICE, schedule_name="primary") is True  # any case
        assert pagerduty.is_on_call(ALICE, escalation_policy_id="PPOL1") is True
        assert pagerduty.is_on_call(ALICE, escalation_policy_name="Engineering") is True
        assert pagerduty.is_on_call(User.from_email("nobody@example.com")) is False
    assert pd_service.app.count("GET /oncalls") == 6  # the one without an account asks nothing


def test_a_stored_identity_is_used_instead_of_looking_up_the_email(
    config: JitflowConfig, services: IntegrationServices, pd_service: RunningService
) -> None:
    mapped = User.from_email(
        "alice.other@example.com",
        identities={
            "pagerduty": [
                UserIdentity(service="pagerduty", service_id=PD_SUBDOMAIN, user_id="PALICE")
            ]
        },
    )
    with sdk_call(config, services):
        assert pagerduty.is_on_call(mapped)
    assert pd_service.app.count("GET /users") == 0


def test_unknown_schedule_or_policy_names_are_errors(
    config: JitflowConfig, services: IntegrationServices, pd_service: RunningService
) -> None:
    with sdk_call(config, services):
        with pytest.raises(PagerDutyError, match="no schedule named 'Nope'") as schedule:
            pagerduty.is_on_call(ALICE, schedule_name="Nope")
        with pytest.raises(PagerDutyError) as policy:
            pagerduty.users_on_call(escalation_policy_name="Nope")
    assert schedule.value.error_code == "PagerDuty:SCHEDULE_NOT_FOUND"
    assert policy.value.error_code == "PagerDuty:ESCALATION_POLICY_NOT_FOUND"


def test_users_on_call_and_for_schedule_are_jitflow_users_with_their_roles(
    config: JitflowConfig, services: IntegrationServices, pd_service: RunningService
) -> None:
    with sdk_call(config, services, roles={"alice@example.com": "admin"}):
        on_call = pagerduty.users_on_call()
        assert on_call == [ALICE] and on_call[0].role is UserRole.ADMIN
        assert pagerduty.users_on_call(schedule_id="PSCHED1") == [ALICE]
        assert pagerduty.users_for_schedule(schedule_name="Primary") == [ALICE, BOB]
        with pytest.raises(MissingArgument):
            pagerduty.users_for_schedule()


def test_lists_are_followed_across_pages(
    config: JitflowConfig, services: IntegrationServices, pd_service: RunningService
) -> None:
    users = [PdUser(id=f"PU{i}", name=f"User {i}", email=f"u{i}@example.com") for i in range(130)]
    emulated = pd_service.app.state
    emulated.users.extend(users)
    emulated.oncalls.extend(PdOnCall(user_id=u.id, escalation_policy_id="PPOL1") for u in users)
    with sdk_call(config, services):
        assert len(pagerduty.users_on_call()) == 131
    assert pd_service.app.count("GET /oncalls") == 2  # 100 a page


def test_incidents_with_sym_defaults_and_filters(
    config: JitflowConfig, services: IntegrationServices, pd_service: RunningService
) -> None:
    with sdk_call(config, services):
        [incident] = pagerduty.get_incidents()
        assert incident["id"] == "PINC1" and incident["status"] == "triggered"
        assert pagerduty.has_incident(assignees=[ALICE])
        assert not pagerduty.has_incident(assignees=[BOB])
        assert not pagerduty.has_incident(assignees=[User.from_email("x@example.com")])
        assert not pagerduty.has_incident(service_ids=["POTHER"])
        assert not pagerduty.has_incident(urgencies=[pagerduty.PagerDutyUrgency.LOW])
        assert not pagerduty.has_incident(
            since="2000-01-01T00:00:00Z", until="2000-02-01T00:00:00Z"
        )
        with pytest.raises(PagerDutyError, match="cannot include RESOLVED"):
            pagerduty.get_incidents(
                assignees=[ALICE], statuses=[pagerduty.PagerDutyStatus.RESOLVED]
            )
        with pytest.raises(PagerDutyError, match="not an ISO-8601 time"):
            pagerduty.get_incidents(since="yesterday")


@pytest.mark.parametrize(
    ("outage", "code", "text"),
    [
        (503, "PagerDuty:SERVER_ERROR", "HTTP 503: Internal Server Error"),
        (429, "PagerDuty:RATE_LIMITED", "HTTP 429: Rate Limit Exceeded"),
        (403, "PagerDuty:FORBIDDEN", "HTTP 403: Access Denied"),
    ],
)
def test_service_errors_are_pagerduty_errors_with_its_message(
    config: JitflowConfig,
    services: IntegrationServices,
    pd_service: RunningService,
    outage: int,
    code: str,
    text: str,
) -> None:
    pd_service.app.outage = outage
    with sdk_call(config, services), pytest.raises(SymException) as caught:
        pagerduty.is_on_call(ALICE)
    assert isinstance(caught.value, PagerDutyError)
    assert caught.value.error_code == code and text in str(caught.value)


def test_a_wrong_token_is_unauthorized_and_never_shown(
    tokens: dict[str, SecretRef], services: IntegrationServices, pd_service: RunningService
) -> None:
    wrong = config_with(None, [integration("pd", "pagerduty", PD_SUBDOMAIN, token=tokens["okta"])])
    with sdk_call(wrong, services), pytest.raises(PagerDutyError) as caught:
        pagerduty.is_on_call(ALICE)
    assert caught.value.error_code == "PagerDuty:UNAUTHORIZED"
    assert "HTTP 401" in str(caught.value)
    assert "okta-emulator-token" not in repr(caught.value.__dict__) + str(caught.value)


def test_unreachable_and_unconfigured_are_pagerduty_errors(
    config: JitflowConfig,
    services: IntegrationServices,
    pd_service: RunningService,
    tokens: dict[str, SecretRef],
) -> None:
    pd_service.stop()
    with sdk_call(config, services), pytest.raises(PagerDutyError) as down:
        pagerduty.is_on_call(ALICE)
    assert down.value.error_code == "PagerDuty:UNREACHABLE"
    assert "could not reach PagerDuty" in str(down.value)

    with sdk_call(config_with(None, []), services), pytest.raises(PagerDutyError) as missing:
        pagerduty.is_on_call(ALICE)
    assert missing.value.error_code == "PagerDuty:NOT_CONFIGURED"
    assert "declare a sym_integration of type pagerduty" in str(missing.value)

    unreadable = config_with(
        None, [integration("pd", "pagerduty", PD_SUBDOMAIN, token=tokens["missing"])]
    )
    with sdk_call(unreadable, services), pytest.raises(PagerDutyError) as secretless:
        pagerduty.is_on_call(ALICE)
    assert secretless.value.error_code == "PagerDuty:SECRET_UNREADABLE"

    untokened = config_with(None, [integration("pd", "pagerduty", PD_SUBDOMAIN)])
    with sdk_call(untokened, services), pytest.raises(PagerDutyError, match="api_token_secret"):
        pagerduty.is_on_call(ALICE)


def test_two_pagerduty_integrations_need_the_environment_to_choose(
    tokens: dict[str, SecretRef], services: IntegrationServices, pd_service: RunningService
) -> None:
    two = [
        integration("pd", "pagerduty", PD_SUBDOMAIN, token=tokens["pagerduty"]),
        integration("pd2", "pagerduty", "other.pagerduty.com", token=secret("x", "y")),
    ]
    with sdk_call(config_with(None, two), services), pytest.raises(PagerDutyError) as caught:
        pagerduty.is_on_call(ALICE)
    assert "does not say which" in str(caught.value)
    chosen = config_with(None, two, environment={"pagerduty": "pd"})
    with sdk_call(chosen, services):
        assert pagerduty.is_on_call(ALICE)
