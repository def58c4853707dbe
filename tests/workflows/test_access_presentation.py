"""What people see of requests and membership owners on the dev server (issue 19, items 4 and 8).

Item 4: one identifier for a target wherever a person types or searches it. A request made with
``--target admin_prod`` is listed, searched (``JitTarget``) and shown by ``status`` as
``admin_prod``, however it was given and whether it was granted, pending or failed.

Item 8: the Web UI reads a workflow's summary (set at start), its current details (the
``__temporal_workflow_metadata`` query, which ``temporal workflow metadata`` makes too) and its
input. A request started with the README's ``temporal workflow start`` has no summary of its
own, so its details must tell the story; the membership owner, listed under a
``membership/<uuids>`` id, must say whose access on which role it holds; and the input of a
``jitflow request`` is the caller's, with no internal keys.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import test_access_dev_server as dev
from access_stack import ADMIN_ROLE, Stack, key_file, wait_for

from jitflow.contracts.access import AccessState
from jitflow.contracts.membership import membership_workflow_id
from workflows.access_request import AccessRequestWorkflow
from workflows.request_view import text as markdown

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _metadata(stack: Stack, workflow_id: str) -> dict[str, Any]:
    """What the Web UI shows as the workflow's current details, as the temporal CLI reads it."""
    out = await dev.temporal(
        stack, "workflow", "metadata", "--workflow-id", workflow_id, "-o", "json"
    )
    metadata: dict[str, Any] = json.loads(out)["queryResult"][0]
    return metadata


def _current_details(metadata: dict[str, Any]) -> str:
    return str(metadata.get("currentDetails", ""))


async def _listed(stack: Stack, query: str) -> set[str]:
    out = await dev.temporal(stack, "workflow", "list", "--query", query, "-o", "json")
    rows = json.loads(out) if out.strip() else []
    return {row["execution"]["workflowId"] for row in rows}


async def _request(stack: Stack, target: str, duration: str = "1h") -> tuple[int, str]:
    workflow_id = f"naming-{uuid.uuid4().hex[:8]}"
    result = await dev.jitflow(
        stack, "request", "--flow", "plain", "--target", target, "--id", workflow_id,
        "--requester", "bob@example.com", "--duration", duration, "--reason", "incident 19",
    )  # fmt: skip
    return result.exit_code, workflow_id


async def test_a_target_has_one_identifier_to_type_list_and_search(dev_stack: Stack) -> None:
    by_key = await _request(dev_stack, "admin_prod")
    by_label = await _request(dev_stack, "Admin Role")
    failed = await _request(dev_stack, "admin_prod", duration="7m")  # not an allowed duration
    assert (by_key[0], by_label[0], failed[0]) == (3, 3, 5)  # pending, pending, failed
    ids = {by_key[1], by_label[1], failed[1]}

    async def searchable() -> bool:
        return ids <= await _listed(dev_stack, "JitTarget='admin_prod'")

    await dev.poll(searchable)
    assert not ids & await _listed(dev_stack, "JitTarget='main-aptible-admin-role'")

    listed = await dev.jitflow(dev_stack, "list")
    rows = {line.split()[0]: line.split() for line in listed.output.splitlines()[1:]}
    for workflow_id in ids:
        assert rows[workflow_id][3] == "admin_prod", listed.output

    for workflow_id in (by_key[1], by_label[1]):
        shown = await dev.jitflow(dev_stack, "status", workflow_id)
        assert "target    admin_prod (Admin Role)\n" in shown.output, shown.output
        handle = dev_stack.client.get_workflow_handle(workflow_id)
        await handle.terminate("presentation test finished")
    shown = await dev.jitflow(dev_stack, "status", failed[1])
    assert "status    failed" in shown.output and "target    admin_prod" in shown.output

    # The input the Web UI shows is what the caller gave: no internal keys.
    history = await dev_stack.client.get_workflow_handle(by_key[1]).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    given = json.loads(started.input.payloads[0].data)
    assert "invalid_values" not in given and given["target"] == "admin_prod"


async def test_the_web_ui_tells_the_story_however_the_request_was_started(
    dev_stack: Stack, tmp_path: Path
) -> None:
    workflow_id = f"readme-{uuid.uuid4().hex[:8]}"
    request = {
        "flow": "plain",
        "target": "admin_prod",
        "requester": "alice@example.com",
        "duration": "1h",
        "reason": "investigate incident 42",
    }
    # The README's command: no --static-summary, so only the workflow can say what this is.
    await dev.temporal(
        dev_stack,
        "workflow", "start", "--type", "AccessRequest", "--task-queue", dev_stack.task_queue,
        "--workflow-id", workflow_id, "--input", json.dumps(request),
    )  # fmt: skip
    handle = dev_stack.client.get_workflow_handle_for(AccessRequestWorkflow.run, workflow_id)
    await wait_for(handle, lambda s: s.ready_for_decision)
    pending = _current_details(await _metadata(dev_stack, workflow_id))
    assert "**alice@example\\.com** requests **Admin Role**" in pending, pending
    assert "admin\\_prod" in pending and "for 1h" in pending
    assert "Status: **pending**, waiting for a decision" in pending
    assert "Approvers:" in pending

    approve = await dev.signed_input(
        dev_stack, "approve", workflow_id, "dave@example.com", "go ahead", tmp_path
    )
    await dev.temporal(
        dev_stack, "workflow", "update", "execute", "--workflow-id", workflow_id,
        "--name", "approve", "--input", approve,
    )  # fmt: skip
    state: AccessState = await wait_for(handle, lambda s: s.status == "escalated")
    assert "alice@example.com" in dev_stack.members(ADMIN_ROLE)

    # The membership owner: listed under UUIDs, it says whose access on which role it holds.
    assert state.membership_workflow_id is not None and state.aptible_user_id is not None
    owner_id = membership_workflow_id(
        state.resolved.org_id if state.resolved else "", ADMIN_ROLE, state.aptible_user_id
    )
    assert state.membership_workflow_id == owner_id
    owner = await dev_stack.client.get_workflow_handle(owner_id).describe()
    summary = await owner.static_summary()
    assert summary == "Aptible membership: alice@example.com in Admin Role (admin_prod)"

    async def owner_details() -> str:
        text = _current_details(await _metadata(dev_stack, owner_id))
        return text if f"Lease of request {markdown(workflow_id)}" in text else ""

    held = await dev.poll(owner_details)
    whose = markdown("alice@example.com in Admin Role (admin_prod)")
    assert f"Aptible membership of **{whose}**" in held
    assert "Member now, added by jitflow" in held

    revoke = await dev.signed_input(
        dev_stack, "revoke", workflow_id, "alice@example.com", "done", tmp_path
    )
    await dev.temporal(
        dev_stack, "workflow", "update", "execute", "--workflow-id", workflow_id,
        "--name", "revoke", "--input", revoke,
    )  # fmt: skip
    final = await wait_for(handle, lambda s: s.status == "deescalated")
    assert final.deescalated_at is not None
    ended = _current_details(await _metadata(dev_stack, workflow_id))
    assert "Status: **deescalated**" in ended and "Revoked by alice@example\\.com" in ended
    assert f"Access removed at {final.deescalated_at.isoformat(timespec='seconds')}" in ended
    assert "Access ends at" not in ended
    assert key_file(tmp_path, "alice@example.com").exists()
