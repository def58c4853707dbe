"""``jitflow worker``: run the access workflows' worker (what ``python worker.py`` runs)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from jitflow.cli.naming import unreachable_hint
from jitflow.temporal import TemporalConnectionError


@click.command()
@click.option(
    "--config",
    "config_path",
    envvar="JITFLOW_CONFIG",
    default="examples/aptible",
    show_default=True,
    help="Folder of sym_* .tf files.",
)
@click.option("--address", envvar="TEMPORAL_ADDRESS", help="Temporal frontend host:port.")
@click.option("--namespace", envvar="TEMPORAL_NAMESPACE", help="Temporal namespace.")
@click.option("--task-queue", envvar="JITFLOW_TASK_QUEUE", default="jitflow", show_default=True)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Create this file once the worker is serving (for supervisors such as jitflow dev).",
)
def worker(
    config_path: str,
    address: str | None,
    namespace: str | None,
    task_queue: str,
    ready_file: Path | None,
) -> None:
    """Serve the AccessRequest and RoleMembership workflows until SIGTERM or Ctrl-C.

    \b
    Equivalent:
      JITFLOW_CONFIG=examples/aptible python worker.py
    """
    from worker import WorkerConfigError, run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        asyncio.run(
            run_worker(
                config_path,
                address=address,
                namespace=namespace,
                task_queue=task_queue,
                ready_file=ready_file,
            )
        )
    except TemporalConnectionError as error:
        raise click.ClickException(f"{error}; {unreachable_hint(error.address)}") from None
    except WorkerConfigError as error:
        raise click.ClickException(str(error)) from None
