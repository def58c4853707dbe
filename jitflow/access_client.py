"""Speaking to ``AccessRequest`` workflows from outside: by the contract's names, typed.

The CLI, the dev stack's demo and the tests start requests, sign and send decisions through
this, so none of them imports workflow code: the names and models come from ``jitflow.contracts``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy

from jitflow.contracts.access import (
    AccessRequestInput,
    AccessState,
    Cancellation,
    Decision,
    Revocation,
    UpdateOutcome,
)
from jitflow.contracts.names import (
    ACCESS_WORKFLOW_TYPE,
    APPROVE_UPDATE,
    CANCEL_UPDATE,
    DEFAULT_TASK_QUEUE,
    DENY_UPDATE,
    REVOKE_UPDATE,
    STATUS_QUERY,
)
from jitflow.contracts.trust import DecisionAction
from jitflow.trust.signing import SignFunction, make_proof

RequestHandle = WorkflowHandle[Any, AccessState]
#: A key's fingerprint and a function that signs bytes with it.
SigningKey = tuple[str, SignFunction]
#: How long to wait for a just-started request to be set up before signing an approval for it.
SETUP_WAIT_SECONDS = 30.0


class AccessRequests:
    """Start requests, decide them and read their state, on one Temporal client."""

    def __init__(
        self,
        client: Client,
        task_queue: str = DEFAULT_TASK_QUEUE,
        *,
        query_timeout: timedelta | None = None,
    ) -> None:
        """``query_timeout`` bounds each ``status`` query: a query needs a worker to answer, and
        without one the server holds the call for long; a person at a terminal should hear
        sooner that no worker is running."""
        self.client = client
        self.task_queue = task_queue
        self.query_timeout = query_timeout

    async def start(
        self,
        request: AccessRequestInput,
        workflow_id: str,
        *,
        summary: str | None = None,
        reuse_ended_id: bool = True,
    ) -> RequestHandle:
        """Start a request; ``WorkflowAlreadyStartedError`` when ``workflow_id`` is running, or
        has ended and ``reuse_ended_id`` is False (a person reusing an id by mistake would
        otherwise start a second, unrelated request under the first one's name)."""
        return await self.client.start_workflow(
            ACCESS_WORKFLOW_TYPE,
            request,
            id=workflow_id,
            task_queue=self.task_queue,
            result_type=AccessState,
            static_summary=summary,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE
            if reuse_ended_id
            else WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )

    def handle(self, workflow_id: str, run_id: str | None = None) -> RequestHandle:
        """The request's latest run, or the run ``run_id`` (a listing names the run it saw: the
        id may have been reused since, and the new run is another grant)."""
        return self.client.get_workflow_handle(workflow_id, run_id=run_id, result_type=AccessState)

    async def status(self, workflow_id: str, run_id: str | None = None) -> AccessState:
        state: AccessState = await self.handle(workflow_id, run_id).query(
            STATUS_QUERY, result_type=AccessState, rpc_timeout=self.query_timeout
        )
        return state

    async def approve(self, workflow_id: str, decision: Decision) -> UpdateOutcome:
        return await self._update(workflow_id, APPROVE_UPDATE, decision)

    async def deny(self, workflow_id: str, decision: Decision) -> UpdateOutcome:
        return await self._update(workflow_id, DENY_UPDATE, decision)

    async def revoke(
        self, workflow_id: str, revocation: Revocation, run_id: str | None = None
    ) -> UpdateOutcome:
        return await self._update(workflow_id, REVOKE_UPDATE, revocation, run_id)

    async def cancel(self, workflow_id: str, cancellation: Cancellation) -> UpdateOutcome:
        return await self._update(workflow_id, CANCEL_UPDATE, cancellation)

    async def signed(
        self,
        action: DecisionAction,
        workflow_id: str,
        who: str,
        message: str | None,
        key: SigningKey,
        now: datetime | None = None,
        *,
        state: AccessState | None = None,
        run_id: str | None = None,
    ) -> Decision | Revocation | Cancellation:
        """The body of ``action``'s update with ``who``'s proof, signed for the request as it
        is now (an approval waits until the request knows its role and user).

        ``state`` and ``run_id``, when the caller already has them (a mass revocation reads
        both from its listing and one query), save a query and a describe per request; the
        proof is the same one either way."""
        if state is None:
            state = await self._ready_state(workflow_id, wait=action == "approve")
        if run_id is None:
            # A request never continues as new: its current run is its first.
            run_id = (await self.handle(workflow_id).describe()).run_id
        fingerprint, sign = key
        proof = make_proof(
            action=action,
            state=state,
            run_id=run_id,
            decider=who,
            message=message,
            fingerprint=fingerprint,
            sign=sign,
            now=now,
        )
        if action in ("approve", "deny"):
            return Decision(approver=who, message=message, proof=proof)
        if action == "revoke":
            return Revocation(by=who, message=message, proof=proof)
        return Cancellation(by=who, message=message, proof=proof)

    async def _ready_state(self, workflow_id: str, wait: bool) -> AccessState:
        deadline = asyncio.get_running_loop().time() + SETUP_WAIT_SECONDS
        while True:
            state = await self.status(workflow_id)
            ready = state.final or (state.resolved is not None and state.aptible_user_id)
            if not wait or ready or asyncio.get_running_loop().time() > deadline:
                return state
            await asyncio.sleep(0.1)

    async def _update(
        self, workflow_id: str, name: str, body: object, run_id: str | None = None
    ) -> UpdateOutcome:
        handle = self.handle(workflow_id, run_id)
        outcome: UpdateOutcome = await handle.execute_update(name, body, result_type=UpdateOutcome)
        return outcome
