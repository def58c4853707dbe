"""Speaking to ``AccessRequest`` workflows from outside: by the contract's names, typed.

The CLI, the dev stack's demo and the benchmark start requests and send decisions through this,
so none of them imports workflow code: the names and models come from ``jitflow.contracts``.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle

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

RequestHandle = WorkflowHandle[Any, AccessState]


class AccessRequests:
    """Start requests, decide them and read their state, on one Temporal client."""

    def __init__(self, client: Client, task_queue: str = DEFAULT_TASK_QUEUE) -> None:
        self.client = client
        self.task_queue = task_queue

    async def start(
        self, request: AccessRequestInput, workflow_id: str, *, summary: str | None = None
    ) -> RequestHandle:
        return await self.client.start_workflow(
            ACCESS_WORKFLOW_TYPE,
            request,
            id=workflow_id,
            task_queue=self.task_queue,
            result_type=AccessState,
            static_summary=summary,
        )

    def handle(self, workflow_id: str) -> RequestHandle:
        return self.client.get_workflow_handle(workflow_id, result_type=AccessState)

    async def status(self, workflow_id: str) -> AccessState:
        state: AccessState = await self.handle(workflow_id).query(
            STATUS_QUERY, result_type=AccessState
        )
        return state

    async def approve(self, workflow_id: str, decision: Decision) -> UpdateOutcome:
        return await self._update(workflow_id, APPROVE_UPDATE, decision)

    async def deny(self, workflow_id: str, decision: Decision) -> UpdateOutcome:
        return await self._update(workflow_id, DENY_UPDATE, decision)

    async def revoke(self, workflow_id: str, revocation: Revocation) -> UpdateOutcome:
        return await self._update(workflow_id, REVOKE_UPDATE, revocation)

    async def cancel(self, workflow_id: str, cancellation: Cancellation) -> UpdateOutcome:
        return await self._update(workflow_id, CANCEL_UPDATE, cancellation)

    async def _update(self, workflow_id: str, name: str, body: object) -> UpdateOutcome:
        handle = self.handle(workflow_id)
        outcome: UpdateOutcome = await handle.execute_update(name, body, result_type=UpdateOutcome)
        return outcome
