"""Injected faults: in-place retries of reads and deletes, and a POST that is never blindly repeated."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from aptible_test_support import FAST_RETRIES, add_user, fresh_state

from activities.aptible.client import AptibleClient
from activities.aptible.credentials import AptibleCredentials
from activities.aptible.errors import (
    AptibleConnectionDropped,
    AptibleError,
    AptibleServerError,
    AptibleTimeout,
)
from activities.aptible.models import MembershipGrant, MembershipRemoval
from jitflow.testing.aptible_emulator import (
    EXAMPLE_ADMIN_ROLE_ID,
    EXAMPLE_BOT_EMAIL,
    EXAMPLE_USER_IDS,
    RunningAptibleEmulator,
)

ALICE = EXAMPLE_USER_IDS["alice@example.com"]
POST = "POST /roles/{role}/memberships"
LIST = "GET /roles/{role}/memberships"
T = TypeVar("T")


def holders(emulator: RunningAptibleEmulator, user_id: str) -> int:
    """How many memberships of the admin role the user holds (a duplicate would make it 2)."""
    return sum(
        row["user_id"] == user_id for row in emulator.admin.memberships(EXAMPLE_ADMIN_ROLE_ID)
    )


async def test_reads_are_retried_in_place_on_5xx_429_and_drops(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    await client.login_check(bot)
    emulator.admin.fail_next(LIST, "error", status=502)
    emulator.admin.fail_next(LIST, "rate_limit", retry_after=0)
    emulator.admin.fail_next(LIST, "drop")
    members = await client.list_role_memberships(bot, EXAMPLE_ADMIN_ROLE_ID)
    assert [m.user_email for m in members] == [EXAMPLE_BOT_EMAIL]
    assert emulator.admin.count(LIST) == 4

    emulator.admin.fail_next(LIST, "error", count=4)
    with pytest.raises(AptibleServerError) as info:
        await client.list_role_memberships(bot, EXAMPLE_ADMIN_ROLE_ID)
    assert info.value.retryable and info.value.status == 500
    assert EXAMPLE_ADMIN_ROLE_ID in info.value.message


async def test_post_dropped_after_it_was_applied_is_confirmed_without_a_duplicate(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    emulator.admin.fail_next(POST, "drop", phase="after")
    grant = await client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, ALICE)
    assert not grant.preexisting and grant.api_calls == 3  # list, POST (dropped), list
    assert emulator.admin.count(POST) == 1
    assert holders(emulator, ALICE) == 1
    assert grant.membership_id == emulator.admin.memberships(EXAMPLE_ADMIN_ROLE_ID)[-1]["id"]


def _record(posted: list[bool]) -> Any:
    """A ``before_post`` that notes the POST was reached (the ledger write, in the worker)."""

    async def note() -> None:
        posted.append(True)

    return note


@pytest.mark.parametrize("status", [500, 503])
async def test_post_answered_5xx_after_it_was_applied_is_confirmed(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator, status: int
) -> None:
    emulator.admin.fail_next(POST, "error", phase="after", status=status)
    grant = await client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, ALICE)
    assert not grant.preexisting and emulator.admin.count(POST) == 1
    assert holders(emulator, ALICE) == 1


async def test_post_that_timed_out_after_being_applied_is_confirmed(
    emulator: RunningAptibleEmulator, bot: AptibleCredentials
) -> None:
    async with AptibleClient(emulator.base_url, timeout=0.2, retry_delays=FAST_RETRIES) as api:
        emulator.admin.fail_next(POST, "delay", phase="after", delay_ms=600)
        grant = await api.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, ALICE)
    assert not grant.preexisting and emulator.admin.count(POST) == 1
    assert holders(emulator, ALICE) == 1


async def test_post_lost_before_reaching_aptible_raises_retryable_and_is_redone(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    emulator.admin.fail_next(POST, "drop")
    with pytest.raises(AptibleConnectionDropped) as info:
        await client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, ALICE)
    assert info.value.retryable and holders(emulator, ALICE) == 0
    assert emulator.admin.count(POST) == 1  # never re-POSTed in place
    grant = await client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, ALICE)  # Temporal's retry
    assert not grant.preexisting and holders(emulator, ALICE) == 1


async def test_a_retry_after_a_slow_post_knows_the_membership_is_its_own(
    emulator: RunningAptibleEmulator, bot: AptibleCredentials
) -> None:
    """The POST times out before Aptible applies it; the confirming list sees nothing, so the
    attempt fails. Aptible then applies it. The next attempt, told an earlier one posted, must
    not mistake that membership for standing access (de-escalation would then skip it)."""
    posted: list[bool] = []
    async with AptibleClient(emulator.base_url, timeout=0.2, retry_delays=FAST_RETRIES) as api:
        emulator.admin.fail_next(POST, "delay", phase="before", delay_ms=400)
        with pytest.raises(AptibleTimeout):
            await api.ensure_membership(
                bot, EXAMPLE_ADMIN_ROLE_ID, ALICE, before_post=_record(posted)
            )
        await asyncio.sleep(0.4)
        assert holders(emulator, ALICE) == 1
        grant = await api.ensure_membership(
            bot, EXAMPLE_ADMIN_ROLE_ID, ALICE, may_have_posted_before=bool(posted)
        )
    assert posted == [True] and not grant.preexisting
    assert emulator.admin.count(POST) == 1


async def test_delete_dropped_after_it_was_applied_is_retried_to_a_404(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    grant = await client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, ALICE)
    emulator.admin.fail_next("DELETE /memberships/{membership}", "drop", phase="after")
    removal = await client.remove_membership(bot, EXAMPLE_ADMIN_ROLE_ID, ALICE, grant.membership_id)
    assert removal.already_absent and removal.api_calls == 2
    assert holders(emulator, ALICE) == 0


async def as_activity(call: Callable[[], Awaitable[T]], attempts: int = 20) -> T:
    """What a Temporal retry policy does with the client's errors: retry the retryable ones."""
    for _ in range(attempts - 1):
        try:
            return await call()
        except AptibleError as error:
            if not error.retryable:
                raise
            await asyncio.sleep(0)
    return await call()


async def test_random_faults_with_retries_end_in_exactly_the_right_memberships(
    emulator: RunningAptibleEmulator, bot: AptibleCredentials
) -> None:
    state = fresh_state()
    users = [add_user(state, f"flaky{n}@example.com") for n in range(10)]
    emulator.admin.load_state(state)
    emulator.admin.update_settings(per_page=50)
    emulator.admin.set_faults(
        seed=11, error_rate=0.15, rate_limit_rate=0.05, retry_after=0, drop_rate=0.1
    )
    async with AptibleClient(emulator.base_url, timeout=2, retry_delays=FAST_RETRIES) as api:
        grants: list[MembershipGrant] = []
        for user in users:
            posted: list[bool] = []

            def escalate(
                user: str = user, posted: list[bool] = posted
            ) -> Awaitable[MembershipGrant]:
                return api.ensure_membership(
                    bot,
                    EXAMPLE_ADMIN_ROLE_ID,
                    user,
                    may_have_posted_before=bool(posted),
                    before_post=_record(posted),
                )

            grants.append(await as_activity(escalate))
        assert all(not grant.preexisting for grant in grants)
        emails = emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)
        assert emails == {EXAMPLE_BOT_EMAIL} | {f"flaky{n}@example.com" for n in range(10)}
        assert len(emulator.admin.memberships(EXAMPLE_ADMIN_ROLE_ID)) == 11  # no duplicates
        for grant in grants:

            def deescalate(g: MembershipGrant = grant) -> Awaitable[MembershipRemoval]:
                return api.remove_membership(bot, g.role_id, g.user_id, g.membership_id)

            await as_activity(deescalate)
    emulator.admin.clear_faults()
    assert emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID) == {EXAMPLE_BOT_EMAIL}
    print(f"\nrequests under random faults: {emulator.admin.counters()}")
    fault_free = 1 + 10 * 3  # a login, then a list, a POST and a DELETE per user
    assert emulator.admin.total() > fault_free  # faults did strike, and were survived
