"""``jitflow revoke --all | --requester EMAIL | --target NAME``: every matching grant at once.

In an incident the team takes away every grant of one person, of one role, or all of them; one
command that finds them (the ``Jit*`` search attributes) and revokes each with its own signed
proof is faster and surer than a loop over ``jitflow list``. The work is in
``jitflow.cli.mass_revocation``; this module chooses what to select, shows progress on stderr,
prints the summary, and turns it into an exit status a script can test.
"""

from __future__ import annotations

import os
import sys

import click
from temporalio.client import Client

from jitflow.access_client import AccessRequests, SigningKey
from jitflow.cli import calls
from jitflow.cli.calls import run_call
from jitflow.cli.mass_revocation import MassRevocation, Progress, find_candidates
from jitflow.cli.outcome import ExitCode
from jitflow.cli.request_help import config_source
from jitflow.config.issues import ConfigErrors
from jitflow.config.loader import load_config
from jitflow.contracts.mass_revocation import (
    GrantOutcome,
    MassRevocationStart,
    MassRevocationSummary,
    RevocationSelection,
)
from jitflow.mass_revocation_record import OperationRecord

#: How many failed requests the summary lists one by one (the rest are counted).
SHOWN_FAILURES = 20


def target_names(given: str, config_path: str | None) -> tuple[str, ...]:
    """The ``JitTarget`` values ``--target`` may mean: what was typed, plus the configured
    target's key (what ``JitTarget`` holds) and name (what requests of older builds hold) when
    the configuration at hand knows it by key, label, name or role id."""
    names = [given]
    if config_path:
        try:
            config = load_config(config_path)
        except (ConfigErrors, OSError):
            config = None
        wanted = given.strip().lower()
        for target in config.targets.values() if config else ():
            known = {target.key.lower(), target.name.lower(), target.role_id.lower()}
            if target.label:
                known.add(target.label.lower())
            if wanted in known:
                names += [name for name in (target.key, target.name) if name not in names]
    return tuple(names)


def selection_from_options(
    everything: bool, requester: str | None, target: str | None, task_queue: str
) -> RevocationSelection:
    config_path = config_source([], dict(os.environ)) if target else None
    return RevocationSelection(
        everything=everything,
        requester=requester,
        targets=target_names(target, config_path) if target else (),
        task_queue=task_queue,
    )


class _ProgressLine:
    """One line on stderr, rewritten in place on a terminal; elsewhere (a log, CI) a line at
    every tenth so that the log shows the pace without a line per request."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last_tenths = (-1, -1)

    def __call__(self, progress: Progress) -> None:
        counts = progress.counts
        released = (
            f" (leases released at their owners, revoke not yet recorded: {progress.released})"
            if progress.released
            else ""
        )
        text = (
            f"revoking {progress.done}/{progress.total}: removed {counts['removed']}, "
            f"already gone {counts['already_gone']}, failed {counts['failed']}{released}"
        )
        if self.tty:
            end = "\n" if progress.done == progress.total else ""
            click.echo(f"\r{text}", err=True, nl=False)
            if end:
                click.echo("", err=True)
            return
        whole = max(progress.total, 1)
        tenths = (progress.done * 10 // whole, progress.released * 10 // whole)
        if tenths != self.last_tenths:
            self.last_tenths = tenths
            click.echo(text, err=True)


def summary_exit_code(summary: MassRevocationSummary) -> ExitCode:
    """0 when every selected grant is gone (removed, or already gone); 4 when any revoke was
    refused or not delivered; 3 when the others are gone and some removals are still going on."""
    if summary.count("failed"):
        return ExitCode.REFUSED
    if summary.count("pending"):
        return ExitCode.PENDING
    return ExitCode.DONE


_LABELS: tuple[tuple[GrantOutcome, str], ...] = (
    ("removed", "removed"),
    ("already_gone", "already gone"),
    ("pending", "still being removed"),
    ("failed", "failed"),
)


def print_summary(summary: MassRevocationSummary) -> None:
    click.echo(f"mass revocation {summary.operation_id} by {summary.by}: {summary.total} grants")
    for outcome, label in _LABELS:
        count = summary.count(outcome)
        if count or outcome != "pending":
            click.echo(f"  {label:<14}{count}")
    click.echo(f"  took          {summary.seconds:.1f}s")
    failures = [grant for grant in summary.grants if grant.outcome in ("failed", "pending")]
    for grant in failures[:SHOWN_FAILURES]:
        click.echo(f"  {grant.workflow_id} ({grant.requester}, {grant.target}): {grant.detail}")
    if len(failures) > SHOWN_FAILURES:
        click.echo(f"  ... and {len(failures) - SHOWN_FAILURES} more")


def mass_revoke(
    selection: RevocationSelection,
    *,
    by: str,
    message: str | None,
    key: SigningKey,
    concurrency: int,
    address: str | None,
    namespace: str | None,
) -> ExitCode:
    """Find, revoke, report; the exit code for the command."""
    query = selection.query()

    async def call(client: Client) -> MassRevocationSummary | None:
        requests = AccessRequests(client, selection.task_queue, query_timeout=calls.QUERY_TIMEOUT)
        candidates = await find_candidates(client, selection)
        if not candidates:
            return None
        click.echo(
            f"revoking {len(candidates)} {selection.describe()} as {by}, {concurrency} at a time",
            err=True,
        )
        line = _ProgressLine()
        record = OperationRecord(
            client, selection.task_queue, lambda text: click.echo(text, err=True)
        )

        def progress(done: Progress) -> None:
            line(done)
            record.progress({str(kind): count for kind, count in done.counts.items()})

        operation = MassRevocation(
            requests,
            by=by,
            key=key,
            message=message,
            concurrency=concurrency,
            on_progress=progress,
        )
        await record.open(
            MassRevocationStart(
                operation_id=operation.operation_id,
                description=selection.describe(),
                query=query,
                by=by,
                workflow_ids=tuple(candidate.workflow_id for candidate in candidates),
            )
        )
        summary = await operation.run(candidates, query)
        await record.close(summary)
        return summary

    summary = run_call(address, namespace, call)
    if summary is None:
        click.echo(f"nothing to revoke: no {selection.describe()} match ({query})")
        return ExitCode.DONE
    print_summary(summary)
    return summary_exit_code(summary)
