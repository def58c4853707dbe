"""Telling requests that their lease ended on its timer (``LeaseEnded``), from the removal.

The removal activity sends this right after the membership is gone, so a request records its end
without releasing its lease and waiting for the owner's answer: no extra activity, update or
owner workflow task per removal. Sending is best effort: a request that gets no news releases
its lease itself after a grace (``workflows.access_request``), so a failure here is only logged.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from jitflow.contracts.membership import LeaseEnded, LeaseHolderRun
from jitflow.contracts.names import LEASE_ENDED_SIGNAL

logger = logging.getLogger(__name__)


async def tell_lease_ended(
    client: Client, runs: tuple[LeaseHolderRun, ...], news: LeaseEnded
) -> None:
    """Signal each request run; a closed or unknown one needs no news."""

    async def tell(run: LeaseHolderRun) -> None:
        handle = client.get_workflow_handle(run.holder, run_id=run.run_id)
        try:
            await handle.signal(LEASE_ENDED_SIGNAL, news)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                logger.warning(
                    "could not tell request %s that its lease ended (%s); it releases the "
                    "lease itself after a grace",
                    run.holder,
                    error.status.name if error.status else "RPC error",
                )

    await asyncio.gather(*(tell(run) for run in runs))
