"""What a mass revocation selects and what it reports: shared by the CLI and the benchmark.

``jitflow revoke --all | --requester | --target`` revokes every escalated request that matches,
each with its own signed ``revoke`` update. The selection becomes one visibility query over the
``Jit*`` search attributes; the summary counts each request's outcome so that a person (or the
benchmark) can tell "removed" from "already gone" from "failed" without reading every line.
"""

from __future__ import annotations

from typing import Literal

from jitflow.contracts.base import Contract, normalize_email
from jitflow.contracts.names import ACCESS_WORKFLOW_TYPE

GrantOutcome = Literal["removed", "already_gone", "pending", "failed"]
"""``removed``: our revoke was accepted and the membership is gone. ``already_gone``: the request
had ended, or someone else's revocation came first. ``pending``: accepted, removal still under
way when the update answered. ``failed``: refused (not allowed, bad proof) or not delivered."""


def _quoted(value: str) -> str:
    """A visibility-query string literal (single quotes doubled would not parse: refuse them)."""
    if "'" in value or "\\" in value:
        raise ValueError(f"{value!r}: quotes and backslashes are not allowed in a selection")
    return f"'{value}'"


class RevocationSelection(Contract):
    """Which escalated requests to revoke; with neither ``requester`` nor ``targets`` (and
    ``everything``), all of them on the task queue."""

    everything: bool = False
    requester: str | None = None
    targets: tuple[str, ...] = ()
    """``JitTarget`` values to match (a target's key; the CLI adds the configured key and name
    of a key, label, name or role id it was given: older builds' requests hold the name)."""
    task_queue: str

    def query(self) -> str:
        """The visibility query: open ``AccessRequest`` runs whose ``JitStatus`` is escalated, or
        approved (access being granted this moment: it would land just after the revocation).

        Scoped to the task queue because one namespace may hold several jitflow deployments
        (production and staging workers on different queues); ``--all`` means this one's."""
        parts = [
            f"WorkflowType = '{ACCESS_WORKFLOW_TYPE}'",
            "ExecutionStatus = 'Running'",
            "JitStatus IN ('escalated', 'approved')",
            f"TaskQueue = {_quoted(self.task_queue)}",
        ]
        if self.requester:
            parts.append(f"JitRequester = {_quoted(normalize_email(self.requester))}")
        if self.targets:
            names = ", ".join(_quoted(name) for name in self.targets)
            parts.append(f"JitTarget IN ({names})")
        return " AND ".join(parts)

    def describe(self) -> str:
        """In words, for the progress line and the summary."""
        if not self.requester and not self.targets:
            return "every escalated grant"
        words = []
        if self.requester:
            words.append(f"of {normalize_email(self.requester)}")
        if self.targets:
            words.append(f"on {' / '.join(self.targets)}")
        return "escalated grants " + " ".join(words)


class GrantRevocation(Contract):
    """One request's outcome in a mass revocation."""

    workflow_id: str
    requester: str
    target: str
    outcome: GrantOutcome
    detail: str | None = None
    """Why it failed or was already gone (the workflow's refusal, the Temporal error)."""
    seconds: float
    """From the start of the mass revocation until this request's update answered."""
    released_seconds: float | None = None
    """From the start until its membership owner confirmed the lease released, when the
    operation went there before sending the revoke: the moment access went, unless another
    grant or access held before jitflow keeps the membership."""


class MassRevocationSummary(Contract):
    """The whole operation: what was selected, who revoked, and every request's outcome."""

    operation_id: str
    """Also in every revoke's message, so each request's history names the operation."""
    query: str
    by: str
    grants: tuple[GrantRevocation, ...]
    seconds: float

    def count(self, outcome: GrantOutcome) -> int:
        return sum(1 for grant in self.grants if grant.outcome == outcome)

    @property
    def total(self) -> int:
        return len(self.grants)


MASS_REVOCATION_WORKFLOW_TYPE = "MassRevocation"
MASS_REVOCATION_PROGRESS_SIGNAL = "progress"
MASS_REVOCATION_FINISH_SIGNAL = "finish"


class MassRevocationStart(Contract):
    """What the Web UI's record of one mass revocation starts with (ids and counts only)."""

    operation_id: str
    description: str
    """``selection.describe()``, as a person reads it."""
    query: str
    by: str
    workflow_ids: tuple[str, ...]
    """The requests selected, each revoked with its own signed update."""


class MassRevocationProgress(Contract):
    """Counts so far, sent by ``jitflow revoke`` while it works."""

    counts: dict[str, int]


class MassRevocationRecord(Contract):
    """The record's result: the summary ``jitflow revoke`` sent, or none if it never did."""

    start: MassRevocationStart
    summary: MassRevocationSummary | None = None
    abandoned: bool = False
    """No summary arrived within the record's wait (the command was stopped part-way); each
    request's own history still says whether it was revoked."""
