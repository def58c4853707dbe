"""The Web UI's record of a mass revocation: one ``MassRevocation`` workflow per operation.

``jitflow revoke --all|--requester|--target`` opens it before the first revoke, posts progress
about once a second and the summary at the end. A record that cannot be written never stops or
slows the revocation: the revokes matter, the record only shows them (the command says so).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from jitflow.contracts.mass_revocation import (
    MASS_REVOCATION_FINISH_SIGNAL,
    MASS_REVOCATION_PROGRESS_SIGNAL,
    MASS_REVOCATION_WORKFLOW_TYPE,
    MassRevocationProgress,
    MassRevocationStart,
    MassRevocationSummary,
)

#: How often progress is posted to the record, at most.
PROGRESS_EVERY = 1.0


def record_id(operation_id: str) -> str:
    return f"mass-revocation-{operation_id}"


class OperationRecord:
    """Writes one operation's record; ``warn`` hears about a record that could not be written."""

    def __init__(self, client: Client, task_queue: str, warn: Callable[[str], None]) -> None:
        self._client = client
        self._task_queue = task_queue
        self._warn = warn
        self._handle: WorkflowHandle[Any, Any] | None = None
        self._counts: dict[str, int] | None = None
        self._posted: dict[str, int] | None = None
        self._poster: asyncio.Task[None] | None = None

    async def open(self, start: MassRevocationStart) -> None:
        try:
            self._handle = await self._client.start_workflow(
                MASS_REVOCATION_WORKFLOW_TYPE,
                start,
                id=record_id(start.operation_id),
                task_queue=self._task_queue,
                static_summary=(
                    f"Mass revocation of {start.description} by {start.by}: "
                    f"{len(start.workflow_ids)} grants"
                ),
            )
        except RPCError as error:
            self._warn(f"the Web UI record of this operation could not be started: {error}")
            return
        self._poster = asyncio.create_task(self._post_progress())

    def progress(self, counts: dict[str, int]) -> None:
        self._counts = dict(counts)

    async def close(self, summary: MassRevocationSummary) -> None:
        if self._poster is not None:
            self._poster.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poster
        if self._handle is None:
            return
        try:
            await self._handle.signal(MASS_REVOCATION_FINISH_SIGNAL, summary)
        except RPCError as error:
            self._warn(f"the Web UI record {self._handle.id} did not get the summary: {error}")

    async def _post_progress(self) -> None:
        assert self._handle is not None
        while True:
            await asyncio.sleep(PROGRESS_EVERY)
            counts = self._counts
            if counts is None or counts == self._posted:
                continue
            try:
                await self._handle.signal(
                    MASS_REVOCATION_PROGRESS_SIGNAL, MassRevocationProgress(counts=counts)
                )
                self._posted = counts
            except RPCError:
                continue  # progress is best effort; the summary is what the record keeps
