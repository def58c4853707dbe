"""Revoking many grants at once: find the escalated requests, take each membership away at its
owner, then send each request its own signed revoke.

Why client-side and not a workflow that fans out: the proof of a revoke is the operator's
signature, made with a private key that must never enter a workflow input or history, so the
client signs every revoke anyway; sending the update itself from here costs the server nothing
more, while a fan-out workflow would add an activity per request on the server that is already
the bottleneck when many grants end together. Each revoke is exactly the one ``jitflow revoke ID``
sends (same proof, same update), and its message names the operation, so every affected
request's history says which mass revocation removed it.

Why the owners first: a revoke that goes through its request costs five workflow tasks and two
activities before the membership is gone (the request accepts it, its activity asks the owner,
the owner removes), and on a busy server each of those waits its turn. Taking access away never
needs a proof, so once one revoke of the operation has been accepted (its signature is trusted)
and the flow's own rule allows this one, the membership goes first, with the owner's
``release_lease`` under the very update id the request's release will use: the owner's two tasks
and one removal, at the owners' task priority. The signed revokes follow, and each request's
release is answered from the owner's first outcome (or finds the owner closed and nothing left).
A revoke its request refuses after that is reported as a failure that says so; the membership
stays gone, which is what anyone may ask of an owner anyway.

Concurrency is bounded: how many removals, then revokes, are asked of the worker at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from jitflow.access_client import AccessRequests, SigningKey
from jitflow.contracts.access import AccessState, Revocation
from jitflow.contracts.mass_revocation import (
    GrantOutcome,
    GrantRevocation,
    MassRevocationSummary,
    RevocationSelection,
)
from jitflow.contracts.membership import (
    LeaseReleased,
    ReleaseLease,
    membership_workflow_id,
    release_update_id,
)
from jitflow.contracts.names import RELEASE_LEASE_UPDATE
from workflows.permissions import revocation_refusal

#: Revokes in flight at once, unless the caller says otherwise.
DEFAULT_CONCURRENCY = 32
#: Refusals that mean the grant was already on its way out when our revoke arrived.
_GONE_REFUSALS = ("nothing to revoke", "already revoked")

Verdict = tuple[GrantOutcome, str | None]
_Item = TypeVar("_Item")


@dataclass(frozen=True)
class Candidate:
    """An escalated request as the visibility listing shows it."""

    workflow_id: str
    run_id: str | None
    requester: str
    target: str


async def find_candidates(client: Client, selection: RevocationSelection) -> list[Candidate]:
    """Every open request the selection matches, from the ``Jit*`` search attributes."""
    found: list[Candidate] = []
    async for execution in client.list_workflows(selection.query()):
        values = {pair.key.name: pair.value for pair in execution.typed_search_attributes}
        found.append(
            Candidate(
                workflow_id=execution.id,
                run_id=execution.run_id,
                requester=str(values.get("JitRequester", "-")),
                target=str(values.get("JitTarget", "-")),
            )
        )
    return found


def operation_message(operation_id: str, message: str | None) -> str:
    """The revoke message every request of one operation carries (and its proof signs)."""
    tag = f"mass revocation {operation_id}"
    return f"{message} ({tag})" if message else tag


@dataclass
class Progress:
    """Counts so far, for a progress line. ``released`` counts memberships already taken away
    at their owners whose requests have not yet recorded the revoke."""

    total: int
    counts: dict[GrantOutcome, int]
    released: int = 0

    @property
    def done(self) -> int:
        return sum(self.counts.values())


@dataclass
class _Read:
    """A request that may be revoked, as its ``status`` query showed it."""

    candidate: Candidate
    state: AccessState
    released_at: float | None = None
    """When its owner confirmed the release (monotonic), if the operation went there first."""


@dataclass
class _Tally:
    """The operation's results so far, in the candidates' order."""

    started: float
    progress: Progress
    on_progress: Callable[[Progress], None] | None
    grants: dict[int, GrantRevocation] = field(default_factory=dict)

    def settle(
        self,
        index: int,
        candidate: Candidate,
        verdict: Verdict,
        at: float,
        released_at: float | None = None,
    ) -> None:
        outcome, detail = verdict
        self.progress.counts[outcome] += 1
        self.grants[index] = GrantRevocation(
            workflow_id=candidate.workflow_id,
            requester=candidate.requester,
            target=candidate.target,
            outcome=outcome,
            detail=detail,
            seconds=round(at - self.started, 3),
            released_seconds=None if released_at is None else round(released_at - self.started, 3),
        )
        self.tell()

    def tell(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress)


def _failure(error: Exception) -> Verdict:
    """What one failed call means for its grant."""
    if isinstance(error, WorkflowUpdateFailedError):
        cause = error.cause
        reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
        return _refused(reason)
    if isinstance(error, RPCError):
        if error.status == RPCStatusCode.NOT_FOUND and "already completed" in error.message:
            return "already_gone", "the request has ended"
        return "failed", f"Temporal: {error.message}"
    return "failed", f"the request could not report its state: {error}"


def _refused(reason: str) -> Verdict:
    if reason.startswith(_GONE_REFUSALS):
        return "already_gone", reason
    return "failed", f"refused: {reason}"


_CALL_ERRORS = (
    WorkflowUpdateFailedError,
    RPCError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)


class MassRevocation:
    """One operation: revoke ``candidates`` as ``by``, ``concurrency`` at a time.

    ``owners_first`` False sends every revoke through its request only (as ``jitflow revoke
    ID`` does), which is slower when many grants go at once."""

    def __init__(
        self,
        requests: AccessRequests,
        *,
        by: str,
        key: SigningKey,
        message: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        operation_id: str | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        owners_first: bool = True,
    ) -> None:
        self.requests = requests
        self.by = by
        self.key = key
        self.operation_id = operation_id or uuid.uuid4().hex[:12]
        self.message = operation_message(self.operation_id, message)
        self.concurrency = max(1, concurrency)
        self.on_progress = on_progress
        self.owners_first = owners_first

    async def run(self, candidates: list[Candidate], query: str = "") -> MassRevocationSummary:
        started = time.monotonic()
        tally = _Tally(
            started=started,
            progress=Progress(
                total=len(candidates),
                counts={"removed": 0, "already_gone": 0, "pending": 0, "failed": 0},
            ),
            on_progress=self.on_progress,
        )
        waiting = list(enumerate(candidates))
        trusted = False
        if self.owners_first:
            # One revoke at a time through its request, until one is accepted: only then is
            # the operator's proof known to be trusted, so that a wrong key changes nothing.
            while waiting and not trusted:
                index, candidate = waiting.pop(0)
                read = await self._read(candidate, at_owner=False)
                if not isinstance(read, _Read):  # refused by the rule or gone: nothing sent
                    tally.settle(index, candidate, read, time.monotonic())
                    continue
                verdict = await self._record(read)
                tally.settle(index, candidate, verdict, time.monotonic())
                trusted = verdict[0] in ("removed", "pending")
                if verdict[0] == "failed":
                    break  # a refused proof, or no answer: the rest go through their requests
        if trusted:
            reads = await self._bounded(
                waiting, lambda candidate: self._read(candidate, at_owner=True), tally
            )
            await self._bounded(reads, self._record, tally)
        else:
            await self._bounded(waiting, self._revoke, tally)
        return MassRevocationSummary(
            operation_id=self.operation_id,
            query=query,
            by=self.by,
            grants=tuple(tally.grants[index] for index in sorted(tally.grants)),
            seconds=round(time.monotonic() - started, 3),
        )

    async def _bounded(
        self,
        items: Sequence[tuple[int, _Item]],
        step: Callable[[_Item], Awaitable[Verdict | _Read]],
        tally: _Tally,
    ) -> list[tuple[int, _Read]]:
        """Run ``step`` on every item, ``concurrency`` at a time; settle each verdict, return
        the requests still to be revoked."""
        gate = asyncio.Semaphore(self.concurrency)
        left: list[tuple[int, _Read]] = []

        async def one(index: int, item: _Item) -> None:
            async with gate:
                result = await step(item)
            if isinstance(result, _Read):
                left.append((index, result))
                if result.released_at is not None:
                    tally.progress.released += 1
                    tally.tell()
                return
            released_at = item.released_at if isinstance(item, _Read) else None
            candidate = item.candidate if isinstance(item, _Read) else item
            assert isinstance(candidate, Candidate)
            if released_at is not None:
                tally.progress.released -= 1
            tally.settle(index, candidate, result, time.monotonic(), released_at)

        await asyncio.gather(*(one(index, item) for index, item in items))
        return sorted(left, key=lambda pair: pair[0])

    async def _revoke(self, candidate: Candidate) -> Verdict:
        """One revoke through its request only, as ``jitflow revoke ID`` sends it."""
        read = await self._read(candidate, at_owner=False)
        return await self._record(read) if isinstance(read, _Read) else read

    async def _read(self, candidate: Candidate, *, at_owner: bool) -> Verdict | _Read:
        """The request's state, and whether the operation's rule lets ``by`` revoke it; with
        ``at_owner``, its membership released at its owner. Never raises for one request: one
        unreachable or refusing request must not stop the others."""
        try:
            state = await self.requests.status(candidate.workflow_id)
        except _CALL_ERRORS as error:
            return _failure(error)
        if state.final:
            return "already_gone", f"the request is {state.status}"
        # The rule the request's validator applies, with the same words: what it would refuse
        # is neither sent nor touched at its owner.
        refusal = revocation_refusal(state, self.by, state.revoked_by)
        if refusal:
            return _refused(refusal)
        read = _Read(candidate=candidate, state=state)
        if at_owner and await self._release_at_owner(candidate, state):
            read.released_at = time.monotonic()
        return read

    async def _release_at_owner(self, candidate: Candidate, state: AccessState) -> bool:
        """Ask the owner of the request's membership to release its lease, as the request's
        own release would. False when it could not be asked (not escalated yet, the owner
        closed or unreachable): the signed revoke then removes the membership the usual way."""
        resolved = state.resolved
        if (
            state.status != "escalated"
            or resolved is None
            or state.aptible_user_id is None
            or candidate.run_id is None
        ):
            return False
        owner = membership_workflow_id(
            resolved.org_id, resolved.target.role_id, state.aptible_user_id
        )
        handle = self.requests.client.get_workflow_handle(owner)
        try:
            await handle.execute_update(
                RELEASE_LEASE_UPDATE,
                ReleaseLease(
                    holder=candidate.workflow_id,
                    reason="revoked",
                    holder_run_id=candidate.run_id,
                ),
                id=release_update_id(candidate.workflow_id, candidate.run_id),
                result_type=LeaseReleased,
            )
        except (WorkflowUpdateFailedError, RPCError):
            return False
        return True

    async def _record(self, read: _Read) -> Verdict:
        """Sign and send one revoke; classify what came back."""
        candidate = read.candidate
        try:
            body = await self.requests.signed(
                "revoke",
                candidate.workflow_id,
                self.by,
                self.message,
                self.key,
                state=read.state,
                run_id=candidate.run_id,
            )
            assert isinstance(body, Revocation)
            outcome = await self.requests.revoke(candidate.workflow_id, body)
        except _CALL_ERRORS as error:
            verdict = _failure(error)
        else:
            if not outcome.accepted:
                verdict = "failed", f"not applied: {outcome.message}"
            elif outcome.status in ("deescalated", "cancelled"):
                verdict = "removed", None
            elif outcome.status in ("approved", "escalated"):
                verdict = "pending", f"still {outcome.status} when the revoke answered"
            else:
                verdict = "failed", f"the request is {outcome.status}"
        if read.released_at is not None and verdict[0] == "failed":
            # The membership is gone all the same; say so next to why the record is missing.
            return "failed", (
                f"its membership was released at its owner, but the request did not record "
                f"the revoke: {verdict[1]}"
            )
        return verdict
