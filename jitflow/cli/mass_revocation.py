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
and the flow's own rule allows this one, its lease goes first, with the owner's ``release_lease``
under the very update id the request's release will use: the owner's two tasks and one removal,
at the owners' task priority. The signed revokes follow. Each request's release then finds the
owner closed and nothing left (its last lease gone), or, while the owner still runs for other
leases, gets the first release's answer again. A revoke its request refuses after that is
reported as a failure that says so; the lease stays released, which is what anyone may ask of
an owner anyway.

Every call names the run the listing saw: a request id reused since then is another grant, and
neither its status, its lease nor its revoke is touched.

Concurrency is bounded: how many requests are read and released, then revoked, at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
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
from jitflow.contracts.membership import LeaseReleased, ReleaseLease, release_update_id
from jitflow.contracts.names import RELEASE_LEASE_UPDATE
from workflows.permissions import revocation_refusal
from workflows.request_activities import membership_key

#: Requests read and released, then revoked, at once, unless the caller says otherwise. Measured
#: on the benchmark's 1000 grants (``bench/README.md``): with the worker unsandboxed, 64 took the
#: last membership 37.5 s after the start against 39.6 s with 32; before that, when each of the
#: worker's tasks cost twice the CPU, more than 32 gained nothing and 128 timed out.
DEFAULT_CONCURRENCY = 64
#: How long one owner may take to answer a release before its grant goes the usual way (its
#: request's revoke, whose release joins the same update): one stuck removal, retried by its
#: owner, must not hold back the revokes of all the others.
OWNER_RELEASE_WAIT_S = 30.0
#: Refusals that mean the grant was already on its way out when our revoke arrived.
_GONE_REFUSALS = ("nothing to revoke", "already revoked")

Verdict = tuple[GrantOutcome, str | None]


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
    """Counts so far, for a progress line. ``released`` counts leases already released at their
    owners whose requests have not yet recorded the revoke."""

    total: int
    counts: dict[GrantOutcome, int]
    released: int = 0

    @property
    def done(self) -> int:
        return sum(self.counts.values())


@dataclass
class Revocable:
    """A request the operation may revoke, as its ``status`` query showed it."""

    candidate: Candidate
    state: AccessState
    released_at: float | None = None
    """When its owner confirmed the lease released (monotonic), if the operation went there
    first; the membership went with it unless another grant or standing access holds it."""


@dataclass
class _Tally:
    """The operation's results so far, by the candidates' order, and the progress they make."""

    started: float
    progress: Progress
    on_progress: Callable[[Progress], None] | None
    grants: dict[int, GrantRevocation] = field(default_factory=dict)

    def released(self) -> None:
        self.progress.released += 1
        self._tell()

    def settle(
        self, index: int, candidate: Candidate, verdict: Verdict, released_at: float | None = None
    ) -> None:
        outcome, detail = verdict
        if released_at is not None:
            self.progress.released -= 1
        self.progress.counts[outcome] += 1
        self.grants[index] = GrantRevocation(
            workflow_id=candidate.workflow_id,
            requester=candidate.requester,
            target=candidate.target,
            outcome=outcome,
            detail=detail,
            seconds=self._since_start(time.monotonic()),
            released_seconds=None if released_at is None else self._since_start(released_at),
        )
        self._tell()

    def _since_start(self, moment: float) -> float:
        return round(moment - self.started, 3)

    def _tell(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress)


def _failure(error: Exception) -> Verdict:
    """What one failed call means for its grant: the one place errors become outcomes."""
    if isinstance(error, WorkflowUpdateFailedError):
        cause = error.cause
        return _refused(cause.message if isinstance(cause, ApplicationError) else str(cause))
    if isinstance(error, RPCError):
        if error.status == RPCStatusCode.NOT_FOUND and "already completed" in error.message:
            return "already_gone", "the request has ended"
        return "failed", f"Temporal: {error.message}"
    if isinstance(error, WorkflowUpdateRPCTimeoutOrCancelledError):
        return "failed", "Temporal: the revoke was not answered in time"
    if isinstance(error, WorkflowQueryFailedError | WorkflowQueryRejectedError):
        return "failed", f"the request could not report its state: {error}"
    # Not foreseen: one request's trouble is still only that request's outcome.
    return "failed", f"{type(error).__name__}: {error}"


def _refused(reason: str) -> Verdict:
    if reason.startswith(_GONE_REFUSALS):
        return "already_gone", reason
    return "failed", f"refused: {reason}"


class MassRevocation:
    """One operation: revoke ``candidates`` as ``by``, ``concurrency`` at a time."""

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
    ) -> None:
        self.requests = requests
        self.by = by
        self.key = key
        self.operation_id = operation_id or uuid.uuid4().hex[:12]
        self.message = operation_message(self.operation_id, message)
        self.concurrency = max(1, concurrency)
        self.on_progress = on_progress

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
        waiting = list(range(len(candidates)))
        trusted = False
        # One revoke at a time through its request, until one is accepted: only then is the
        # operator's proof known to be trusted, so that a wrong key changes nothing. Any other
        # failure of that revoke (Temporal unreachable) also keeps every grant on that path.
        while waiting and not trusted:
            index = waiting.pop(0)
            candidate = candidates[index]
            read = await self._read_or_verdict(candidate, at_owner=False)
            if not isinstance(read, Revocable):  # refused by the rule, or gone: nothing sent
                tally.settle(index, candidate, read)
                continue
            verdict = await self.record_revoke(read)
            tally.settle(index, candidate, verdict)
            if verdict[0] == "failed":
                break
            trusted = verdict[0] in ("removed", "pending")

        if not trusted:

            async def revoke(index: int) -> None:
                candidate = candidates[index]
                read = await self._read_or_verdict(candidate, at_owner=False)
                if isinstance(read, Revocable):
                    tally.settle(index, candidate, await self.record_revoke(read))
                else:
                    tally.settle(index, candidate, read)

            await self._each(waiting, revoke)
        else:
            revocable: dict[int, Revocable] = {}

            async def release(index: int) -> None:
                read = await self._read_or_verdict(candidates[index], at_owner=True)
                if not isinstance(read, Revocable):
                    tally.settle(index, candidates[index], read)
                    return
                revocable[index] = read
                if read.released_at is not None:
                    tally.released()

            async def record(index: int) -> None:
                read = revocable[index]
                verdict = await self.record_revoke(read)
                tally.settle(index, read.candidate, verdict, read.released_at)

            await self._each(waiting, release)
            await self._each(sorted(revocable), record)
        return MassRevocationSummary(
            operation_id=self.operation_id,
            query=query,
            by=self.by,
            grants=tuple(tally.grants[index] for index in sorted(tally.grants)),
            seconds=round(time.monotonic() - started, 3),
        )

    async def _each(self, indexes: Iterable[int], work: Callable[[int], Awaitable[None]]) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(index: int) -> None:
            async with gate:
                await work(index)

        await asyncio.gather(*(one(index) for index in indexes))

    async def _read_or_verdict(
        self, candidate: Candidate, *, at_owner: bool
    ) -> Verdict | Revocable:
        try:
            return await self.read(candidate, at_owner=at_owner)
        except Exception as error:  # each request's failure is its own outcome
            return _failure(error)

    async def read(self, candidate: Candidate, *, at_owner: bool) -> Verdict | Revocable:
        """The listed run's state, and whether the flow's rule lets ``by`` revoke it; with
        ``at_owner``, its lease released at its owner first."""
        state = await self.requests.status(candidate.workflow_id, candidate.run_id)
        if state.final:
            return "already_gone", f"the request is {state.status}"
        # The rule the request's validator applies, with the same words: what it would refuse
        # is neither sent nor touched at its owner.
        refusal = revocation_refusal(state, self.by, state.revoked_by)
        if refusal:
            return _refused(refusal)
        read = Revocable(candidate=candidate, state=state)
        if at_owner and await self._release_at_owner(candidate, state):
            read.released_at = time.monotonic()
        return read

    async def _release_at_owner(self, candidate: Candidate, state: AccessState) -> bool:
        """Ask the owner of the request's membership to release its lease, as the request's
        own release would. False when it did not (not escalated yet, the owner closed or held
        no such lease, no answer in time): the signed revoke then removes it the usual way."""
        resolved = state.resolved
        if (
            state.status != "escalated"
            or resolved is None
            or state.aptible_user_id is None
            or candidate.run_id is None
        ):
            return False
        # The owner the request itself releases at: its key, by the request's own rule.
        owner = membership_key(resolved, state.aptible_user_id).workflow_id
        handle = self.requests.client.get_workflow_handle(owner)
        try:
            answer: LeaseReleased = await asyncio.wait_for(
                handle.execute_update(
                    RELEASE_LEASE_UPDATE,
                    ReleaseLease(
                        holder=candidate.workflow_id,
                        reason="revoked",
                        holder_run_id=candidate.run_id,
                    ),
                    id=release_update_id(candidate.workflow_id, candidate.run_id),
                    result_type=LeaseReleased,
                ),
                OWNER_RELEASE_WAIT_S,
            )
        except (
            TimeoutError,
            WorkflowUpdateFailedError,
            WorkflowUpdateRPCTimeoutOrCancelledError,
            RPCError,
        ):
            return False
        return answer.released

    async def record_revoke(self, read: Revocable) -> Verdict:
        """Sign and send one revoke to the listed run; what came back, as an outcome."""
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
            outcome = await self.requests.revoke(candidate.workflow_id, body, candidate.run_id)
        except Exception as error:  # each request's failure is its own outcome
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
            # The lease is released all the same; say so next to why the record is missing.
            return "failed", (
                f"its lease was released at its owner, but the request did not record the "
                f"revoke: {verdict[1]}"
            )
        return verdict
