"""A workflow that calls the reducer activities the way ``AccessRequest`` does, for the tests."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.reducers import ReducerActivities
    from jitflow.contracts.events import HookCall, HookOutcome, Permissions, PermissionsCall


@workflow.defn
class ReducerProbe:
    """Resolve permissions, then run one hook, with the flow's hook options."""

    @workflow.run
    async def run(
        self, call: PermissionsCall, hook: str, timeout_seconds: int, attempts: int
    ) -> tuple[Permissions, HookOutcome]:
        timeout = timedelta(seconds=timeout_seconds)
        retry = RetryPolicy(maximum_attempts=attempts)
        permissions = await workflow.execute_activity_method(
            ReducerActivities.get_permissions,
            call,
            start_to_close_timeout=timeout,
            retry_policy=retry,
        )
        outcome = await workflow.execute_activity_method(
            ReducerActivities.run_hook,
            HookCall(flow=call.flow, hook=hook, event=call.event),
            start_to_close_timeout=timeout,
            retry_policy=retry,
        )
        return permissions, outcome
