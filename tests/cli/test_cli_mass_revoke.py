"""``jitflow revoke --all | --requester | --target`` against a dev server (issue 16).

Grants are made as people make them (Carol is on call, so hers escalate at once; Bob approves
Alice's), then revoked in bulk. What is checked is what matters in an incident: exactly the
selected memberships leave Aptible, each revoke carries its own valid signature (a wrong key is
refused request by request), the summary counts what happened, and the exit status says whether
everything selected is gone.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

import pytest
from access_stack import ADMIN_ROLE, READONLY_ROLE, Stack, keep_history
from cli_helpers import jitflow, key, no_traceback, request_args

from jitflow.access_client import AccessRequests
from jitflow.cli.mass_revocation import Candidate, MassRevocation, find_candidates
from jitflow.cli.outcome import ExitCode
from jitflow.cli.signing import signer
from jitflow.contracts.mass_revocation import MassRevocationRecord, RevocationSelection
from jitflow.contracts.membership import membership_workflow_id, release_update_id

pytestmark = pytest.mark.asyncio(loop_scope="session")

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
DAVE = "dave@example.com"  # an admin: may revoke anyone's grant


def _requested_id(output: str) -> str:
    return output.split("requested: ")[1].split()[0]


async def _grant(stack: Stack, tmp_path: Path, requester: str, target: str) -> str:
    """A grant in force: Carol's escalate at once (on call); others are approved by Bob."""
    args = request_args(requester)
    args[args.index("admin_ro")] = target
    started = await jitflow(stack, *args)
    workflow_id = _requested_id(started.output)
    if requester != CAROL:
        approved = await jitflow(
            stack, "approve", workflow_id, "--approver", BOB, "--key", key(tmp_path, BOB)
        )
        assert approved.exit_code == ExitCode.DONE, approved.output
    else:
        assert started.exit_code == ExitCode.DONE, started.output
    return workflow_id


async def _listed(stack: Stack, selection: RevocationSelection, wanted: set[str]) -> None:
    """Wait until visibility shows exactly ``wanted`` for the selection (it lags a moment)."""
    found: set[str] = set()
    for _ in range(100):
        found = {c.workflow_id for c in await find_candidates(stack.raw_client, selection)}
        if found == wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"visibility shows {sorted(found)}, expected {sorted(wanted)}")


def _summary_counts(output: str) -> dict[str, int]:
    counts = {}
    for label in ("removed", "already gone", "failed"):
        line = next(line for line in output.splitlines() if line.strip().startswith(label))
        counts[label] = int(line.split()[-1])
    return counts


async def test_revoke_by_requester_target_and_all_each_signed(
    dev_stack: Stack, tmp_path: Path
) -> None:
    queue = dev_stack.task_queue
    carol_ro = await _grant(dev_stack, tmp_path, CAROL, "admin_ro")
    carol_prod = await _grant(dev_stack, tmp_path, CAROL, "admin_prod")
    alice_ro = await _grant(dev_stack, tmp_path, ALICE, "admin_ro")
    everything = RevocationSelection(everything=True, task_queue=queue)
    await _listed(dev_stack, everything, {carol_ro, carol_prod, alice_ro})
    assert dev_stack.members(READONLY_ROLE) >= {CAROL, ALICE}
    assert CAROL in dev_stack.members(ADMIN_ROLE)

    # A key that is not Dave's: every revoke is refused on its own proof, nothing is removed.
    wrong_key = await jitflow(
        dev_stack, "revoke", "--all", "--by", DAVE, "--key", key(tmp_path, "mallory@example.com")
    )
    no_traceback(wrong_key)
    assert wrong_key.exit_code == ExitCode.REFUSED, wrong_key.output
    assert _summary_counts(wrong_key.output) == {"removed": 0, "already gone": 0, "failed": 3}
    assert wrong_key.output.count("refused:") == 3
    assert dev_stack.members(READONLY_ROLE) >= {CAROL, ALICE}
    assert CAROL in dev_stack.members(ADMIN_ROLE)

    # Requester and target together: only Carol's read-only grant.
    one = await jitflow(
        dev_stack, "revoke", "--requester", CAROL, "--target", "admin_ro", "--by", DAVE,
        "--key", key(tmp_path, DAVE),
    )  # fmt: skip
    assert one.exit_code == ExitCode.DONE, one.output
    assert _summary_counts(one.output) == {"removed": 1, "already gone": 0, "failed": 0}
    assert CAROL not in dev_stack.members(READONLY_ROLE)
    assert ALICE in dev_stack.members(READONLY_ROLE) and CAROL in dev_stack.members(ADMIN_ROLE)

    # A target by the key a requester types (the search attribute holds the target's name).
    prod = await jitflow(
        dev_stack, "revoke", "--target", "admin_prod", "--by", DAVE, "--key", key(tmp_path, DAVE)
    )
    assert prod.exit_code == ExitCode.DONE, prod.output
    assert _summary_counts(prod.output)["removed"] == 1
    assert CAROL not in dev_stack.members(ADMIN_ROLE)
    assert ALICE in dev_stack.members(READONLY_ROLE)

    # Everything that is left, with a message that names the operation in each history.
    await _listed(dev_stack, everything, {alice_ro})
    rest = await jitflow(
        dev_stack, "revoke", "--all", "--by", DAVE, "--message", "incident 42",
        "--key", key(tmp_path, DAVE),
    )  # fmt: skip
    assert rest.exit_code == ExitCode.DONE, rest.output
    assert _summary_counts(rest.output) == {"removed": 1, "already gone": 0, "failed": 0}
    assert ALICE not in dev_stack.members(READONLY_ROLE)
    operation = rest.output.split("mass revocation ")[1].split()[0]
    state = json.loads((await jitflow(dev_stack, "status", alice_ro, "--json")).output)
    assert state["status"] == "deescalated" and state["revoked_by"] == DAVE
    assert state["revoke_message"] == f"incident 42 (mass revocation {operation})"
    for workflow_id in (carol_ro, carol_prod):
        shown = json.loads((await jitflow(dev_stack, "status", workflow_id, "--json")).output)
        assert shown["status"] == "deescalated" and shown["revoked_by"] == DAVE

    # The Web UI shows the operation as one item: its record, with the summary.
    record = dev_stack.client.get_workflow_handle(
        f"mass-revocation-{operation}", result_type=MassRevocationRecord
    )
    kept: MassRevocationRecord = await record.result()
    assert kept.start.workflow_ids == (alice_ro,) and kept.start.by == DAVE
    assert kept.summary is not None and kept.summary.count("removed") == 1
    assert not kept.abandoned
    description = await record.describe()
    assert await description.static_summary() == (
        f"Mass revocation of every escalated grant by {DAVE}: 1 grants"
    )
    await keep_history(record, "mass_revocation_record")

    # Nothing left: a clear sentence and success.
    await _listed(dev_stack, everything, set())
    none_left = await jitflow(
        dev_stack, "revoke", "--all", "--by", DAVE, "--key", key(tmp_path, DAVE)
    )
    assert none_left.exit_code == ExitCode.DONE, none_left.output
    assert "nothing to revoke" in none_left.output


async def test_a_grant_that_ended_since_the_listing_counts_as_already_gone(
    dev_stack: Stack, tmp_path: Path
) -> None:
    gone = await _grant(dev_stack, tmp_path, CAROL, "admin_ro")
    live = await _grant(dev_stack, tmp_path, ALICE, "admin_prod")
    selection = RevocationSelection(everything=True, task_queue=dev_stack.task_queue)
    await _listed(dev_stack, selection, {gone, live})
    listing = await find_candidates(dev_stack.raw_client, selection)
    # Someone revokes one grant after the listing was made: the mass revocation still holds it.
    single = await jitflow(dev_stack, "revoke", gone, "--by", CAROL, "--key", key(tmp_path, CAROL))
    assert single.exit_code == ExitCode.DONE, single.output
    seen: list[int] = []
    operation = MassRevocation(
        AccessRequests(dev_stack.raw_client, dev_stack.task_queue),
        by=DAVE,
        key=signer(Path(key(tmp_path, DAVE))),
        concurrency=1,  # in order: the duplicate comes after the first revoke has answered
        on_progress=lambda progress: seen.append(progress.done),
    )
    # The same request listed twice (a stale page) is revoked once and found gone once.
    summary = await operation.run([*listing, Candidate(live, None, ALICE, "admin_prod")])
    outcomes = {grant.workflow_id: grant.outcome for grant in summary.grants}
    assert outcomes[gone] == "already_gone"
    assert sorted(grant.outcome for grant in summary.grants if grant.workflow_id == live) == [
        "already_gone",
        "removed",
    ]
    assert (summary.count("removed"), summary.count("already_gone"), summary.count("failed")) == (
        1,
        2,
        0,
    )
    # Progress is told per grant settled (and per membership taken away at its owner).
    assert sorted(set(seen)) == [1, 2, 3]
    assert ALICE not in dev_stack.members(ADMIN_ROLE) and CAROL not in dev_stack.members(
        READONLY_ROLE
    )


async def _accepted_at(
    stack: Stack, workflow_id: str, *, update_id: str = "", name: str = ""
) -> datetime:
    """When ``workflow_id``'s latest run accepted the update with that id, or of that name."""
    history = await stack.raw_client.get_workflow_handle(workflow_id).fetch_history()
    for event in history.events:
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            if request.meta.update_id == update_id or request.input.name == name:
                return event.event_time.ToDatetime()
    raise AssertionError(f"{workflow_id} accepted no update {update_id or name}")


async def test_memberships_go_at_their_owners_before_the_requests_record_the_revoke(
    dev_stack: Stack, tmp_path: Path
) -> None:
    carol_ro = await _grant(dev_stack, tmp_path, CAROL, "admin_ro")
    carol_prod = await _grant(dev_stack, tmp_path, CAROL, "admin_prod")
    alice_ro = await _grant(dev_stack, tmp_path, ALICE, "admin_ro")
    everything = RevocationSelection(everything=True, task_queue=dev_stack.task_queue)
    await _listed(dev_stack, everything, {carol_ro, carol_prod, alice_ro})
    requests = AccessRequests(dev_stack.raw_client, dev_stack.task_queue)
    owners = {}
    for workflow_id in (carol_ro, carol_prod):
        state = await requests.status(workflow_id)
        assert state.resolved is not None and state.aptible_user_id is not None
        owners[workflow_id] = membership_workflow_id(
            state.resolved.org_id, state.resolved.target.role_id, state.aptible_user_id
        )

    # Carol may revoke only her own grants: Alice's is refused by the flow's rule, as its
    # request would refuse it, and nothing of it is touched, not even at its owner.
    result = await jitflow(
        dev_stack, "revoke", "--all", "--by", CAROL, "--key", key(tmp_path, CAROL)
    )
    no_traceback(result)
    assert result.exit_code == ExitCode.REFUSED, result.output
    assert _summary_counts(result.output) == {"removed": 2, "already gone": 0, "failed": 1}
    assert f"{alice_ro} ({ALICE}, admin_ro): refused: {CAROL} may not revoke" in result.output
    assert ALICE in dev_stack.members(READONLY_ROLE)
    assert CAROL not in dev_stack.members(READONLY_ROLE) | dev_stack.members(ADMIN_ROLE)

    # The first of Carol's grants went through its request (it proves the key is trusted);
    # the other's membership was released at its owner before its request accepted the revoke,
    # under the update id of the request's own release. Both requests record Carol's revoke.
    owner_first = []
    for workflow_id, owner in owners.items():
        run_id = (await dev_stack.raw_client.get_workflow_handle(workflow_id).describe()).run_id
        update_id = release_update_id(workflow_id, run_id)
        released = await _accepted_at(dev_stack, owner, update_id=update_id)
        revoked = await _accepted_at(dev_stack, workflow_id, name="revoke")
        owner_first.append(released < revoked)
        shown = json.loads((await jitflow(dev_stack, "status", workflow_id, "--json")).output)
        assert shown["status"] == "deescalated" and shown["revoked_by"] == CAROL
        if released < revoked:
            handle = dev_stack.client.get_workflow_handle(workflow_id)
            await keep_history(handle, "revoke_after_its_owner_released_the_lease")
            owner_handle = dev_stack.client.get_workflow_handle(owner)
            await keep_history(owner_handle, "membership_owner_released_by_a_mass_revocation")
    assert sorted(owner_first) == [False, True]
    # The record says when each membership went, where that came before the revoke's answer.
    operation = result.output.split("mass revocation ")[1].split()[0]
    record = dev_stack.client.get_workflow_handle(
        f"mass-revocation-{operation}", result_type=MassRevocationRecord
    )
    kept: MassRevocationRecord = await record.result()
    assert kept.summary is not None
    released = [g for g in kept.summary.grants if g.released_seconds is not None]
    assert len(released) == 1 and released[0].outcome == "removed"
    assert released[0].released_seconds is not None
    assert released[0].released_seconds <= released[0].seconds
    state = await requests.status(alice_ro)
    assert state.status == "escalated" and state.revoked_by is None
    cleanup = await jitflow(
        dev_stack, "revoke", alice_ro, "--by", DAVE, "--key", key(tmp_path, DAVE)
    )
    assert cleanup.exit_code == ExitCode.DONE, cleanup.output
    assert ALICE not in dev_stack.members(READONLY_ROLE)


async def test_a_reused_request_id_is_another_grant_and_is_left_alone(
    dev_stack: Stack, tmp_path: Path
) -> None:
    probe = await _grant(dev_stack, tmp_path, CAROL, "admin_prod")
    reused = f"reused-{tmp_path.name[-12:]}"
    first = await jitflow(dev_stack, *request_args(CAROL, "--id", reused))
    assert first.exit_code == ExitCode.DONE, first.output
    listed_run = (await dev_stack.raw_client.get_workflow_handle(reused).describe()).run_id
    ended = await jitflow(dev_stack, "revoke", reused, "--by", CAROL, "--key", key(tmp_path, CAROL))
    assert ended.exit_code == ExitCode.DONE, ended.output
    # The id is used again: a new grant of the same role to the same person, not selected.
    again = await jitflow(dev_stack, *request_args(CAROL, "--id", reused, "--new-run"))
    assert again.exit_code == ExitCode.DONE, again.output
    assert CAROL in dev_stack.members(READONLY_ROLE)

    operation = MassRevocation(
        AccessRequests(dev_stack.raw_client, dev_stack.task_queue),
        by=DAVE,
        key=signer(Path(key(tmp_path, DAVE))),
        concurrency=1,
    )
    # A stale listing: the probe's revoke is accepted, so the stale entry goes owners-first.
    summary = await operation.run(
        [
            Candidate(probe, None, CAROL, "admin_prod"),
            Candidate(reused, listed_run, CAROL, "admin_ro"),
        ]
    )
    outcomes = [(grant.workflow_id, grant.outcome, grant.detail) for grant in summary.grants]
    assert outcomes == [
        (probe, "removed", None),
        (reused, "already_gone", "the request is deescalated"),
    ]
    assert CAROL in dev_stack.members(READONLY_ROLE)
    assert CAROL not in dev_stack.members(ADMIN_ROLE)
    state = await AccessRequests(dev_stack.raw_client, dev_stack.task_queue).status(reused)
    assert state.status == "escalated" and state.revoked_by is None
    cleanup = await jitflow(
        dev_stack, "revoke", reused, "--by", CAROL, "--key", key(tmp_path, CAROL)
    )
    assert cleanup.exit_code == ExitCode.DONE, cleanup.output
    assert CAROL not in dev_stack.members(READONLY_ROLE)


async def test_selection_options_are_exclusive(dev_stack: Stack, tmp_path: Path) -> None:
    for args in (
        ["revoke", "some-id", "--all"],
        ["revoke", "--all", "--requester", ALICE],
        ["revoke"],
    ):
        result = await jitflow(dev_stack, *args, "--by", DAVE, "--key", key(tmp_path, DAVE))
        no_traceback(result)
        assert result.exit_code == ExitCode.USAGE, result.output
