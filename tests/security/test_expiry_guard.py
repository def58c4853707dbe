"""An attacker stops every workflow that would remove a membership; the worker's expiry guard
removes it anyway, from the ledger and the signed tickets, and says so loudly.

The attack the guard answers: anyone who can run a worker can make a build of their own the
deployment's current version, and owners then run code that never removes. Here that is played
by terminating the grant's owner and its request (which the ``temporal`` CLI allows anyone):
Temporal no longer has anything that would remove the membership.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from access_stack import ADMIN_ROLE, READONLY_ROLE, Stack, running_worker, secret_reader, wait_for
from temporalio.testing import WorkflowEnvironment

from activities.aptible.client import AptibleClient
from activities.bot_credentials import BotCredentials
from activities.expiry_guard import ExpiryGuard
from jitflow.contracts.access import Decision, Revocation
from jitflow.devstack.example import EXAMPLE_USER_IDS
from jitflow.testing.aptible_emulator import RunningAptibleEmulator
from workflows.access_request import AccessRequestWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

ALICE = "alice@example.com"
CAROL = "carol@example.com"


@pytest_asyncio.fixture(loop_scope="session")
async def own_stack(
    dev_env: WorkflowEnvironment,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    tmp_path: Path,
) -> AsyncIterator[Stack]:
    """A worker with a ledger of its own, so the sweep sees only this test's memberships."""
    async with running_worker(dev_env.client, emulator, moto_url, tmp_path) as stack:
        yield stack


async def _grant(stack: Stack, requester: str, target: str, duration: str) -> str:
    handle = await stack.start(requester=requester, target=target, duration=duration)
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    state = await wait_for(handle, lambda s: s.status == "escalated")
    assert state.membership_workflow_id is not None
    return state.membership_workflow_id


def _guard(stack: Stack, moto_url: str, aptible: AptibleClient, at: datetime) -> ExpiryGuard:
    credentials = BotCredentials(secret_reader(moto_url), stack.config)
    return ExpiryGuard(
        stack.config,
        stack.store,
        aptible,
        credentials,
        grace=timedelta(minutes=5),
        clock=lambda: at,
    )


async def test_a_membership_no_workflow_will_remove_is_removed_by_the_guard(
    own_stack: Stack,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stack = own_stack
    owner = await _grant(stack, ALICE, "admin_prod", "1h")
    live_owner = await _grant(stack, CAROL, "admin_ro", "8h")
    request_ids = [
        e.id
        async for e in stack.raw_client.list_workflows(
            f"TaskQueue = '{stack.task_queue}' AND ExecutionStatus = 'Running' "
            f"AND WorkflowType = 'AccessRequest' AND JitRequester = '{ALICE}'"
        )
    ]
    # The attacker: nothing in Temporal will remove alice's membership any more.
    for workflow_id in [owner, *request_ids]:
        await stack.raw_client.get_workflow_handle(workflow_id).terminate("attacker")
    assert ALICE in stack.members(ADMIN_ROLE)

    async with AptibleClient(emulator.base_url) as aptible:
        now = datetime.now(UTC)
        # Within the grant, and within its confirmation window and grace after: nothing to do.
        assert await _guard(stack, moto_url, aptible, now).sweep() == []
        assert await _guard(stack, moto_url, aptible, now + timedelta(minutes=75)).sweep() == []
        assert ALICE in stack.members(ADMIN_ROLE)

        # The grant's ticket ended (1 h + the 15 min confirmation window) over 5 minutes ago.
        later = now + timedelta(hours=1, minutes=21)
        with caplog.at_level(logging.ERROR, logger="jitflow.expiry_guard"):
            removed = await _guard(stack, moto_url, aptible, later).sweep()

    assert [(r.membership.role_id, r.membership.user_id) for r in removed] == [
        (ADMIN_ROLE.lower(), EXAMPLE_USER_IDS[ALICE].lower())
    ]
    assert not removed[0].already_absent
    assert ALICE not in stack.members(ADMIN_ROLE)
    assert (
        stack.store.created_membership(
            removed[0].membership.org_id, ADMIN_ROLE, EXAMPLE_USER_IDS[ALICE]
        )
        is None
    )
    message = "\n".join(r.getMessage() for r in caplog.records)
    assert f"user {EXAMPLE_USER_IDS[ALICE].lower()} still held role {ADMIN_ROLE.lower()}" in message
    assert "did not remove it" in message
    # Carol's 8 h grant is live: untouched, and her owner still holds it.
    assert CAROL in stack.members(READONLY_ROLE)
    description = await stack.raw_client.get_workflow_handle(live_owner).describe()
    assert description.status is not None and description.status.name == "RUNNING"
    for run in [
        e.id
        async for e in stack.raw_client.list_workflows(
            f"TaskQueue = '{stack.task_queue}' AND ExecutionStatus = 'Running'"
        )
    ]:
        await stack.raw_client.get_workflow_handle(run).terminate("test over")
    # Carol's membership is jitflow's and its workflows are gone now: the guard is the one to
    # take it away too, once its ticket has ended.
    async with AptibleClient(emulator.base_url) as aptible:
        later = datetime.now(UTC) + timedelta(hours=8, minutes=21)
        removed = await _guard(stack, moto_url, aptible, later).sweep()
    assert [r.membership.user_id for r in removed] == [EXAMPLE_USER_IDS[CAROL].lower()]
    assert CAROL not in stack.members(READONLY_ROLE)


async def test_until_released_grants_and_unknown_ids_are_left_to_their_owner(
    own_stack: Stack, emulator: RunningAptibleEmulator, moto_url: str
) -> None:
    stack = own_stack
    handle = await stack.start(flow="until_revoked", target="admin_prod")
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    await wait_for(handle, lambda s: s.status == "escalated")
    async with AptibleClient(emulator.base_url) as aptible:
        years_later = datetime.now(UTC) + timedelta(days=3650)
        assert await _guard(stack, moto_url, aptible, years_later).sweep() == []
    assert ALICE in stack.members(ADMIN_ROLE)
    await handle.execute_update(
        AccessRequestWorkflow.revoke, Revocation(by="dave@example.com", message="done")
    )
    assert ALICE not in stack.members(ADMIN_ROLE)
