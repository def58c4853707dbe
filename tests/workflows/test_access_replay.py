"""Replay every recorded history against today's workflow code.

A change to ``workflows/`` that would break a running grant (a new activity call, a reordered
timer) makes these fail. Histories are recorded by the path tests with
``JITFLOW_RECORD_HISTORIES=1``; refresh them only together with a versioning change
(``workflow.patched``) for runs already in flight.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from access_stack import HISTORIES
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.access_request import AccessRequestWorkflow
from workflows.role_membership import RoleMembershipWorkflow

RECORDED = sorted(HISTORIES.glob("*.json"))


def test_histories_are_recorded_for_every_path() -> None:
    names = {path.stem for path in RECORDED}
    for path_name in (
        "approve_escalates_then_expires_and_removes",
        "deny_escalates_nothing",
        "pending_request_expires",
        "revoke_removes_access_early",
        "requester_cancels_pending_request",
        "workflow_cancel_while_escalated_still_deescalates",
        "on_request_hook_auto_approves",
        "on_request_hook_ignores",
        "refused_decisions_leave_no_trace",
        "preexisting_membership_is_kept",
        "overlap_short",
        "overlap_long",
        "terminated_request_still_ends_on_time",
        "membership_owner_after_terminate",
        "bad_request_target_nope",
        "bad_request_duration_2h",
        "bad_request_target_admin_ro_requester_nobody_example_com",
        "bad_request_target_owners_requester_bob_example_com",
    ):
        assert path_name in names, f"no recorded history for {path_name}"


@pytest.mark.parametrize("path", RECORDED, ids=[path.stem for path in RECORDED])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    replayer = Replayer(
        workflows=[AccessRequestWorkflow, RoleMembershipWorkflow],
        data_converter=pydantic_data_converter,
    )
    await replayer.replay_workflow(history)
