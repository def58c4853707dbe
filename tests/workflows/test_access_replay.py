"""Replay every recorded history against today's workflow code, and keep the corpus frozen.

A change to ``workflows/`` that would break a running grant (a new activity call, a reordered
timer) makes these fail. The corpus only grows: ``corpus.sha256`` lists every history with its
digest, and a history that changed or disappeared fails here, also against every earlier version
of that list in git. A change to a replayed path goes behind ``workflow.patched`` and records
its new path under a new name (``JITFLOW_RECORD_HISTORIES=1`` never overwrites a history).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from access_stack import HISTORIES, MANIFEST, history_digest, read_manifest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from worker import WORKFLOWS

RECORDED = sorted(HISTORIES.glob("*.json"))
ROOT = HISTORIES.parents[1]


def _manifests_in_git() -> list[dict[str, str]]:
    """Every committed version of ``corpus.sha256`` (none outside a git checkout)."""
    relative = str(MANIFEST.relative_to(ROOT))
    try:
        commits = subprocess.run(
            ["git", "log", "--format=%H", "--", relative],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return []
    versions = []
    for commit in commits:
        text = subprocess.run(
            ["git", "show", f"{commit}:{relative}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        versions.append(
            {name: digest for digest, name in (line.split() for line in text.splitlines())}
        )
    return versions


def test_every_history_is_in_the_frozen_corpus() -> None:
    listed = read_manifest()
    unlisted = sorted(path.name for path in RECORDED if path.name not in listed)
    assert not unlisted, (
        f"histories missing from {MANIFEST.name}: {unlisted}; record them with "
        "JITFLOW_RECORD_HISTORIES=1, which adds them to the corpus"
    )


@pytest.mark.parametrize("name", sorted(read_manifest()))
def test_frozen_history_is_unchanged(name: str) -> None:
    path = HISTORIES / name
    assert path.exists(), f"{name} was removed from the frozen corpus; histories only grow"
    assert history_digest(path) == read_manifest()[name], (
        f"{name} changed; a recorded history stands for runs in flight and is never re-recorded: "
        "guard the change with workflow.patched and record the new path under a new name"
    )


def test_the_corpus_only_grows_across_commits() -> None:
    today = read_manifest()
    for version in _manifests_in_git():
        for name, digest in version.items():
            assert today.get(name) == digest, f"{name} was changed or dropped since it was frozen"


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
        workflows=list(WORKFLOWS),
        data_converter=pydantic_data_converter,
        # temporalio's strict sandbox, on purpose: the production worker runs unsandboxed
        # (jitflow/worker_tuning.py), so this is where the workflow modules meet it.
        workflow_runner=SandboxedWorkflowRunner(),
    )
    await replayer.replay_workflow(history)
