"""Sym's ``okta`` helpers over real HTTP against the Okta emulator."""

from __future__ import annotations

import pytest
from integration_support import OKTA_DOMAIN, config_with, integration, sdk_call
from reducers.exceptions import OktaError

from jitflow.config.models import JitflowConfig, SecretRef
from jitflow.emulator.okta import OktaUser
from jitflow.integrations import IntegrationServices
from jitflow.testing.service_emulators import RunningService
from reducers import User, UserIdentity, okta

ALICE = User.from_email("alice@example.com")
BOB = User.from_email("bob@example.com")
DAVE = User.from_email("dave@example.com")


@pytest.fixture
def config(tokens: dict[str, SecretRef]) -> JitflowConfig:
    return config_with(None, [integration("okta", "okta", OKTA_DOMAIN, token=tokens["okta"])])


def test_group_membership_by_login_by_email_and_by_stored_identity(
    config: JitflowConfig, services: IntegrationServices, okta_service: RunningService
) -> None:
    with sdk_call(config, services):
        assert okta.is_user_in_group(BOB, group_id="00gapprovers")
        assert not okta.is_user_in_group(ALICE, group_id="00gapprovers")
        assert okta.is_user_in_group(DAVE, group_id="00gengineers")  # login differs: by email
        assert not okta.is_user_in_group(User.from_email("x@example.com"), group_id="00gengineers")
        mapped = User.from_email(
            "someone@example.com",
            identities={
                "okta": [UserIdentity(service="okta", service_id=OKTA_DOMAIN, user_id="00ualice")]
            },
        )
        assert okta.is_user_in_group(mapped, group_id="00gengineers")
    assert okta_service.app.count("GET /api/v1/users") == 2  # the two profile-email searches


def test_an_unknown_group_is_group_not_found(
    config: JitflowConfig, services: IntegrationServices, okta_service: RunningService
) -> None:
    with sdk_call(config, services), pytest.raises(OktaError) as caught:
        okta.is_user_in_group(BOB, group_id="00gnope")
    assert caught.value.error_code == "Okta:GROUP_NOT_FOUND"
    with sdk_call(config, services), pytest.raises(OktaError, match="no group"):
        okta.users_in_group(group_id="00gnope")


def test_users_in_group_skips_members_who_cannot_act_and_follows_pages(
    config: JitflowConfig, services: IntegrationServices, okta_service: RunningService
) -> None:
    with sdk_call(config, services, roles={"bob@example.com": "admin"}):
        approvers = okta.users_in_group(group_id="00gapprovers")
    assert approvers == [BOB] and approvers[0].role.value == "admin"  # Carol is suspended

    state = okta_service.app.state
    many = [
        OktaUser(id=f"00u{i}", login=f"u{i}@example.com", email=f"u{i}@example.com")
        for i in range(450)
    ]
    state.users.extend(many)
    state.groups[1].member_ids.extend(u.id for u in many)
    with sdk_call(config, services):
        engineers = okta.users_in_group(group_id="00gengineers")
    assert len(engineers) == 452
    assert okta_service.app.count("GET /api/v1/groups/{id}/users") == 1 + 3  # 200 a page


def test_get_user_info_is_oktas_record(
    config: JitflowConfig, services: IntegrationServices, okta_service: RunningService
) -> None:
    with sdk_call(config, services):
        info = okta.get_user_info(ALICE)
        assert info["id"] == "00ualice" and info["profile"]["department"] == "engineering"
        with pytest.raises(OktaError) as caught:
            okta.get_user_info(User.from_email("ghost@example.com"))
    assert caught.value.error_code == "Okta:USER_NOT_FOUND"


def test_list_groups_native_only_by_default(
    config: JitflowConfig, services: IntegrationServices, okta_service: RunningService
) -> None:
    with sdk_call(config, services):
        names = [g["profile"]["name"] for g in okta.list_groups()]
        assert names == ["Approvers", "Engineers"]
        every = okta.list_groups(only_native_groups=False)
        assert len(every) == 3
        assert [g["id"] for g in okta.list_groups(name_filter="eng")] == ["00gengineers"]


def test_errors_of_okta_are_okta_errors(
    config: JitflowConfig,
    services: IntegrationServices,
    okta_service: RunningService,
    tokens: dict[str, SecretRef],
) -> None:
    okta_service.app.outage = 429
    with sdk_call(config, services), pytest.raises(OktaError) as limited:
        okta.get_user_info(ALICE)
    assert limited.value.error_code == "Okta:RATE_LIMITED"
    assert "API call exceeded rate limit" in str(limited.value) and "E0000047" in str(limited.value)
    okta_service.app.outage = None

    wrong = config_with(None, [integration("okta", "okta", OKTA_DOMAIN, token=tokens["pagerduty"])])
    with sdk_call(wrong, services), pytest.raises(OktaError) as refused:
        okta.get_user_info(ALICE)
    assert refused.value.error_code == "Okta:UNAUTHORIZED" and "E0000011" in str(refused.value)

    okta_service.stop()
    with sdk_call(config, services), pytest.raises(OktaError) as down:
        okta.users_in_group(group_id="00gapprovers")
    assert down.value.error_code == "Okta:UNREACHABLE"
