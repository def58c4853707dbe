"""``MassRevocation``: the Web UI's record of one ``jitflow revoke --all|--requester|--target``.

The revokes themselves are sent by the command, each signed with the operator's key (which never
enters a workflow); this workflow only shows the operation as one item in the Web UI: what was
selected, the progress, and the summary. It proves nothing (anyone with the ``temporal`` CLI can
start one): each request's own history, whose revoke message names the operation, is the audit.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from jitflow.contracts.mass_revocation import (
        MASS_REVOCATION_FINISH_SIGNAL,
        MASS_REVOCATION_PROGRESS_SIGNAL,
        MASS_REVOCATION_WORKFLOW_TYPE,
        GrantOutcome,
        MassRevocationProgress,
        MassRevocationRecord,
        MassRevocationStart,
        MassRevocationSummary,
    )

_OUTCOMES: tuple[tuple[GrantOutcome, str], ...] = (
    ("removed", "removed"),
    ("already_gone", "already gone"),
    ("pending", "still being removed"),
    ("failed", "failed"),
)

#: How long the record waits for the command's summary before it closes as abandoned.
SUMMARY_WAIT = timedelta(hours=1)


@workflow.defn(
    name=MASS_REVOCATION_WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.AUTO_UPGRADE
)
class MassRevocationWorkflow:
    @workflow.init
    def __init__(self, start: MassRevocationStart) -> None:
        self._start = start
        self._summary: MassRevocationSummary | None = None

    @workflow.run
    async def run(self, start: MassRevocationStart) -> MassRevocationRecord:
        total = len(start.workflow_ids)
        self._show(start, f"revoking {total} grants")
        try:
            await workflow.wait_condition(
                lambda: self._summary is not None,
                timeout=SUMMARY_WAIT,
                timeout_summary="waiting for the command's summary",
            )
        except TimeoutError:
            self._show(start, "abandoned: the command stopped before it reported")
            return MassRevocationRecord(start=start, abandoned=True)
        summary = self._summary
        assert summary is not None
        outcome = ", ".join(f"{label} {summary.count(kind)}" for kind, label in _OUTCOMES)
        self._show(start, f"done in {summary.seconds:.1f}s: {outcome}")
        return MassRevocationRecord(start=start, summary=summary)

    @workflow.signal(name=MASS_REVOCATION_PROGRESS_SIGNAL)
    def progress(self, progress: MassRevocationProgress) -> None:
        if self._summary is None:
            counts = ", ".join(f"{kind} {count}" for kind, count in sorted(progress.counts.items()))
            total = len(self._start.workflow_ids)
            done = sum(progress.counts.values())
            self._show(self._start, f"{done}/{total} answered ({counts})")

    @workflow.signal(name=MASS_REVOCATION_FINISH_SIGNAL)
    def finish(self, summary: MassRevocationSummary) -> None:
        self._summary = summary

    def _show(self, start: MassRevocationStart, status: str) -> None:
        workflow.set_current_details(
            f"**Mass revocation** {start.operation_id} of {start.description} by {start.by}: "
            f"{status}\n\nSelected with `{start.query}`"
        )
