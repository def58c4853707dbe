"""Calling activities from workflow code: by contract, with one way of reading failures.

Every activity is called through its ``ActivityContract`` (name, input and result type in one
place). ``run_step`` turns a failure into ``StepFailed`` with the innermost message, and turns a
workflow cancel that surfaced as the activity's failure back into a cancellation, so that no
caller can mistake a cancel for a failed step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from jitflow.contracts.activities import ActivityContract
    from jitflow.contracts.failures import failure_message
    from jitflow.contracts.names import hooks_task_queue

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
ResultT = TypeVar("ResultT")

#: The grant path's activities heartbeat (``activities/heartbeats.py``): one whose worker died is
#: retried after this, not after its start-to-close timeout.
HEARTBEAT = timedelta(seconds=10)

#: Configuration steps: a few quick attempts.
QUICK = RetryPolicy(maximum_attempts=3, maximum_interval=timedelta(seconds=10))
#: Calls to services that may be down for a while; bounded by a schedule-to-close timeout.
PATIENT = RetryPolicy(maximum_interval=timedelta(seconds=30))
#: Taking access away: never given up.
FOREVER = RetryPolicy(maximum_attempts=0, maximum_interval=timedelta(minutes=1))


class StepFailed(Exception):
    """A step failed for good; the message is the innermost application message."""


def user_code_queue() -> str:
    """Where this workflow's reducers and hooks run: the hooks task queue of its own queue."""
    return hooks_task_queue(workflow.info().task_queue)


def hook_retry(max_attempts: int) -> RetryPolicy:
    """The retry policy of a reducer or hook call, from the flow's ``hook_max_attempts``."""
    return RetryPolicy(maximum_attempts=max_attempts, maximum_interval=timedelta(seconds=10))


async def call(
    contract: ActivityContract[InputT, OutputT],
    arg: InputT,
    *,
    summary: str,
    start_to_close: timedelta,
    retry: RetryPolicy,
    schedule_to_close: timedelta | None = None,
    task_queue: str | None = None,
    heartbeat: timedelta | None = None,
) -> OutputT:
    """Run the activity ``contract`` names; failures propagate as Temporal raised them."""
    result: OutputT = await workflow.execute_activity(
        contract.name,
        arg,
        task_queue=task_queue,
        heartbeat_timeout=heartbeat,
        result_type=contract.output,
        start_to_close_timeout=start_to_close,
        schedule_to_close_timeout=schedule_to_close,
        retry_policy=retry,
        summary=summary,
    )
    return result


async def call_local(
    contract: ActivityContract[InputT, OutputT],
    arg: InputT,
    *,
    summary: str,
    start_to_close: timedelta,
    retry: RetryPolicy,
) -> OutputT:
    """Run the activity ``contract`` names as a local activity: in this worker, inside the
    workflow task that asks for it, with no activity task on the server (its result is a marker
    in the history). For short work whose failure the caller handles, typically by calling it
    again as a regular activity."""
    result: OutputT = await workflow.execute_local_activity(
        contract.name,
        arg,
        result_type=contract.output,
        start_to_close_timeout=start_to_close,
        retry_policy=retry,
        summary=summary,
    )
    return result


def step_failure(error: ActivityError) -> StepFailed:
    """The ``StepFailed`` for an activity failure; a cancellation is raised as one instead."""
    if is_cancelled_exception(error):
        raise asyncio.CancelledError from error
    return StepFailed(failure_message(error))


async def run_step(
    contract: ActivityContract[InputT, OutputT],
    arg: InputT,
    *,
    summary: str,
    start_to_close: timedelta,
    retry: RetryPolicy,
    schedule_to_close: timedelta | None = None,
    task_queue: str | None = None,
    heartbeat: timedelta | None = None,
) -> OutputT:
    """``call``, with a failure raised as ``StepFailed`` (and a cancel as a cancel)."""
    try:
        return await call(
            contract,
            arg,
            summary=summary,
            start_to_close=start_to_close,
            retry=retry,
            schedule_to_close=schedule_to_close,
            task_queue=task_queue,
            heartbeat=heartbeat,
        )
    except ActivityError as error:
        raise step_failure(error) from None


async def shielded(
    work: Callable[[], Coroutine[Any, Any, ResultT]], *, then_cancel: bool = False
) -> ResultT:
    """Run ``work()`` to its end even if the workflow is cancelled meanwhile; with
    ``then_cancel``, a cancel that arrived meanwhile is raised once the work is done."""
    coroutine = work()
    try:
        task = asyncio.ensure_future(coroutine)
    except BaseException:
        coroutine.close()  # the workflow is being evicted from the worker's cache
        raise
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
            if not task.done():
                continue
            result = task.result()
        if cancelled and then_cancel:
            raise asyncio.CancelledError
        return result
