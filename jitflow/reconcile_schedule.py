"""The Temporal Schedules that run the reconciler, one per Aptible integration.

The worker creates any that are missing when it starts (``temporal schedule list`` and the Web
UI's Schedules page show them); an existing one is left as an operator may have changed it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from jitflow.config.models import JitflowConfig
from jitflow.contracts.reconcile import RECONCILE_WORKFLOW_TYPE, ReconcileInput

log = logging.getLogger("jitflow.reconcile")

#: How often each integration is reconciled.
RECONCILE_EVERY = timedelta(minutes=5)


def schedule_id(integration_key: str) -> str:
    return f"jitflow-reconcile-{integration_key}"


async def ensure_reconcile_schedules(
    client: Client, config: JitflowConfig, task_queue: str
) -> list[str]:
    """Create the missing reconcile schedules; returns the ids created."""
    created: list[str] = []
    for key in sorted(config.integrations):
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                RECONCILE_WORKFLOW_TYPE,
                ReconcileInput(integration_key=key),
                id=f"reconcile-{key}",
                task_queue=task_queue,
                static_summary=f"Reconcile Aptible integration {key} with jitflow",
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=RECONCILE_EVERY)]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        )
        try:
            await client.create_schedule(schedule_id(key), schedule)
        except ScheduleAlreadyRunningError:
            continue
        created.append(schedule_id(key))
        log.info("created schedule %s (every %s)", schedule_id(key), RECONCILE_EVERY)
    return created
