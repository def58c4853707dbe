"""Each error class, what its message names, and that no credential ever leaks."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aptible_test_support import add_role, add_user, fresh_state

from activities.aptible.client import AptibleClient
from activities.aptible.credentials import AptibleCredentials
from activities.aptible.errors import (
    AptibleAuthError,
    AptibleError,
    AptibleForbidden,
    AptibleInvalidCredentials,
    AptibleNotFound,
    AptibleOtpRequired,
    AptibleRateLimited,
    AptibleSsoRequired,
    AptibleUnprocessable,
)
from jitflow.testing.aptible_emulator import (
    EXAMPLE_ADMIN_ROLE_ID,
    EXAMPLE_BOT_EMAIL,
    EXAMPLE_BOT_PASSWORD,
    EXAMPLE_ORG_ID,
    EXAMPLE_USER_IDS,
    RunningAptibleEmulator,
)

ALICE = EXAMPLE_USER_IDS["alice@example.com"]
MISSING_ROLE = "00000000-0000-4000-8000-0000000000ff"


async def raised(call: Callable[[], Awaitable[Any]]) -> AptibleError:
    with pytest.raises(AptibleError) as info:
        await call()
    return info.value


async def test_wrong_password_is_refused_once_and_not_retryable(
    client: AptibleClient, emulator: RunningAptibleEmulator
) -> None:
    wrong = AptibleCredentials(EXAMPLE_BOT_EMAIL, "wrong-password")
    error = await raised(lambda: client.get_user(wrong, ALICE))
    assert isinstance(error, AptibleInvalidCredentials) and not error.retryable
    assert error.code == "Aptible:INVALID_CREDENTIALS" and error.status == 401
    assert EXAMPLE_BOT_EMAIL in error.message and "wrong-password" not in repr(error)
    assert emulator.admin.count("POST /tokens") == 1


@pytest.mark.parametrize("otp_status", [401, 400])
async def test_two_factor_bot_is_told_to_turn_it_off(
    client: AptibleClient, emulator: RunningAptibleEmulator, otp_status: int
) -> None:
    state = fresh_state()
    add_user(state, "bot-2fa@example.com", password="pw-2fa", otp_enabled=True)
    emulator.admin.load_state(state)
    emulator.admin.update_settings(otp_status=otp_status)
    error = await raised(
        lambda: client.login_check(AptibleCredentials("bot-2fa@example.com", "pw-2fa"))
    )
    assert isinstance(error, AptibleOtpRequired) and not error.retryable
    assert error.status == otp_status
    assert "two-factor" in error.message and "turned off" in error.message
    assert "bot-2fa@example.com" in error.message


@pytest.mark.parametrize("sso_status", [401, 403])
async def test_sso_enforcing_organization_is_named(
    client: AptibleClient,
    bot: AptibleCredentials,
    emulator: RunningAptibleEmulator,
    sso_status: int,
) -> None:
    state = fresh_state()
    state["organizations"][0]["sso_enforced"] = True
    emulator.admin.load_state(state)
    emulator.admin.update_settings(sso_status=sso_status)
    error = await raised(lambda: client.find_user_by_email(bot, EXAMPLE_ORG_ID, "a@example.com"))
    assert isinstance(error, AptibleSsoRequired) and not error.retryable
    assert "SSO" in error.message and EXAMPLE_ORG_ID in error.message
    assert emulator.admin.count("POST /tokens") == 1  # an SSO refusal is not a stale token


@pytest.mark.parametrize("forbidden_error", ["forbidden", "access_denied"])
async def test_missing_role_admin_names_role_user_and_organization(
    client: AptibleClient,
    bot: AptibleCredentials,
    emulator: RunningAptibleEmulator,
    forbidden_error: str,
) -> None:
    state = fresh_state()
    auditors = add_role(state, EXAMPLE_ORG_ID, "Auditors")
    emulator.admin.load_state(state)
    emulator.admin.update_settings(forbidden_error=forbidden_error)
    error = await raised(
        lambda: client.ensure_membership(
            bot, auditors, ALICE, org_id=EXAMPLE_ORG_ID, user_email="alice@example.com"
        )
    )
    assert isinstance(error, AptibleForbidden) and not error.retryable
    assert error.code == "Aptible:FORBIDDEN" and error.error == forbidden_error
    for named in (auditors, "alice@example.com", EXAMPLE_ORG_ID, "Role Admin"):
        assert named in error.message
    assert emulator.admin.count("POST /roles/{role}/memberships") == 1
    assert error.as_application_error().non_retryable


async def test_unknown_role_is_not_found(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    error = await raised(lambda: client.ensure_membership(bot, MISSING_ROLE, ALICE))
    assert isinstance(error, AptibleNotFound) and not error.retryable
    assert MISSING_ROLE in error.message and ALICE in error.message
    assert emulator.admin.count("POST /roles/{role}/memberships") == 0


async def test_user_outside_the_organization_is_unprocessable(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    state = fresh_state()
    outsider = add_user(state, "outsider@example.com", roles=())
    emulator.admin.load_state(state)
    error = await raised(
        lambda: client.ensure_membership(
            bot, EXAMPLE_ADMIN_ROLE_ID, outsider, org_id=EXAMPLE_ORG_ID
        )
    )
    assert isinstance(error, AptibleUnprocessable) and not error.retryable
    assert outsider in error.message and EXAMPLE_ADMIN_ROLE_ID in error.message
    assert "not a member of organization" in error.message
    # 422 may hide a success, so the role was listed again before giving up; no second POST.
    assert emulator.admin.count("GET /roles/{role}/memberships") == 2
    assert emulator.admin.count("POST /roles/{role}/memberships") == 1


async def test_a_token_refused_even_after_a_new_login_is_an_auth_error(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    emulator.admin.fail_next("GET /users/{user}", "unauthorized", count=2)
    error = await raised(lambda: client.get_user(bot, ALICE))
    assert type(error) is AptibleAuthError and not error.retryable and error.status == 401
    assert emulator.admin.count("POST /tokens") == 2
    emulator.admin.fail_next("GET /users/{user}", "unauthorized", count=1)
    assert await client.get_user(bot, ALICE) is not None


async def test_rate_limit_keeps_retry_after_for_temporal(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    await client.login_check(bot)
    emulator.admin.fail_next("POST /roles/{role}/memberships", "rate_limit", retry_after=30)
    error = await raised(lambda: client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, ALICE))
    assert isinstance(error, AptibleRateLimited) and error.retryable and error.retry_after == 30
    temporal = error.as_application_error()
    assert not temporal.non_retryable and temporal.type == "Aptible:RATE_LIMITED"
    assert temporal.next_retry_delay is not None and temporal.next_retry_delay.total_seconds() == 30


async def test_no_credential_appears_in_errors_or_logs(
    client: AptibleClient,
    bot: AptibleCredentials,
    emulator: RunningAptibleEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    state = fresh_state()
    auditors = add_role(state, EXAMPLE_ORG_ID, "Auditors")
    emulator.admin.load_state(state)
    errors: list[AptibleError] = []
    wrong = AptibleCredentials(EXAMPLE_BOT_EMAIL, "Wr0ng-Pa55word")
    errors.append(await raised(lambda: client.login_check(wrong)))
    await client.login_check(bot)
    errors.append(await raised(lambda: client.ensure_membership(bot, auditors, ALICE)))
    errors.append(await raised(lambda: client.ensure_membership(bot, MISSING_ROLE, ALICE)))
    emulator.admin.fail_next("GET /roles/{role}/memberships", "error", count=4)
    errors.append(await raised(lambda: client.list_role_memberships(bot, EXAMPLE_ADMIN_ROLE_ID)))
    emulator.admin.fail_next("GET /users/{user}", "unauthorized", count=2)
    errors.append(await raised(lambda: client.get_user(bot, ALICE)))
    tokens = [token["access_token"] for token in emulator.admin.state()["tokens"]]
    assert len(tokens) == 2 and len(errors) == 5
    secrets = [EXAMPLE_BOT_PASSWORD, "Wr0ng-Pa55word", *tokens, "Bearer "]
    texts = [caplog.text, repr(bot), repr(wrong), repr(client), repr(client.tokens.cached())]
    for error in errors:
        texts += [str(error), repr(error), repr(error.args), str(error.as_application_error())]
        cause = error.__cause__ or error.__context__
        texts.append(repr(cause))
    for text in texts:
        for secret in secrets:
            assert secret not in text
