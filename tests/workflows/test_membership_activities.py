"""The owner's Aptible activities: what a de-escalation costs with and without the eviction check."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_stack import AdmitAll, secret_reader
from access_stack import test_config as example_test_config
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.aptible.client import AptibleClient
from activities.bot_credentials import BotCredentials
from activities.membership import MembershipActivities
from jitflow.contracts.membership import (
    AddMembershipCall,
    MembershipKey,
    RemoveMembershipCall,
)
from jitflow.identity import IdentityStore
from jitflow.testing.aptible_emulator import (
    EXAMPLE_ADMIN_ROLE_ID,
    EXAMPLE_ORG_ID,
    EXAMPLE_USER_IDS,
    RunningAptibleEmulator,
)
from worker import eviction_check_enabled

KEY = MembershipKey(
    org_id=EXAMPLE_ORG_ID,
    role_id=EXAMPLE_ADMIN_ROLE_ID,
    user_id=EXAMPLE_USER_IDS["carol@example.com"],
    integration_key="aptible",
)


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(("check", "calls"), [(False, 1), (True, 2)])
async def test_deescalation_costs_one_delete_plus_the_optional_eviction_check(
    emulator: RunningAptibleEmulator,
    moto_url: str,
    time_skipping_env: WorkflowEnvironment,
    check: bool,
    calls: int,
    tmp_path: Path,
) -> None:
    config = example_test_config()
    async with AptibleClient(emulator.base_url) as aptible:
        bot = BotCredentials(secret_reader(moto_url), config)
        activities = MembershipActivities(
            aptible,
            bot,
            time_skipping_env.client,
            authority=AdmitAll(),
            ledger=IdentityStore.open(f"sqlite:///{tmp_path / 'ledger.db'}"),
            check_eviction=check,
        )
        env = ActivityEnvironment()
        added = await env.run(activities.add_aptible_membership, AddMembershipCall(key=KEY))
        assert not added.preexisting
        assert "carol@example.com" in emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)
        emulator.admin.reset_counters()
        removed = await env.run(
            activities.remove_aptible_membership,
            RemoveMembershipCall(key=KEY, membership_id=added.membership_id),
        )
        assert removed.removed and not removed.left_organization
        assert "carol@example.com" not in emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)
        counters = {route: n for route, n in emulator.admin.counters().items() if n}
        assert counters.get("DELETE /memberships/{membership}") == 1
        assert sum(n for route, n in counters.items() if "tokens" not in route) == calls, counters


@pytest.mark.parametrize(
    ("value", "enabled"),
    [(None, True), ("on", True), ("1", True), ("off", False), ("0", False), ("FALSE", False)],
)
def test_eviction_check_setting(value: str | None, enabled: bool) -> None:
    environ = {} if value is None else {"JITFLOW_EVICTION_CHECK": value}
    assert eviction_check_enabled(environ) is enabled
