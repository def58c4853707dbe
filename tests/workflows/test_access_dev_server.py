"""The access workflow on the Temporal dev server: the ``temporal`` CLI, ``jitflow`` CLI, listing.

The dev server is the one users run (``temporal server start-dev``): real visibility, so the
``Jit*`` search attributes answer "who has access right now", and speculative workflow tasks,
so a refused update leaves no event at all in history.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from access_stack import ADMIN_ROLE, READONLY_ROLE, Stack, key_file, wait_for
from click.testing import CliRunner, Result
from temporalio.client import WorkflowUpdateFailedError

from jitflow.cli.main import main
from jitflow.contracts.access import (
    AccessState,
    Decision,
)
from jitflow.devstack.binaries import temporal_cli
from workflows.access_request import AccessRequestWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _address(stack: Stack) -> str:
    return stack.client.service_client.config.target_host


async def temporal(stack: Stack, *args: str) -> str:
    """Run the ``temporal`` CLI against the dev server; return its stdout, fail on exit != 0."""
    command = [str(temporal_cli()), *args, "--address", _address(stack)]
    done = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, f"{' '.join(args)} failed: {done.stderr}{done.stdout}"
    return done.stdout


async def temporal_status(stack: Stack, workflow_id: str) -> dict[str, Any]:
    out = await temporal(
        stack, "workflow", "query", "--workflow-id", workflow_id, "--type", "status", "-o", "json"
    )
    answer: dict[str, Any] = json.loads(out)
    result: dict[str, Any] = answer["queryResult"][0]
    return result


async def poll(check: Any, timeout: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.2)


async def signed_input(
    stack: Stack, action: str, workflow_id: str, who: str, message: str, keys: Path
) -> str:
    signed = await jitflow(
        stack, "sign", action, workflow_id, "--by", who, "--message", message,
        "--key", str(key_file(keys, who)),
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    return signed.output.strip()


async def test_whole_flow_through_the_temporal_cli(dev_stack: Stack, tmp_path: Path) -> None:
    workflow_id = f"cli-{uuid.uuid4().hex[:8]}"
    request = {
        "flow": "plain",
        "target": "admin_ro",
        "requester": "carol@example.com",
        "duration": "1h",
        "reason": "rotate the database password",
    }
    await temporal(
        dev_stack,
        "workflow", "start", "--type", "AccessRequest", "--task-queue", dev_stack.task_queue,
        "--workflow-id", workflow_id, "--input", json.dumps(request),
    )  # fmt: skip

    async def ready() -> bool:
        return bool((await temporal_status(dev_stack, workflow_id))["ready_for_decision"])

    await poll(ready)
    # The decider signs with `jitflow sign`; the temporal CLI sends what it printed.
    approve = await signed_input(
        dev_stack, "approve", workflow_id, "dave@example.com", "go ahead", tmp_path
    )
    await temporal(
        dev_stack, "workflow", "update", "execute", "--workflow-id", workflow_id,
        "--name", "approve", "--input", approve,
    )  # fmt: skip

    async def escalated() -> bool:
        return bool((await temporal_status(dev_stack, workflow_id))["status"] == "escalated")

    await poll(escalated)
    assert "carol@example.com" in dev_stack.members(READONLY_ROLE)

    async def listed() -> bool:
        out = await temporal(
            dev_stack, "workflow", "list", "--query",
            "JitStatus='escalated' AND JitRequester='carol@example.com'", "-o", "json",
        )  # fmt: skip
        return workflow_id in out

    await poll(listed)
    revoke = await signed_input(
        dev_stack, "revoke", workflow_id, "carol@example.com", "finished", tmp_path
    )
    await temporal(
        dev_stack, "workflow", "update", "execute", "--workflow-id", workflow_id,
        "--name", "revoke", "--input", revoke,
    )  # fmt: skip
    final = await temporal_status(dev_stack, workflow_id)
    assert final["status"] == "deescalated"
    assert final["approver"] == "dave@example.com"
    assert "carol@example.com" not in dev_stack.members(READONLY_ROLE)


async def jitflow(stack: Stack, *args: str) -> Result:
    """Run a ``jitflow`` command in a thread (it runs its own event loop)."""
    env = {"TEMPORAL_ADDRESS": _address(stack), "JITFLOW_TASK_QUEUE": stack.task_queue}
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


async def test_jitflow_cli_request_approve_list_revoke(dev_stack: Stack, tmp_path: Path) -> None:
    def key(email: str) -> str:
        return str(key_file(tmp_path, email))

    started = await jitflow(
        dev_stack, "request", "--flow", "plain", "--target", "admin_prod",
        "--requester", "alice@example.com", "--duration", "1h", "--reason", "incident 7",
    )  # fmt: skip
    assert started.exit_code == 3, started.output  # pending (README: exit codes)
    workflow_id = started.output.split("requested: ")[1].split()[0]
    handle = dev_stack.client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id)
    await wait_for(handle, lambda s: s.ready_for_decision)

    refused = await jitflow(
        dev_stack, "approve", workflow_id, "--approver", "alice@example.com",
        "--key", key("alice@example.com"),
    )  # fmt: skip
    assert refused.exit_code == 4  # refused
    assert "may not approve their own request" in refused.output

    approved = await jitflow(
        dev_stack, "approve", workflow_id, "--approver", "dave@example.com",
        "--key", key("dave@example.com"),
    )  # fmt: skip
    assert approved.exit_code == 0, approved.output
    await wait_for(handle, lambda s: s.status == "escalated")
    assert "alice@example.com" in dev_stack.members(ADMIN_ROLE)

    shown = await jitflow(dev_stack, "status", workflow_id)
    assert "status    escalated" in shown.output and "by dave@example.com" in shown.output

    async def active() -> bool:
        listed = await jitflow(dev_stack, "list", "--active")
        return workflow_id in listed.output

    await poll(active)
    revoked = await jitflow(
        dev_stack, "revoke", workflow_id, "--by", "alice@example.com",
        "--key", key("alice@example.com"),
    )  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    assert "deescalated" in revoked.output
    assert "alice@example.com" not in dev_stack.members(ADMIN_ROLE)


async def test_jitflow_cli_deny_and_cancel(dev_stack: Stack, tmp_path: Path) -> None:
    def key(email: str) -> str:
        return str(key_file(tmp_path, email))

    async def request(requester: str) -> str:
        started = await jitflow(
            dev_stack, "request", "--flow", "plain", "--target", "admin_ro",
            "--requester", requester, "--duration", "1h", "--reason", "incident 8",
        )  # fmt: skip
        assert started.exit_code == 3, started.output  # pending
        assert "status    pending" in started.output  # request waits until approvers can act
        return started.output.split("requested: ")[1].split()[0]

    denied_id = await request("bob@example.com")
    denied = await jitflow(
        dev_stack, "deny", denied_id, "--approver", "dave@example.com", "--message", "not today",
        "--key", key("dave@example.com"),
    )  # fmt: skip
    assert denied.exit_code == 0, denied.output
    assert "now denied" in denied.output
    again = await jitflow(
        dev_stack, "approve", denied_id, "--approver", "dave@example.com",
        "--key", key("dave@example.com"),
    )  # fmt: skip
    assert again.exit_code == 4 and "the request has ended" in again.output

    cancelled_id = await request("carol@example.com")
    not_hers = await jitflow(
        dev_stack,
        "cancel",
        cancelled_id,
        "--by",
        "bob@example.com",
        "--key",
        key("bob@example.com"),
    )
    assert not_hers.exit_code == 4 and "only the requester" in not_hers.output
    cancelled = await jitflow(
        dev_stack, "cancel", cancelled_id, "--by", "carol@example.com",
        "--key", key("carol@example.com"),
    )  # fmt: skip
    assert cancelled.exit_code == 0, cancelled.output
    assert "now cancelled" in cancelled.output
    shown = await jitflow(dev_stack, "status", cancelled_id)
    assert "status    cancelled" in shown.output
    assert not {"bob@example.com", "carol@example.com"} & dev_stack.members(READONLY_ROLE)


async def test_refused_update_leaves_no_event_on_the_dev_server(dev_stack: Stack) -> None:
    handle = await dev_stack.start(target="admin_ro", requester="bob@example.com")
    await wait_for(handle, lambda s: s.ready_for_decision)
    before = [event async for event in handle.fetch_history_events()]
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            AccessRequestWorkflow.approve, Decision(approver="carol@example.com")
        )
    after = [event async for event in handle.fetch_history_events()]
    assert len(after) == len(before)
    await handle.execute_update(AccessRequestWorkflow.deny, Decision(approver="dave@example.com"))
    final: AccessState = await handle.result()
    assert final.status == "denied"
