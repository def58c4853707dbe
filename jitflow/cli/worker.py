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
    "--deployment-name",
    envvar="JITFLOW_DEPLOYMENT_NAME",
    default="jitflow",
    show_default=True,
    help="The Temporal Worker Deployment this worker is a version of.",
)
@click.option(
    "--build-id",
    envvar="JITFLOW_BUILD_ID",
    help="This build's id. Default: the package version and a hash of the workflow code.",
)
@click.option(
    "--set-current",
    is_flag=True,
    envvar="JITFLOW_SET_CURRENT",
    help="Make this build the deployment's current version once it serves (new requests go to it).",
)
@click.option(
    "--set-current-if-none",
    is_flag=True,
    envvar="JITFLOW_SET_CURRENT_IF_NONE",
    help="Make this build current only if the deployment has no current version (a first start).",
)
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
    deployment_name: str,
    build_id: str | None,
    set_current: bool,
    set_current_if_none: bool,
    ready_file: Path | None,
) -> None:
    """Serve the AccessRequest and RoleMembership workflows until SIGTERM or Ctrl-C.

    The worker is one version of a Worker Deployment (README, "Upgrading jitflow"): requests stay
    on the build they started on; new ones go to the current version.

    \b
    Equivalent:
      JITFLOW_CONFIG=examples/aptible python worker.py
    """
    from jitflow.deployment import DeploymentError, DeploymentSettings
    from worker import WorkerConfigError, run_worker

    deployment = DeploymentSettings.from_env(name=deployment_name, build_id=build_id)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        asyncio.run(
            run_worker(
                config_path,
                address=address,
                namespace=namespace,
                task_queue=task_queue,
                ready_file=ready_file,
                deployment=deployment,
                make_current="always"
                if set_current
                else "if-none"
                if set_current_if_none
                else "never",
            )
        )
    except TemporalConnectionError as error:
        raise click.ClickException(f"{error}; {unreachable_hint(error.address)}") from None
    except (WorkerConfigError, DeploymentError) as error:
        raise click.ClickException(str(error)) from None
