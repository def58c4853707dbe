"""The reducer activities on a real Temporal test server, on the worker's thread pool."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from reducer_probe_workflow import ReducerProbe
from reducer_test_support import event, file_implementation, make_config, write_module
from temporalio.client import WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.reducers import REDUCER_ERROR, ReducerActivities, hook_options
from jitflow.contracts.events import PermissionsCall
from jitflow.devstack.binaries import temporal_test_server

IMPL = """
from reducers import ApprovalTemplate, RequestPermission, hook, reducer

@reducer
def get_permissions(event):
    return RequestPermission(webapp_view="member", approve_deny=["bob@example.com"])

@hook
def on_request(event):
    return ApprovalTemplate.approve(reason="probe")

@hook
def on_approve(event):
    raise RuntimeError("approver directory unreachable")
"""


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(temporal_test_server()),
    )
    try:
        yield environment
    finally:
        await environment.shutdown()


async def test_outcomes_round_trip_and_reducer_errors_are_not_retried(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    config = make_config(file_implementation(write_module(tmp_path, IMPL)))
    acts = ReducerActivities(config, lambda: {"bob@example.com": "member"})
    timeout, attempts = hook_options(config.flows["this"])
    queue = f"reducers-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=4) as pool:
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[ReducerProbe],
            activities=[acts.run_hook, acts.get_permissions],
            activity_executor=pool,
        ):
            permissions, outcome = await env.client.execute_workflow(
                ReducerProbe.run,
                args=[PermissionsCall(flow="this", event=event()), "on_request", timeout, attempts],
                id=f"probe-{uuid.uuid4()}",
                task_queue=queue,
            )
            assert permissions.approvers == ("bob@example.com",)
            assert permissions.user_roles == {}  # members are the default, not recorded
            assert permissions.role_of("bob@example.com") == "member"
            assert (outcome.action, outcome.fields) == ("approve", {"reason": "probe"})

            approve = PermissionsCall(flow="this", event=event("approve", by="bob@example.com"))
            with pytest.raises(WorkflowFailureError) as caught:
                await env.client.execute_workflow(
                    ReducerProbe.run,
                    args=[approve, "on_approve", timeout, attempts],
                    id=f"probe-{uuid.uuid4()}",
                    task_queue=queue,
                )
    activity_error = caught.value.cause
    assert isinstance(activity_error, ActivityError)
    assert activity_error.retry_state is not None and activity_error.retry_state.name == (
        "NON_RETRYABLE_FAILURE"
    )
    failure = activity_error.cause
    assert isinstance(failure, ApplicationError) and failure.type == REDUCER_ERROR
    assert failure.non_retryable
    assert failure.message == (
        f"on_approve ({tmp_path / 'impl.py'}:13): raised RuntimeError: "
        "approver directory unreachable"
    )
