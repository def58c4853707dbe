"""``jitflow request|approve|deny|revoke|cancel|status`` against a dev server (issue 19).

Each test plays what a person at a terminal does with the example flow (``aptible_access``:
Bob approves, Carol is on call, a reason under 10 characters is refused) and checks what they
read and the exit status a script would test.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from access_stack import READONLY_ROLE, Stack
from cli_helpers import address, jitflow, key, no_traceback, request_args

from jitflow.cli import calls
from jitflow.cli.outcome import ExitCode

pytestmark = pytest.mark.asyncio(loop_scope="session")

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_reusing_an_open_or_ended_id_says_what_happened(
    dev_stack: Stack, tmp_path: Path
) -> None:
    workflow_id = _id("reuse")
    first = await jitflow(dev_stack, *request_args(ALICE, "--id", workflow_id))
    assert first.exit_code == ExitCode.PENDING, first.output

    # Pasting the same command again while the request is open: no traceback, its status and
    # what to do instead.
    again = await jitflow(dev_stack, *request_args(ALICE, "--id", workflow_id))
    no_traceback(again)
    assert again.exit_code == ExitCode.ERROR
    assert f"request {workflow_id!r} is already open (pending" in again.output
    assert f"status {workflow_id}" in again.output and "pick another --id" in again.output

    cancelled = await jitflow(
        dev_stack, "cancel", workflow_id, "--by", ALICE, "--key", key(tmp_path, ALICE)
    )
    assert cancelled.exit_code == ExitCode.DONE, cancelled.output

    # A finished id does not silently start a second request under the first one's name.
    ended = await jitflow(dev_stack, *request_args(ALICE, "--id", workflow_id))
    no_traceback(ended)
    assert ended.exit_code == ExitCode.ERROR
    assert f"request {workflow_id!r} has already ended (cancelled" in ended.output
    assert "--new-run" in ended.output
    runs = [execution async for execution in dev_stack.raw_client.list_workflows(
        f"WorkflowId = '{workflow_id}'"
    )]  # fmt: skip
    assert len(runs) == 1

    # ... unless asked to.
    renewed = await jitflow(dev_stack, *request_args(ALICE, "--id", workflow_id, "--new-run"))
    assert renewed.exit_code == ExitCode.PENDING, renewed.output
    assert f"requested: {workflow_id}" in renewed.output
    withdrawn = await jitflow(
        dev_stack, "cancel", workflow_id, "--by", ALICE, "--key", key(tmp_path, ALICE)
    )
    assert withdrawn.exit_code == ExitCode.DONE, withdrawn.output


async def test_exit_codes_tell_granted_pending_refused_and_failed(
    dev_stack: Stack, tmp_path: Path
) -> None:
    # Failed: a required field is missing. Nothing was requested, so no "requested: <id>"; the
    # message names the option to add, not a Python list.
    failed = await jitflow(dev_stack, *request_args(ALICE, reason=""))
    no_traceback(failed)
    assert failed.exit_code == ExitCode.FAILED, failed.output
    assert "requested:" not in failed.output
    assert "missing --reason" in failed.output and "['reason']" not in failed.output

    # Refused: the flow's on_request hook turns down a short reason.
    refused = await jitflow(dev_stack, *request_args(ALICE, reason="short"))
    assert refused.exit_code == ExitCode.REFUSED, refused.output
    assert "status    denied" in refused.output

    # Pending: waiting for Bob.
    pending = await jitflow(dev_stack, *request_args(ALICE))
    assert pending.exit_code == ExitCode.PENDING, pending.output
    pending_id = pending.output.split("requested: ")[1].split()[0]
    own = await jitflow(
        dev_stack, "approve", pending_id, "--approver", ALICE, "--key", key(tmp_path, ALICE)
    )
    no_traceback(own)
    assert own.exit_code == ExitCode.REFUSED and "refused:" in own.output
    denied = await jitflow(
        dev_stack, "deny", pending_id, "--approver", BOB, "--message", "not today",
        "--key", key(tmp_path, BOB),
    )  # fmt: skip
    assert denied.exit_code == ExitCode.DONE, denied.output
    late = await jitflow(
        dev_stack, "approve", pending_id, "--approver", BOB, "--key", key(tmp_path, BOB)
    )
    no_traceback(late)
    assert late.exit_code == ExitCode.REFUSED and "has ended" in late.output

    # Granted at once: Carol is on call. Revoking it is done, too.
    granted = await jitflow(dev_stack, *request_args(CAROL))
    assert granted.exit_code == ExitCode.DONE, granted.output
    assert "status    escalated" in granted.output
    granted_id = granted.output.split("requested: ")[1].split()[0]
    assert CAROL in dev_stack.members(READONLY_ROLE)
    revoked = await jitflow(
        dev_stack, "revoke", granted_id, "--by", CAROL, "--key", key(tmp_path, CAROL)
    )
    assert revoked.exit_code == ExitCode.DONE, revoked.output
    assert CAROL not in dev_stack.members(READONLY_ROLE)
    twice = await jitflow(
        dev_stack, "revoke", granted_id, "--by", CAROL, "--key", key(tmp_path, CAROL)
    )
    assert twice.exit_code == ExitCode.REFUSED, twice.output


async def test_status_tells_the_story_reason_decision_and_timeline(
    dev_stack: Stack, tmp_path: Path
) -> None:
    started = await jitflow(dev_stack, *request_args(ALICE, "--context", "ticket=INC-42"))
    workflow_id = started.output.split("requested: ")[1].split()[0]
    approved = await jitflow(
        dev_stack, "approve", workflow_id, "--approver", BOB, "--message", "go ahead",
        "--key", key(tmp_path, BOB),
    )  # fmt: skip
    assert approved.exit_code == ExitCode.DONE, approved.output
    revoked = await jitflow(
        dev_stack, "revoke", workflow_id, "--by", ALICE, "--message", "fixed",
        "--key", key(tmp_path, ALICE),
    )  # fmt: skip
    assert revoked.exit_code == ExitCode.DONE, revoked.output

    shown = await jitflow(dev_stack, "status", workflow_id)
    assert shown.exit_code == 0, shown.output
    text = shown.output
    assert "reason    investigate incident 42" in text
    assert "context   ticket=INC-42" in text
    assert f"decided   approved by {BOB}: go ahead" in text
    assert f"revoked   by {ALICE}: fixed" in text
    timeline = text.split("timeline (UTC)\n", 1)[1].splitlines()
    events = [line.split()[2] for line in timeline]
    assert events[:3] == ["request", "approve", "escalate"]
    # Hooks run beside the grant, never before its end: the after_escalate hook's note can land
    # after a revoke this quick (seen in CI), so the last step is judged without the hooks'.
    assert [event for event in events if not event.startswith("after_")][-1] == "deescalate"
    # The example flow's after_escalate hook speaks in the timeline.
    assert any(
        "after_escalate" in line and f"{ALICE} has Admin Read-Only Role for 60 min" in line
        for line in timeline
    )


async def test_request_context_reaches_the_resolved_request(
    dev_stack: Stack, tmp_path: Path
) -> None:
    context_file = tmp_path / "context.json"
    context_file.write_text(json.dumps({"ticket": "INC-7", "pager": {"id": 3}}), encoding="utf-8")
    started = await jitflow(
        dev_stack,
        *request_args(
            ALICE, "--context", f"@{context_file}", "--context", "ticket=INC-8",
            "--context", "team=db",
        ),
    )  # fmt: skip
    assert started.exit_code == ExitCode.PENDING, started.output
    workflow_id = started.output.split("requested: ")[1].split()[0]
    shown = await jitflow(dev_stack, "status", workflow_id, "--json")
    state = json.loads(shown.output)
    wanted = {"ticket": "INC-8", "pager": {"id": 3}, "team": "db"}
    assert state["input"]["context"] == wanted
    assert state["resolved"]["context"] == wanted
    assert "context" not in state["resolved"]["fields"]
    cancelled = await jitflow(
        dev_stack, "cancel", workflow_id, "--by", ALICE, "--key", key(tmp_path, ALICE)
    )
    assert cancelled.exit_code == ExitCode.DONE, cancelled.output


async def test_unknown_ids_and_silent_workers_get_a_sentence_not_a_traceback(
    dev_stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = _id("missing")
    for args in (
        ["status", missing],
        ["approve", missing, "--approver", BOB, "--key", key(tmp_path, BOB)],
        ["revoke", missing, "--by", ALICE, "--key", key(tmp_path, ALICE)],
        ["sign", "deny", missing, "--by", BOB, "--key", key(tmp_path, BOB)],
    ):
        result = await jitflow(dev_stack, *args)
        no_traceback(result)
        assert result.exit_code == ExitCode.ERROR, result.output
        assert f"no request {missing!r} at {address(dev_stack)}" in result.output

    wrong_namespace = await jitflow(dev_stack, "list", "--namespace", "no-such-namespace")
    no_traceback(wrong_namespace)
    assert "namespace 'no-such-namespace' does not exist" in wrong_namespace.output

    bad_key = tmp_path / "not-a-key"
    bad_key.write_text("hello", encoding="utf-8")
    refused_key = await jitflow(
        dev_stack, "approve", missing, "--approver", BOB, "--key", str(bad_key)
    )
    no_traceback(refused_key)
    assert refused_key.exit_code == ExitCode.ERROR
    assert "is not an OpenSSH private key" in refused_key.output

    # A request whose task queue no worker serves: the query times out with the likely cause.
    orphan = _id("orphan")
    handle = await dev_stack.raw_client.start_workflow(
        "AccessRequest", {"flow": "plain"}, id=orphan, task_queue=_id("nobody")
    )
    monkeypatch.setattr(calls, "QUERY_TIMEOUT", timedelta(seconds=1))
    try:
        silent = await jitflow(dev_stack, "status", orphan)
    finally:
        await handle.terminate()
    no_traceback(silent)
    assert silent.exit_code == ExitCode.ERROR
    assert f"request {orphan!r} did not answer within 1s" in silent.output
    assert "make run" in silent.output
