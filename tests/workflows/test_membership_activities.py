"""The owner's Aptible activities: what a de-escalation costs, and when the eviction report lists.

A removal costs one DELETE. The eviction report (did Aptible drop the user from the organization
with their last role?) lists the organization's users only when the identity store knows no
other role of theirs there: another membership jitflow created, or a role jitflow did not
create, seen at an escalation (standing access) or by an earlier listing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from access_stack import AdmitAll, secret_reader
from access_stack import test_config as example_test_config
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.aptible.client import AptibleClient
from activities.aptible.credentials import AptibleCredentials
from activities.bot_credentials import BotCredentials
from activities.membership import MembershipActivities
from jitflow.contracts.membership import (
    AddMembershipCall,
    MembershipKey,
    MembershipRemoved,
    RemoveMembershipCall,
)
from jitflow.identity import IdentityStore
from jitflow.testing.aptible_emulator import (
    EXAMPLE_ADMIN_ROLE_ID,
    EXAMPLE_BOT_EMAIL,
    EXAMPLE_BOT_PASSWORD,
    EXAMPLE_DEVELOPERS_ROLE_ID,
    EXAMPLE_ORG_ID,
    EXAMPLE_READONLY_ROLE_ID,
    EXAMPLE_USER_IDS,
    RunningAptibleEmulator,
    example_state,
    start_aptible_emulator,
)
from worker import eviction_check_enabled

CAROL = EXAMPLE_USER_IDS["carol@example.com"]
#: A user whose only role is Developers, which an admin takes away outside jitflow.
LONER = "10e00000-0000-4000-8000-000000000001"
USERS_LISTING = "GET /organizations/{org}/users"


def key(role_id: str, user_id: str = CAROL) -> MembershipKey:
    return MembershipKey(
        org_id=EXAMPLE_ORG_ID, role_id=role_id, user_id=user_id, integration_key="aptible"
    )


@pytest.fixture
def private_emulator() -> Iterator[RunningAptibleEmulator]:
    """The example state plus ``LONER``; its own server, so changing who holds which role
    disturbs no other test."""
    state = example_state()
    state["users"].append(
        {"id": LONER, "email": "loner@example.com", "name": "loner", "password": "x"}
    )
    state["memberships"].append(
        {"id": str(uuid.uuid4()), "role_id": EXAMPLE_DEVELOPERS_ROLE_ID, "user_id": LONER}
    )
    bot = EXAMPLE_USER_IDS[EXAMPLE_BOT_EMAIL]
    for membership in state["memberships"]:
        if membership["user_id"] == bot and membership["role_id"] == EXAMPLE_DEVELOPERS_ROLE_ID:
            membership["privileged"] = True  # so the test can play the admin who removes it
    running = start_aptible_emulator(state)
    try:
        yield running
    finally:
        running.stop()


async def removed_outside_jitflow(emulator: RunningAptibleEmulator, role_id: str) -> None:
    """An Aptible admin takes LONER's role away (jitflow's ledger does not know of it)."""
    async with AptibleClient(emulator.base_url) as aptible:
        bot = AptibleCredentials(EXAMPLE_BOT_EMAIL, EXAMPLE_BOT_PASSWORD)
        assert (await aptible.remove_membership(bot, role_id, LONER)).removed


class Owner:
    """The membership activities as the owner workflow runs them, counting Aptible's calls."""

    def __init__(
        self,
        activities: MembershipActivities,
        emulator: RunningAptibleEmulator,
        ledger: IdentityStore,
    ) -> None:
        self._activities = activities
        self.ledger = ledger
        self._emulator = emulator
        self._env = ActivityEnvironment()

    async def add(self, membership: MembershipKey) -> str | None:
        added = await self._env.run(
            self._activities.add_aptible_membership, AddMembershipCall(key=membership)
        )
        return added.membership_id

    async def remove(
        self, membership: MembershipKey, membership_id: str | None
    ) -> tuple[MembershipRemoved, int]:
        """The removal's result and the pages of the organization's users it read; asserts
        that its only other Aptible call (token calls aside) was the one DELETE."""
        self._emulator.admin.reset_counters()
        removed = await self._env.run(
            self._activities.remove_aptible_membership,
            RemoveMembershipCall(key=membership, membership_id=membership_id),
        )
        counters = {route: n for route, n in self._emulator.admin.counters().items() if n}
        listings = counters.pop(USERS_LISTING, 0)
        assert {r: n for r, n in counters.items() if "tokens" not in r} == {
            "DELETE /memberships/{membership}": 1
        }, counters
        return removed, listings


MakeOwner = Callable[..., Awaitable[Owner]]


@pytest.fixture
async def owner_factory(
    moto_url: str, time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[MakeOwner]:
    clients: list[AptibleClient] = []

    async def make(emulator: RunningAptibleEmulator, *, check: bool = True) -> Owner:
        aptible = AptibleClient(emulator.base_url)
        clients.append(aptible)
        ledger = IdentityStore.open(f"sqlite:///{tmp_path / 'ledger.db'}")
        activities = MembershipActivities(
            aptible,
            BotCredentials(secret_reader(moto_url), example_test_config()),
            time_skipping_env.client,
            authority=AdmitAll(),
            ledger=ledger,
            check_eviction=check,
        )
        return Owner(activities, emulator, ledger)

    yield make
    for aptible in clients:
        await aptible.aclose()


@pytest.mark.asyncio(loop_scope="session")
async def test_deescalation_is_one_delete_once_a_listing_found_the_user_staying(
    private_emulator: RunningAptibleEmulator, owner_factory: MakeOwner
) -> None:
    owner: Owner = await owner_factory(private_emulator)
    first_id = await owner.add(key(EXAMPLE_ADMIN_ROLE_ID))
    assert "carol@example.com" in private_emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)
    removed, listings = await owner.remove(key(EXAMPLE_ADMIN_ROLE_ID), first_id)
    # Nothing known about carol's other roles yet: the DELETE and a listing, which finds her.
    assert removed.removed and not removed.left_organization and listings >= 1
    second_id = await owner.add(key(EXAMPLE_ADMIN_ROLE_ID))
    removed, listings = await owner.remove(key(EXAMPLE_ADMIN_ROLE_ID), second_id)
    assert removed.removed and not removed.left_organization and listings == 0
    assert "carol@example.com" not in private_emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)


@pytest.mark.asyncio(loop_scope="session")
async def test_standing_access_found_at_an_escalation_spares_the_listing(
    private_emulator: RunningAptibleEmulator, owner_factory: MakeOwner
) -> None:
    owner: Owner = await owner_factory(private_emulator)
    # carol already holds Developers: standing access, recorded as such.
    await owner.add(key(EXAMPLE_DEVELOPERS_ROLE_ID))
    admin_id = await owner.add(key(EXAMPLE_ADMIN_ROLE_ID))
    removed, listings = await owner.remove(key(EXAMPLE_ADMIN_ROLE_ID), admin_id)
    assert removed.removed and listings == 0
    assert "carol@example.com" in private_emulator.admin.member_emails(EXAMPLE_DEVELOPERS_ROLE_ID)


@pytest.mark.asyncio(loop_scope="session")
async def test_another_jitflow_membership_spares_the_listing_until_the_last_goes(
    private_emulator: RunningAptibleEmulator, owner_factory: MakeOwner
) -> None:
    owner: Owner = await owner_factory(private_emulator)
    admin_id = await owner.add(key(EXAMPLE_ADMIN_ROLE_ID, LONER))
    readonly_id = await owner.add(key(EXAMPLE_READONLY_ROLE_ID, LONER))
    await removed_outside_jitflow(private_emulator, EXAMPLE_DEVELOPERS_ROLE_ID)
    removed, listings = await owner.remove(key(EXAMPLE_ADMIN_ROLE_ID, LONER), admin_id)
    assert removed.removed and not removed.left_organization and listings == 0
    # The last one: the listing runs, and finds Aptible dropped the user from the organization.
    removed, listings = await owner.remove(key(EXAMPLE_READONLY_ROLE_ID, LONER), readonly_id)
    assert removed.removed and removed.left_organization and listings >= 1


@pytest.mark.asyncio(loop_scope="session")
async def test_a_removal_while_a_jitflow_membership_remains_is_no_sighting(
    private_emulator: RunningAptibleEmulator, owner_factory: MakeOwner
) -> None:
    owner: Owner = await owner_factory(private_emulator)
    admin_id = await owner.add(key(EXAMPLE_ADMIN_ROLE_ID, LONER))
    await removed_outside_jitflow(private_emulator, EXAMPLE_DEVELOPERS_ROLE_ID)
    # The ledger's readonly row is "intended" while this listing runs: it is what may keep
    # them in, so finding them there says nothing about a standing role.
    owner.ledger.intend_membership(EXAMPLE_ORG_ID, EXAMPLE_READONLY_ROLE_ID, LONER)
    owner.ledger.saw_still_member(EXAMPLE_ORG_ID, LONER)
    owner.ledger.forget_membership(EXAMPLE_ORG_ID, EXAMPLE_READONLY_ROLE_ID, LONER)
    removed, listings = await owner.remove(key(EXAMPLE_ADMIN_ROLE_ID, LONER), admin_id)
    assert removed.left_organization and listings >= 1


@pytest.mark.asyncio(loop_scope="session")
async def test_a_failed_eviction_listing_does_not_fail_the_removal(
    private_emulator: RunningAptibleEmulator,
    owner_factory: MakeOwner,
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner: Owner = await owner_factory(private_emulator)
    membership_id = await owner.add(key(EXAMPLE_ADMIN_ROLE_ID))
    private_emulator.admin.fail_next(USERS_LISTING, count=20, status=503)
    with caplog.at_level(logging.WARNING):
        removed, listings = await owner.remove(key(EXAMPLE_ADMIN_ROLE_ID), membership_id)
    assert removed.removed and not removed.left_organization and listings >= 1
    assert "could not tell whether it was their last role" in caplog.text
    assert "carol@example.com" not in private_emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)


@pytest.mark.asyncio(loop_scope="session")
async def test_without_the_eviction_check_a_deescalation_is_one_delete(
    private_emulator: RunningAptibleEmulator, owner_factory: MakeOwner
) -> None:
    owner: Owner = await owner_factory(private_emulator, check=False)
    membership_id = await owner.add(key(EXAMPLE_ADMIN_ROLE_ID, LONER))
    await removed_outside_jitflow(private_emulator, EXAMPLE_DEVELOPERS_ROLE_ID)
    removed, listings = await owner.remove(key(EXAMPLE_ADMIN_ROLE_ID, LONER), membership_id)
    assert removed.removed and not removed.left_organization and listings == 0


@pytest.mark.parametrize(
    ("value", "enabled"),
    [(None, True), ("on", True), ("1", True), ("off", False), ("0", False), ("FALSE", False)],
)
def test_eviction_check_setting(value: str | None, enabled: bool) -> None:
    environ = {} if value is None else {"JITFLOW_EVICTION_CHECK": value}
    assert eviction_check_enabled(environ) is enabled


@pytest.mark.asyncio(loop_scope="session")
async def test_a_made_up_membership_id_never_spares_the_membership_jitflow_created(
    private_emulator: RunningAptibleEmulator, owner_factory: MakeOwner
) -> None:
    """Anyone can schedule the removal with any input: it deletes by the id the ledger
    recorded, so a made-up id (which would answer 404, "already absent") spares nothing."""
    owner: Owner = await owner_factory(private_emulator)
    await owner.add(key(EXAMPLE_ADMIN_ROLE_ID))
    made_up = "00000000-0000-4000-8000-00000000dead"
    removed, _ = await owner.remove(key(EXAMPLE_ADMIN_ROLE_ID), made_up)
    assert removed.removed and not removed.already_absent
    assert "carol@example.com" not in private_emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)
