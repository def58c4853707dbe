"""The resolution activity behind a real Temporal worker: the models cross the wire with
pydantic's converter, and IdentityNotFound reaches the workflow as a non-retryable error."""

from __future__ import annotations

import uuid
from datetime import timedelta

from identity_constants import ALICE_ID, ORG
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.identity import IdentityActivities
from jitflow.contracts.identity import IDENTITY_NOT_FOUND, ResolvedIdentity, ResolveIdentityInput
from jitflow.devstack.binaries import temporal_test_server
from jitflow.identity import IdentityStore


@workflow.defn(sandboxed=False)
class ResolveOnce:
    """Resolves one identity and reports either the result or the error type and details."""

    @workflow.run
    async def run(self, request: ResolveIdentityInput) -> str:
        try:
            result: ResolvedIdentity = await workflow.execute_activity(
                "resolve_identity",
                request,
                result_type=ResolvedIdentity,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
        except ActivityError as error:
            cause = error.cause
            assert isinstance(cause, ApplicationError)
            return f"{cause.type}|{cause.non_retryable}|{getattr(error.retry_state, 'name', None)}|{cause.details[0]}"
        return f"{result.source}:{result.service_user_id}"


async def _discover(call: object) -> str | None:
    return None


async def test_resolution_through_a_worker(sqlite_url: str) -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server()),
        data_converter=pydantic_data_converter,
    )
    try:
        client: Client = env.client
        with IdentityStore.open(sqlite_url) as store:
            store.set_identity("alice@example.com", "aptible", ORG, ALICE_ID)
            activities = IdentityActivities(store, discover_user=_discover)
            async with Worker(
                client,
                task_queue="identity-test",
                workflows=[ResolveOnce],
                activities=[activities.resolve_identity, activities.load_user],
                workflow_runner=UnsandboxedWorkflowRunner(),
            ):
                found = await client.execute_workflow(
                    ResolveOnce.run,
                    ResolveIdentityInput(email="alice@example.com", org_id=ORG),
                    id=str(uuid.uuid4()),
                    task_queue="identity-test",
                )
                missing = await client.execute_workflow(
                    ResolveOnce.run,
                    ResolveIdentityInput(email="zoe@example.com", org_id=ORG),
                    id=str(uuid.uuid4()),
                    task_queue="identity-test",
                )
    finally:
        await env.shutdown()
    assert found == f"stored:{ALICE_ID}"
    error_type, non_retryable, retry_state, details = missing.split("|", 3)
    assert (error_type, non_retryable) == (IDENTITY_NOT_FOUND, "True")
    assert retry_state == "NON_RETRYABLE_FAILURE", "one attempt only, despite maximum_attempts=5"
    assert "zoe@example.com" in details and "update-identity" in details
