"""Revoking many grants at once: find the escalated requests, send each its own signed revoke.

Why client-side and not a workflow that fans out: the proof of a revoke is the operator's
signature, made with a private key that must never enter a workflow input or history, so the
client signs every revoke anyway; sending the update itself from here costs the server nothing
more, while a fan-out workflow would add an activity per request on the server that is already
the bottleneck when many grants end together. Each revoke is exactly the one ``jitflow revoke ID``
sends (same proof, same update), and its message names the operation, so every affected
request's history says which mass revocation removed it.

Concurrency is bounded: each revoke update waits until the membership is gone, so the bound is
how many removals are asked of the worker at once, not how many calls are in the air.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from jitflow.access_client import AccessRequests, SigningKey
from jitflow.contracts.access import Revocation
from jitflow.contracts.mass_revocation import (
    GrantOutcome,
    GrantRevocation,
    MassRevocationSummary,
    RevocationSelection,
)

#: Revokes in flight at once, unless the caller says otherwise.
DEFAULT_CONCURRENCY = 32
#: Refusals that mean the grant was already on its way out when our revoke arrived.
_GONE_REFUSALS = ("nothing to revoke", "already revoked")


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
    """Counts so far, for a progress line."""

    total: int
    counts: dict[GrantOutcome, int]

    @property
    def done(self) -> int:
        return sum(self.counts.values())


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
        gate = asyncio.Semaphore(self.concurrency)
        progress = Progress(
            total=len(candidates),
            counts={"removed": 0, "already_gone": 0, "pending": 0, "failed": 0},
        )

        async def one(candidate: Candidate) -> GrantRevocation:
            async with gate:
                outcome, detail = await self._revoke(candidate)
            progress.counts[outcome] += 1
            if self.on_progress is not None:
                self.on_progress(progress)
            return GrantRevocation(
                workflow_id=candidate.workflow_id,
                requester=candidate.requester,
                target=candidate.target,
                outcome=outcome,
                detail=detail,
                seconds=round(time.monotonic() - started, 3),
            )

        grants = await asyncio.gather(*(one(candidate) for candidate in candidates))
        return MassRevocationSummary(
            operation_id=self.operation_id,
            query=query,
            by=self.by,
            grants=tuple(grants),
            seconds=round(time.monotonic() - started, 3),
        )

    async def _revoke(self, candidate: Candidate) -> tuple[GrantOutcome, str | None]:
        """Sign and send one revoke; classify what came back. Never raises for one request:
        one unreachable or refusing request must not stop the others."""
        workflow_id = candidate.workflow_id
        try:
            state = await self.requests.status(workflow_id)
            if state.final:
                return "already_gone", f"the request is {state.status}"
            body = await self.requests.signed(
                "revoke",
                workflow_id,
                self.by,
                self.message,
                self.key,
                state=state,
                run_id=candidate.run_id,
            )
            assert isinstance(body, Revocation)
            outcome = await self.requests.revoke(workflow_id, body)
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
            if reason.startswith(_GONE_REFUSALS):
                return "already_gone", reason
            return "failed", f"refused: {reason}"
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND and "already completed" in error.message:
                return "already_gone", "the request has ended"
            return "failed", f"Temporal: {error.message}"
        except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as error:
            return "failed", f"the request could not report its state: {error}"
        if not outcome.accepted:
            return "failed", f"not applied: {outcome.message}"
        if outcome.status in ("deescalated", "cancelled"):
            return "removed", None
        if outcome.status in ("approved", "escalated"):
            return "pending", f"still {outcome.status} when the revoke answered"
        return "failed", f"the request is {outcome.status}"
