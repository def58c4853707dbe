"""Telling requests that their lease ended on its timer and the membership is gone.

The removal activity sends each such request a ``LeaseEnded`` update, signed with the worker's
key, right after the removal: the request records its end without releasing its lease and
waiting for the owner's answer (no extra activity, owner update or owner workflow task per
removal). The request's validator refuses news whose signature does not verify, so a forged
update changes nothing. Sending is best effort: a request that hears nothing releases its lease
itself after a grace (``workflows.access_request.NEWS_GRACE``), so a failure is only logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.service import RPCError, RPCStatusCode

from jitflow.contracts.membership import LeaseEnded, LeaseHolderRun
from jitflow.contracts.names import LEASE_ENDED_UPDATE

logger = logging.getLogger(__name__)

#: How long, and how many times, the removal asks a request to accept its news. The membership
#: is already gone by then, so this only bounds how long the owner waits to record the removal;
#: a request that never accepts releases its lease itself after its grace.
NEWS_RPC_TIMEOUT = timedelta(seconds=10)
NEWS_ATTEMPTS = 3
_TRANSIENT = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
}

Vouch = Callable[[LeaseEnded], Awaitable[LeaseEnded]]
"""Signs the news with the worker's key (``GrantAuthority.vouch``)."""


async def tell_lease_ended(
    client: Client,
    runs: tuple[LeaseHolderRun, ...],
    *,
    membership_workflow_id: str,
    vouch: Vouch,
) -> None:
    """Send each request run its signed news; a closed or unknown run needs none."""

    async def tell(run: LeaseHolderRun) -> None:
        news = await vouch(
            LeaseEnded(
                membership_workflow_id=membership_workflow_id,
                holder=run.holder,
                holder_run_id=run.run_id,
                membership_removed=True,
                remaining_leases=0,
            )
        )
        handle = client.get_workflow_handle(run.holder, run_id=run.run_id)
        why = ""
        for _ in range(NEWS_ATTEMPTS):  # one update id: a repeat is the same update
            try:
                await handle.start_update(
                    LEASE_ENDED_UPDATE,
                    news,
                    id=f"lease-ended/{run.run_id}",
                    wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                    rpc_timeout=NEWS_RPC_TIMEOUT,
                )
                return
            except RPCError as error:
                if error.status == RPCStatusCode.NOT_FOUND:
                    return  # the request has ended: it needs no news
                why = error.status.name if error.status else "RPC error"
                if error.status not in _TRANSIENT:
                    break
            except WorkflowUpdateFailedError as error:
                why = f"refused: {error.cause}"
                break
            except WorkflowUpdateRPCTimeoutOrCancelledError:
                # A busy request worker: the update may still land; asking again is harmless.
                why = f"no answer within {NEWS_RPC_TIMEOUT.total_seconds():.0f}s"
        _not_told(run, why)

    await asyncio.gather(*(tell(run) for run in runs))


def _not_told(run: LeaseHolderRun, why: str) -> None:
    logger.warning(
        "could not tell request %s that its lease ended (%s); it releases the lease itself "
        "after a grace",
        run.holder,
        why,
    )
