"""1. Standing access is recognised from the ledger, not guessed from a heartbeat.

An add whose POST went through but whose attempt died before it could say so (timed out on the
server while still running, a lost heartbeat, a kill at the wrong moment) used to leave the next
attempt finding "a membership that was already there": standing access, never removed. The
worker now records "about to create" in the identity store before every POST.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from access_stack import AdmitAll, secret_reader
from access_stack import test_config as example_test_config
from temporalio.testing import ActivityEnvironment

from activities.aptible.client import AptibleClient
from activities.bot_credentials import BotCredentials
from activities.membership import MembershipActivities
from jitflow.contracts.membership import AddMembershipCall, MembershipKey, RemoveMembershipCall
from jitflow.devstack.example import (
    EXAMPLE_ADMIN_ROLE_ID,
    EXAMPLE_DEVELOPERS_ROLE_ID,
    EXAMPLE_ORG_ID,
    EXAMPLE_USER_IDS,
)
from jitflow.identity import IdentityStore
from jitflow.testing.aptible_emulator import RunningAptibleEmulator

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _key(email: str, role: str) -> MembershipKey:
    return MembershipKey(
        org_id=EXAMPLE_ORG_ID,
        role_id=role,
        user_id=EXAMPLE_USER_IDS[email],
        integration_key="aptible",
    )


async def test_a_membership_left_by_a_lost_attempt_is_jitflows_and_is_removed(
    emulator: RunningAptibleEmulator, moto_url: str, tmp_path: Path
) -> None:
    key = _key("dave@example.com", EXAMPLE_ADMIN_ROLE_ID)
    store = IdentityStore.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    async with AptibleClient(emulator.base_url) as aptible:
        activities = MembershipActivities(
            aptible,
            BotCredentials(secret_reader(moto_url), example_test_config()),
            None,  # type: ignore[arg-type]  # no lease activities here
            authority=AdmitAll(),
            ledger=store,
        )
        # The POST is applied, then its answer takes 3 s; the attempt dies after 1 s.
        emulator.admin.fail_next(
            "POST /roles/{role}/memberships", "delay", phase="after", delay_ms=3000
        )
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(
                ActivityEnvironment().run(
                    activities.add_aptible_membership, AddMembershipCall(key=key)
                ),
                1.0,
            )
        assert "dave@example.com" in emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)
        # The next attempt (a fresh one: no heartbeat of the first) finds it: jitflow's own.
        again = await ActivityEnvironment().run(
            activities.add_aptible_membership, AddMembershipCall(key=key)
        )
        assert not again.preexisting
        assert store.created_membership(key.org_id, key.role_id, key.user_id) == "created"
        removed = await ActivityEnvironment().run(
            activities.remove_aptible_membership,
            RemoveMembershipCall(key=key, membership_id=again.membership_id),
        )
        assert removed.removed
        assert "dave@example.com" not in emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)
        assert store.created_membership(key.org_id, key.role_id, key.user_id) is None

        # Standing access: found, never in the ledger, and never removed, whoever asks.
        standing = _key("alice@example.com", EXAMPLE_DEVELOPERS_ROLE_ID)
        found = await ActivityEnvironment().run(
            activities.add_aptible_membership, AddMembershipCall(key=standing)
        )
        assert found.preexisting
        kept = await ActivityEnvironment().run(
            activities.remove_aptible_membership,
            RemoveMembershipCall(key=standing, membership_id=found.membership_id),
        )
        assert not kept.removed
        assert "alice@example.com" in emulator.admin.member_emails(EXAMPLE_DEVELOPERS_ROLE_ID)
    store.close()
