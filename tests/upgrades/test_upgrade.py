"""An upgrade with grants in flight, on a real dev server with Worker Deployment Versioning.

Build A (today's workflow code) serves a pending request, an escalated one and an until-revoked
one; then build B (``build_b.py``: a deliberate non-deterministic change to the approval and
de-escalation path) is deployed beside it and made current. Every request of A is approved,
revoked or expires on time on A with its membership removed, a new request runs on B, and the membership owners created
on A move to B (auto-upgrade) without losing a lease.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from access_stack import (
    ADMIN_ROLE,
    READONLY_ROLE,
    Stack,
    running_worker,
    seed_store,
    wait_for,
)
from build_b import B_PAUSE_SECONDS, AccessRequestWorkflowB
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from jitflow.contracts.access import AccessState, Decision, Revocation
from jitflow.contracts.membership import RoleMembershipState
from jitflow.deployment import (
    DeploymentSettings,
    current_build_id,
    keep_a_live_current,
    set_current,
)
from jitflow.devstack.binaries import temporal_cli
from jitflow.identity import IdentityStore
from jitflow.testing.aptible_emulator import RunningAptibleEmulator
from workflows.access_request import AccessRequestWorkflow
from workflows.reconcile import ReconcileWorkflow
from workflows.role_membership import RoleMembershipWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

BUILD_B_WORKFLOWS = (AccessRequestWorkflowB, RoleMembershipWorkflow, ReconcileWorkflow)


async def build_of(client: Any, workflow_id: str) -> str:
    """The build that completed the run's last workflow task."""
    description = await client.get_workflow_handle(workflow_id).describe()
    info = description.raw_description.workflow_execution_info.versioning_info
    return str(info.deployment_version.build_id)


async def b_pauses(handle: WorkflowHandle[Any, Any]) -> int:
    """How many of build B's extra timers the run's history holds."""
    count = 0
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            timeout = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            count += timeout.total_seconds() == B_PAUSE_SECONDS
    return count


async def temporal(env: WorkflowEnvironment, *args: str) -> str:
    """The ``temporal`` CLI, as an operator runs it during the overlap."""
    address = env.client.service_client.config.target_host
    result = await asyncio.to_thread(
        subprocess.run,
        [str(temporal_cli()), *args, "--address", address],
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"\n$ temporal {' '.join(args)}\n{result.stdout}")
    return result.stdout


@asynccontextmanager
async def two_builds(
    dev_env: WorkflowEnvironment,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    tmp: Path,
) -> AsyncIterator[tuple[DeploymentSettings, Stack, DeploymentSettings, Any]]:
    """Build A serving and current; ``start_b()`` (the fourth item) deploys build B beside it."""
    name = f"jitflow-upgrade-{uuid.uuid4().hex[:8]}"
    queue = f"upgrade-{uuid.uuid4().hex[:8]}"
    a = DeploymentSettings(name=name, build_id="build-a")
    b = DeploymentSettings(name=name, build_id="build-b")
    with IdentityStore.open(f"sqlite:///{tmp / 'identity.db'}") as store:
        seed_store(store)  # one database for both builds, as in production
        async with running_worker(
            dev_env.client, emulator, moto_url, tmp, task_queue=queue, store=store, deployment=a
        ) as stack_a:
            await set_current(stack_a.client, a)
            later: list[Any] = []

            async def start_b() -> Stack:
                manager = running_worker(
                    dev_env.client,
                    emulator,
                    moto_url,
                    tmp,
                    task_queue=queue,
                    store=store,
                    deployment=b,
                    workflows=BUILD_B_WORKFLOWS,
                )
                later.append(manager)
                stack_b = await manager.__aenter__()
                await set_current(stack_b.client, b)
                return stack_b

            try:
                yield a, stack_a, b, start_b
            finally:
                for manager in later:
                    await manager.__aexit__(None, None, None)


async def approved(stack: Stack, handle: WorkflowHandle[Any, AccessState]) -> AccessState:
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update(
        AccessRequestWorkflow.approve, Decision(approver="dave@example.com")
    )
    return await wait_for(handle, lambda s: s.status == "escalated")


async def test_grants_in_flight_survive_a_non_deterministic_upgrade(
    dev_env: WorkflowEnvironment,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    tmp_path: Path,
) -> None:
    async with two_builds(dev_env, emulator, moto_url, tmp_path) as (a, stack, b, start_b):
        # On build A: one escalated grant, one until revoked, one waiting for a decision.
        # An hour: its lease must still be there when build B has come up, however slow the
        # machine; it is revoked on A. The grant that ends on time is ``pending``'s (10 s).
        escalated = await stack.start(
            target="admin_ro", requester="carol@example.com", duration=3600
        )
        escalated_state = await approved(stack, escalated)
        forever = await stack.start(
            flow="until_revoked", target="admin_prod", requester="alice@example.com", duration=10
        )
        await approved(stack, forever)
        pending = await stack.start(target="admin_prod", requester="bob@example.com", duration=10)
        await wait_for(pending, lambda s: s.ready_for_decision)
        owner_id = escalated_state.membership_workflow_id
        assert owner_id is not None
        assert await build_of(stack.client, owner_id) == a.build_id

        # Build B deployed beside A and made current.
        await start_b()
        assert await current_build_id(stack.client, a.name) == b.build_id
        overlap = await temporal(dev_env, "worker", "deployment", "describe", "--name", a.name)
        assert a.build_id in overlap and b.build_id in overlap
        # The README's way to see what still keeps build A: the requests pinned to it.
        pinned = await temporal(
            dev_env,
            "workflow",
            "list",
            "--query",
            f"TemporalWorkerDeploymentVersion='{a}' AND ExecutionStatus='Running' "
            "AND WorkflowType='AccessRequest'",
        )
        for handle in (escalated, forever, pending):
            assert handle.id in pinned

        # A new request runs on B, and its lease lands on the owner A created: the owner moves
        # to B and keeps the lease of A's grant.
        new = await stack.start(target="admin_ro", requester="carol@example.com", duration=10)
        await approved(stack, new)
        assert await build_of(stack.client, new.id) == b.build_id
        assert await build_of(stack.client, owner_id) == b.build_id
        owner = stack.client.get_workflow_handle(owner_id)
        owner_state = await owner.query("state", result_type=RoleMembershipState)
        holders = {lease.holder for lease in owner_state.leases}
        assert {escalated.id, new.id} <= holders, holders

        # A's requests stay on A: approved, revoked and expired there.
        await approved(stack, pending)
        revoked = await forever.execute_update(
            AccessRequestWorkflow.revoke, Revocation(by="dave@example.com")
        )
        assert revoked.status == "deescalated"
        assert "alice@example.com" not in stack.members(ADMIN_ROLE)

        revoked = await escalated.execute_update(
            AccessRequestWorkflow.revoke, Revocation(by="dave@example.com")
        )
        assert revoked.status == "deescalated"
        assert "carol@example.com" in stack.members(READONLY_ROLE), "B's grant still holds it"
        final = await pending.result()  # approved on A after B became current: ends on time
        assert final.status == "deescalated"
        assert final.expires_at is not None and final.escalated_at is not None
        assert (final.expires_at - final.escalated_at).total_seconds() == 10
        assert final.deescalated_at is not None and final.deescalated_at >= final.expires_at
        assert "bob@example.com" not in stack.members(ADMIN_ROLE)
        for handle in (escalated, forever, pending):
            assert await build_of(stack.client, handle.id) == a.build_id
            assert await b_pauses(handle) == 0
        assert (await new.result()).status == "deescalated"
        for _ in range(100):
            if "carol@example.com" not in stack.members(READONLY_ROLE):
                break
            await asyncio.sleep(0.1)
        assert "carol@example.com" not in stack.members(READONLY_ROLE)

        # B's change is a real break: A's history of the expired grant does not replay on B.
        history = await pending.fetch_history()
        with pytest.raises(NondeterminismError):
            await Replayer(
                workflows=[AccessRequestWorkflowB], data_converter=pydantic_data_converter
            ).replay_workflow(history)
        # ... while it does on A's code, and B's own history shows B's extra timers.
        await Replayer(
            workflows=[AccessRequestWorkflow], data_converter=pydantic_data_converter
        ).replay_workflow(history)
        assert await b_pauses(new) == 2


async def test_a_build_restarted_in_place_takes_over_from_a_build_with_no_worker(
    dev_env: WorkflowEnvironment,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    tmp_path: Path,
) -> None:
    """Build A stops and build B starts on new code without being made current (a restart in
    place): B takes over once A's pollers are stale, so owners and new requests do not wait for
    a worker that is gone. A running current build is never displaced."""
    name = f"jitflow-inplace-{uuid.uuid4().hex[:8]}"
    queue = f"inplace-{uuid.uuid4().hex[:8]}"
    a = DeploymentSettings(name=name, build_id="build-a")
    b = DeploymentSettings(name=name, build_id="build-b")
    # A stopped worker's pollers are stale at once (their last poll began before it stopped).
    quick = {"every": 0.5, "stale_after": timedelta(seconds=3)}
    with IdentityStore.open(f"sqlite:///{tmp_path / 'identity.db'}") as store:
        seed_store(store)
        common = {"task_queue": queue, "store": store}
        async with running_worker(
            dev_env.client, emulator, moto_url, tmp_path, deployment=a, **common
        ) as stack_a:
            await set_current(stack_a.client, a)
            # B beside a live A (with the real staleness: a live worker's long poll can last a
            # minute): B does not take over.
            async with running_worker(
                dev_env.client, emulator, moto_url, tmp_path, deployment=b, **common
            ) as stack_b:
                watch = asyncio.create_task(
                    keep_a_live_current(stack_b.client, b, queue, every=0.5)
                )
                await asyncio.sleep(5)
                assert await current_build_id(stack_b.client, name) == a.build_id
                watch.cancel()
        # A is gone; B, restarted in place, takes over.
        async with running_worker(
            dev_env.client, emulator, moto_url, tmp_path, deployment=b, **common
        ) as stack_b:
            watch = asyncio.create_task(keep_a_live_current(stack_b.client, b, queue, **quick))  # type: ignore[arg-type]
            try:
                for _ in range(60):
                    if await current_build_id(stack_b.client, name) == b.build_id:
                        break
                    await asyncio.sleep(0.5)
                assert await current_build_id(stack_b.client, name) == b.build_id
                handle = await stack_b.start(
                    target="admin_ro", requester="bob@example.com", duration=5
                )
                await approved(stack_b, handle)
                assert (await handle.result()).status == "deescalated"
                assert "bob@example.com" not in stack_b.members(READONLY_ROLE)
            finally:
                watch.cancel()
