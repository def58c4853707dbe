"""Build B of the worker: ``AccessRequest`` with a deliberate, unguarded non-deterministic change.

It waits on a timer before it escalates and before it removes access, so a history that build A
wrote (an activity where B expects a timer) cannot replay on B. Worker Versioning must keep every
request started on A away from this code.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    # As the real workflow module does: one copy of the models inside and outside the sandbox.
    from jitflow.contracts.access import AccessRequestInput, AccessState, ResolvedRequest
    from jitflow.contracts.names import ACCESS_WORKFLOW_TYPE
    from workflows.access_request import AccessRequestWorkflow

#: The timer B adds, long enough to be recognisable in a history.
B_PAUSE_SECONDS = 0.2


@workflow.defn(name=ACCESS_WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.PINNED)
class AccessRequestWorkflowB(AccessRequestWorkflow):
    @workflow.run
    async def run(self, request: AccessRequestInput) -> AccessState:
        return await super().run(request)

    async def _escalate(self, resolved: ResolvedRequest) -> None:
        await workflow.sleep(B_PAUSE_SECONDS)
        await super()._escalate(resolved)

    async def _deescalate(self) -> None:
        await workflow.sleep(B_PAUSE_SECONDS)
        await super()._deescalate()
