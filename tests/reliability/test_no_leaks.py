"""Every path that could leave a membership behind, reproduced (issue 14's numbered list).

Each test fails on the code before the fix: a membership stays in the emulator, or a caller
never hears back. The session's emulator fixture also fails the run if any membership is left.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from access_stack import (
    ADMIN_ROLE,
    READONLY_ROLE,
    Stack,
    keep_history,
    running_worker,
    status,
    wait_for,
)
from access_stack import test_config as example_test_config
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from jitflow.config.models import Implementation
from jitflow.contracts.access import AccessState, Decision, Revocation, UpdateOutcome
from jitflow.contracts.membership import MembershipKey
from jitflow.devstack.example import EXAMPLE_ORG_ID, EXAMPLE_USER_IDS
from jitflow.testing.aptible_emulator import RunningAptibleEmulator

pytestmark = pytest.mark.asyncio(loop_scope="session")

SLOW_HOOKS = Path(__file__).with_name("slow_hooks.py")
LEAKY_HOOKS = Path(__file__).with_name("leaky_hooks.py")


def _owner_id(email: str, role: str) -> str:
    return MembershipKey(
        org_id=EXAMPLE_ORG_ID, role_id=role, user_id=EXAMPLE_USER_IDS[email], integration_key="x"
    ).workflow_id


async def _granted(stack: Stack, **request: Any) -> Any:
    handle = await stack.start(**request)
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update("approve", Decision(approver="dave@example.com"))
    await wait_for(handle, lambda s: s.status == "escalated")
    return handle


async def _absent(stack: Stack, email: str, role: str, within: float = 15.0) -> float:
    """Seconds until ``email`` no longer holds ``role``; fails after ``within``."""
    started = time.monotonic()
    while email in stack.members(role):
        assert time.monotonic() - started < within, f"{email} still holds {role}"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


# 2. A closed owner does not count as a release ---------------------------------------------


async def test_a_terminated_owner_does_not_keep_the_membership(dev_stack: Stack) -> None:
    handle = await _granted(dev_stack, target="admin_ro", requester="bob@example.com")
    owner = dev_stack.raw_client.get_workflow_handle(_owner_id("bob@example.com", READONLY_ROLE))
    await owner.terminate("an operator cleaning up")
    await handle.execute_update("revoke", Revocation(by="bob@example.com"))
    final: AccessState = await handle.result()
    await _absent(dev_stack, "bob@example.com", READONLY_ROLE)
    assert final.status == "deescalated"
    assert "cleanup owner" in (final.timeline[-1].message or "")
    await keep_history(handle, "terminated_owner_gets_a_cleanup_owner")


# 3. A cancel while the lease is being taken -------------------------------------------------


async def test_a_cancel_during_escalation_leaves_no_lease(dev_stack: Stack) -> None:
    dev_stack.emulator.admin.fail_next(
        "POST /roles/{role}/memberships", "delay", delay_ms=1500
    )  # the add takes a while: the cancel lands while the lease is being taken
    handle = await dev_stack.start(target="admin_ro", requester="carol@example.com", duration="8h")
    await wait_for(handle, lambda s: s.ready_for_decision)
    await handle.execute_update("approve", Decision(approver="dave@example.com"))
    await asyncio.sleep(0.5)
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    await _absent(dev_stack, "carol@example.com", READONLY_ROLE)
    await asyncio.sleep(2)  # the late lease, if any, would have landed by now
    assert "carol@example.com" not in dev_stack.members(READONLY_ROLE)
    await keep_history(handle, "workflow_cancel_during_escalation")


# 4. A reused workflow id ----------------------------------------------------------------------


async def test_a_reused_workflow_id_releases_its_own_lease(dev_stack: Stack) -> None:
    workflow_id = f"reused-{uuid.uuid4().hex[:8]}"
    for run in (1, 2):
        handle = await dev_stack.client.start_workflow(
            "AccessRequest",
            {"flow": "plain", "target": "admin_prod", "requester": "alice@example.com",
             "duration": "1h", "reason": f"run {run}"},
            id=workflow_id,
            task_queue=dev_stack.task_queue,
            result_type=AccessState,
        )  # fmt: skip
        await wait_for(handle, lambda s: s.ready_for_decision)
        await handle.execute_update("approve", Decision(approver="dave@example.com"))
        await wait_for(handle, lambda s: s.status == "escalated")
        assert "alice@example.com" in dev_stack.members(ADMIN_ROLE)
        await handle.execute_update("revoke", Revocation(by="alice@example.com"))
        assert (await handle.result()).status == "deescalated"
        await _absent(dev_stack, "alice@example.com", ADMIN_ROLE)
        if run == 2:
            await keep_history(handle, "reused_id_second_run_releases_its_own_lease")


# 5. Hooks never delay a removal ---------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def slow_stack(
    dev_env: WorkflowEnvironment,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    tmp_path: Path,
) -> AsyncIterator[Stack]:
    """Flows whose hooks take 8 s, or hang (10 s: twice what a removal may take while they do);
    the hooks' worker has 2 threads only."""
    config = example_test_config()
    plain = config.flows["plain"]
    flows = {
        name: plain.model_copy(
            update={
                "key": name,
                "name": name,
                "implementation": Implementation(kind="file", path=str(SLOW_HOOKS)),
                "vars": {"hook_timeout": "1m", "hook_max_attempts": "1", **sleeps},
            }
        )
        for name, sleeps in {
            "slow": {"after_escalate_sleep": "8", "on_deescalate_sleep": "8"},
            "hanging": {"after_escalate_sleep": "10", "on_deescalate_sleep": "10"},
        }.items()
    }
    config = config.model_copy(update={"flows": {**config.flows, **flows}})
    async with running_worker(
        dev_env.client, emulator, moto_url, tmp_path, config, hook_threads=2
    ) as stack:
        yield stack


async def test_a_revoke_does_not_wait_for_a_slow_after_escalate(slow_stack: Stack) -> None:
    handle = await _granted(slow_stack, flow="slow", target="admin_ro")
    started = time.monotonic()
    outcome = await handle.execute_update(
        "revoke", Revocation(by="alice@example.com"), result_type=UpdateOutcome
    )
    assert outcome.status == "deescalated"
    assert time.monotonic() - started < 4, "the revoke waited for user code"
    assert "alice@example.com" not in slow_stack.members(READONLY_ROLE)
    final: AccessState = await handle.result()  # the hooks still ran, after the removal
    assert [e.event for e in final.timeline][-2:] == ["deescalate", "after_escalate"]
    await keep_history(handle, "revoke_during_a_slow_after_escalate")


async def test_hooks_that_hang_do_not_stall_removals(slow_stack: Stack) -> None:
    """More hanging hooks than the hooks' worker has threads: removals still happen at once."""
    grants = [
        await _granted(slow_stack, flow="hanging", target=target, requester=requester)
        for target, requester in [
            ("admin_ro", "alice@example.com"),
            ("admin_ro", "carol@example.com"),
            ("admin_prod", "bob@example.com"),
        ]
    ]
    for handle, (email, role) in zip(
        grants,
        [
            ("alice@example.com", READONLY_ROLE),
            ("carol@example.com", READONLY_ROLE),
            ("bob@example.com", ADMIN_ROLE),
        ],
        strict=True,
    ):
        requester = (await status(handle)).resolved.requester  # type: ignore[union-attr]
        await handle.execute_update("revoke", Revocation(by=requester))
        assert await _absent(slow_stack, email, role, within=5) < 5
    for handle in grants:
        await handle.result()  # the hooks finish (or time out) after the removals


# 7. Inputs that would wedge a workflow task ----------------------------------------------------


@pytest.mark.parametrize(
    ("request_input", "reason"),
    [
        ({"invalid_values": 5}, "not an input key"),
        ({"requester": "a" * 5000 + "@example.com"}, "longer than 320 characters"),
        ({"target": "x" * 3000}, "longer than 200 characters"),
    ],
)
async def test_bad_inputs_fail_the_run_with_a_message(
    dev_stack: Stack, request_input: dict[str, Any], reason: str
) -> None:
    body = {"flow": "plain", "target": "admin_ro", "requester": "alice@example.com",
            "duration": "1h", **request_input}  # fmt: skip
    handle = await dev_stack.client.start_workflow(
        "AccessRequest",
        body,
        id=f"bad-{uuid.uuid4().hex[:8]}",
        task_queue=dev_stack.task_queue,
        result_type=AccessState,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), 20)
    assert reason in str(failed.value.cause)


# 8. Secrets in a hook's failure -----------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def leaky_stack(
    dev_env: WorkflowEnvironment,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    tmp_path: Path,
) -> AsyncIterator[Stack]:
    config = example_test_config()
    leaky = config.flows["plain"].model_copy(
        update={
            "key": "leaky",
            "name": "leaky",
            "implementation": Implementation(kind="file", path=str(LEAKY_HOOKS)),
        }
    )
    config = config.model_copy(update={"flows": {**config.flows, "leaky": leaky}})
    async with running_worker(dev_env.client, emulator, moto_url, tmp_path, config) as stack:
        yield stack


async def test_a_hooks_exception_reaches_history_scrubbed(
    leaky_stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    handle = await leaky_stack.start(flow="leaky", target="admin_ro")
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    state = await status(handle)
    history = (await handle.fetch_history()).to_json()
    for secret in ("s3cr3tWebhookPath", "hunter2hunter2", "key=abc"):
        assert secret not in history
        assert secret not in (state.error or "")
    assert state.error is not None
    assert "on_request" in state.error and "leaky_hooks.py:" in state.error
    assert "RuntimeError" in state.error and "https://hooks.example.com/…" in state.error
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "on_request" in logged and "https://hooks.example.com/…" in logged, (
        "the worker's log says which hook failed, with its traceback"
    )
    assert "Traceback" in logged and "leaky_hooks.py" in logged
    for secret in ("s3cr3tWebhookPath", "hunter2hunter2", "key=abc"):
        assert secret not in logged, "user code's exception text is scrubbed in the log too"
