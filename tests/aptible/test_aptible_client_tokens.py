"""Tokens: one login serves many calls and callers; renewal before expiry; refresh on a 401."""

from __future__ import annotations

import asyncio

import pytest
from aptible_test_support import FAST_RETRIES, add_user, fresh_state

from activities.aptible.client import AUTH_ROOT_ENV, DEFAULT_AUTH_ROOT, AptibleClient
from activities.aptible.credentials import AptibleCredentials
from activities.aptible.errors import AptibleInvalidCredentials, AptibleInvalidInput
from jitflow.testing.aptible_emulator import (
    EXAMPLE_ADMIN_ROLE_ID,
    EXAMPLE_BOT_EMAIL,
    EXAMPLE_USER_IDS,
    RunningAptibleEmulator,
)

ALICE = EXAMPLE_USER_IDS["alice@example.com"]


async def test_one_token_serves_many_grants(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    users = [uid for email, uid in EXAMPLE_USER_IDS.items() if email != EXAMPLE_BOT_EMAIL]
    for user in users:
        grant = await client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, user)
        await client.remove_membership(bot, EXAMPLE_ADMIN_ROLE_ID, user, grant.membership_id)
    assert emulator.admin.count("POST /tokens") == 1
    assert client.tokens.logins == 1


async def test_concurrent_callers_share_one_login(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    state = fresh_state()
    users = [add_user(state, f"user{n}@example.com") for n in range(12)]
    emulator.admin.load_state(state)
    grants = await asyncio.gather(
        *(client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, user) for user in users)
    )
    assert len({grant.membership_id for grant in grants}) == 12
    assert emulator.admin.count("POST /tokens") == 1
    assert len(emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)) == 13


async def test_expired_token_is_refreshed_once_and_the_call_retried(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    await client.login_check(bot)
    assert emulator.admin.expire_tokens() == 1
    results = await asyncio.gather(*(client.get_user(bot, ALICE) for _ in range(5)))
    assert all(user is not None and user.id == ALICE for user in results)
    assert emulator.admin.count("POST /tokens") == 2  # concurrent 401s share one new login
    assert emulator.admin.count("GET /users/{user}") == 10  # each call: one 401, one retry


async def test_token_is_renewed_shortly_before_it_expires(
    emulator: RunningAptibleEmulator, bot: AptibleCredentials
) -> None:
    emulator.admin.update_settings(max_token_lifetime=1)
    async with AptibleClient(emulator.base_url, renew_margin=60) as api:
        await api.get_user(bot, ALICE)
        await api.get_user(bot, ALICE)
        assert emulator.admin.count("POST /tokens") == 1
        await asyncio.sleep(0.6)  # past half of the 1 s lifetime
        await api.get_user(bot, ALICE)
    assert emulator.admin.count("POST /tokens") == 2
    assert emulator.admin.count("GET /users/{user}") == 3  # renewed before any 401


async def test_token_answer_with_200_is_accepted(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    emulator.admin.update_settings(token_status=200)
    assert await client.login_check(bot) == EXAMPLE_USER_IDS[EXAMPLE_BOT_EMAIL]


async def test_cached_token_is_not_served_to_a_different_password(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    await client.login_check(bot)
    wrong = AptibleCredentials(EXAMPLE_BOT_EMAIL, "guessed-password")
    with pytest.raises(AptibleInvalidCredentials):
        await client.get_user(wrong, ALICE)
    assert emulator.admin.count("POST /tokens") == 2
    assert await client.get_user(bot, ALICE) is not None  # the right password logs in again


async def test_fresh_login_check_and_token_revocation(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    await client.login_check(bot)
    await client.login_check(bot, fresh=True)
    assert emulator.admin.count("POST /tokens") == 2
    assert len(emulator.admin.state()["tokens"]) == 2
    await client.revoke_tokens()
    assert emulator.admin.count("DELETE /tokens/{token}") == 1
    assert len(emulator.admin.state()["tokens"]) == 1  # the replaced token simply expires


async def test_auth_root_comes_from_aptibles_variable(
    monkeypatch: pytest.MonkeyPatch, emulator: RunningAptibleEmulator, bot: AptibleCredentials
) -> None:
    monkeypatch.delenv(AUTH_ROOT_ENV, raising=False)
    async with AptibleClient() as default:
        assert default.base_url == DEFAULT_AUTH_ROOT
    monkeypatch.setenv(AUTH_ROOT_ENV, f"{emulator.base_url}/")
    async with AptibleClient.from_env(retry_delays=FAST_RETRIES) as api:
        assert api.base_url == emulator.base_url
        assert await api.get_user(bot, ALICE) is not None
    monkeypatch.setenv(AUTH_ROOT_ENV, "auth.aptible.com")
    with pytest.raises(AptibleInvalidInput, match=r"'auth\.aptible\.com'"):
        AptibleClient()


async def test_a_refused_login_is_not_retried_by_every_waiting_caller(
    client: AptibleClient, emulator: RunningAptibleEmulator
) -> None:
    # Aptible locks an account after 10 failed logins a minute: a wrong password shared by many
    # concurrent grants must cost one attempt, not one per grant.
    wrong = AptibleCredentials(EXAMPLE_BOT_EMAIL, "rotated-elsewhere")
    results = await asyncio.gather(
        *(client.get_user(wrong, ALICE) for _ in range(12)), return_exceptions=True
    )
    assert all(isinstance(result, AptibleInvalidCredentials) for result in results)
    assert emulator.admin.count("POST /tokens") == 1
    with pytest.raises(AptibleInvalidCredentials):
        await client.get_user(wrong, ALICE)
    assert emulator.admin.count("POST /tokens") == 1
