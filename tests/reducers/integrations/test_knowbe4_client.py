"""Sym's ``knowbe4`` helpers over real HTTP against the KnowBe4 emulator."""

from __future__ import annotations

import pytest
from integration_support import config_with, integration, sdk_call
from reducers.exceptions import KnowBe4Error

from jitflow.config.models import JitflowConfig, SecretRef
from jitflow.emulator.knowbe4 import KnowBe4User
from jitflow.integrations import IntegrationServices
from jitflow.testing.service_emulators import RunningService
from reducers import User, knowbe4

ALICE = User.from_email("alice@example.com")
BOB = User.from_email("bob@example.com")


@pytest.fixture
def config(tokens: dict[str, SecretRef]) -> JitflowConfig:
    kb4 = integration(
        "kb4", "knowbe4", "acme.io", token=tokens["knowbe4"], settings={"region": "us"}
    )
    return config_with(None, [kb4])


def test_enrollments_of_a_user_filtered_as_sym_filters_them(
    config: JitflowConfig, services: IntegrationServices, kb4_service: RunningService
) -> None:
    with sdk_call(config, services):
        [passed] = knowbe4.get_training_enrollments_for_user(
            ALICE, store_purchase_id=209465, campaign_id=100345
        )
        assert passed["status"] == "Passed" and passed["user"]["email"] == "alice@example.com"
        assert len(knowbe4.get_training_enrollments_for_user(ALICE)) == 2
        [pending] = knowbe4.get_training_enrollments_for_user(BOB, store_purchase_id=209465)
        assert pending["status"] == "In Progress"
        assert knowbe4.get_training_enrollments_for_user(BOB, campaign_id=2) == []


def test_users_are_found_by_email_across_pages(
    config: JitflowConfig, services: IntegrationServices, kb4_service: RunningService
) -> None:
    state = kb4_service.app.state
    state.users[:0] = [KnowBe4User(id=1000 + i, email=f"u{i}@example.com") for i in range(600)]
    with sdk_call(config, services):
        assert knowbe4.is_user_in_group(ALICE, 10)
        assert not knowbe4.is_user_in_group(BOB, 10)
    assert kb4_service.app.count("GET /v1/users") == 4  # 500 a page, twice


def test_an_unknown_user_and_service_errors_are_knowbe4_errors(
    config: JitflowConfig, services: IntegrationServices, kb4_service: RunningService
) -> None:
    with sdk_call(config, services), pytest.raises(KnowBe4Error) as unknown:
        knowbe4.get_training_enrollments_for_user(User.from_email("ghost@example.com"))
    assert unknown.value.error_code == "KnowBe4:USER_NOT_FOUND"
    kb4_service.app.outage = 502
    with sdk_call(config, services), pytest.raises(KnowBe4Error) as failing:
        knowbe4.is_user_in_group(ALICE, 10)
    assert failing.value.error_code == "KnowBe4:SERVER_ERROR" and "HTTP 502" in str(failing.value)


def test_a_region_jitflow_does_not_know_is_a_setting_error(
    tokens: dict[str, SecretRef], secret_reader: object
) -> None:
    from jitflow.integrations import IntegrationServices as Services

    bad = integration(
        "kb4", "knowbe4", "acme.io", token=tokens["knowbe4"], settings={"region": "mars"}
    )
    services = Services(secrets=secret_reader)  # type: ignore[arg-type]
    with sdk_call(config_with(None, [bad]), services), pytest.raises(KnowBe4Error) as caught:
        knowbe4.is_user_in_group(ALICE, 10)
    assert caught.value.error_code == "KnowBe4:MISSING_SETTING" and "us, eu, ca, uk, de" in str(
        caught.value
    )
