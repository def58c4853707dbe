"""``jitflow reconcile``: run the reconciler now, for every Aptible integration (or one).

The worker also runs it every few minutes on a Temporal Schedule; this runs the same workflow
once and prints what it found and did. ``--dry-run`` changes nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import click

from jitflow.config.loader import load_config
from jitflow.contracts.names import DEFAULT_TASK_QUEUE
from jitflow.contracts.reconcile import RECONCILE_WORKFLOW_TYPE, ReconcileInput, ReconcileReport
from jitflow.temporal import TemporalConnectionError, connect


@click.command()
@click.option("--dry-run", is_flag=True, help="Report what would change; change nothing.")
@click.option("--integration", "integrations", multiple=True, help="An integration's name.")
@click.option(
    "--config",
    "config_dir",
    envvar="JITFLOW_CONFIG",
    default="examples/aptible",
    type=click.Path(path_type=Path),
    help="The configuration folder (for the list of integrations).",
)
@click.option("--task-queue", envvar="JITFLOW_TASK_QUEUE", default=DEFAULT_TASK_QUEUE)
@click.option("--address", envvar="TEMPORAL_ADDRESS", help="Temporal frontend host:port.")
@click.option("--namespace", envvar="TEMPORAL_NAMESPACE", help="Temporal namespace.")
def reconcile(
    dry_run: bool,
    integrations: tuple[str, ...],
    config_dir: Path,
    task_queue: str,
    address: str | None,
    namespace: str | None,
) -> None:
    """Compare each target role in Aptible with what jitflow holds, and fix the drift.

    \b
    Equivalent (one integration):
      temporal workflow execute --type ReconcileMemberships --task-queue jitflow \\
        --input '{"integration_key": "aptible", "dry_run": true}'
    """
    try:
        config = load_config(config_dir)
    except Exception as error:
        raise click.ClickException(f"configuration {str(config_dir)!r}: {error}") from None
    keys = list(integrations) or sorted(config.integrations)
    unknown = [key for key in keys if key not in config.integrations]
    if unknown:
        known = ", ".join(sorted(config.integrations)) or "none"
        raise click.ClickException(f"unknown integration {unknown[0]!r}; integrations: {known}")

    async def run() -> list[ReconcileReport]:
        client = await connect(address, namespace)
        reports = []
        for key in keys:
            report: ReconcileReport = await client.execute_workflow(
                RECONCILE_WORKFLOW_TYPE,
                ReconcileInput(integration_key=key, dry_run=dry_run),
                id=f"reconcile-{key}-manual-{uuid.uuid4().hex[:8]}",
                task_queue=task_queue,
                result_type=ReconcileReport,
            )
            reports.append(report)
        return reports

    try:
        reports = asyncio.run(run())
    except TemporalConnectionError as error:
        raise click.ClickException(str(error)) from None
    for report in reports:
        mode = " (dry run: nothing changed)" if report.dry_run else ""
        click.echo(
            f"integration {report.integration_key}: {report.memberships_seen} memberships seen, "
            f"{len(report.drift)} differences{mode}"
        )
        for problem in report.problems:
            click.echo(f"  problem  {problem}")
        for drift in report.drift:
            key = drift.key
            click.echo(f"  {drift.kind:8} user {key.user_id} in role {key.role_id}: {drift.action}")
