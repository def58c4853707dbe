"""Which Worker Deployment Version this worker is, and making a version current.

A jitflow worker runs as one version of a Temporal Worker Deployment, so a new build never
replays a request that started on an old one (see the README, "Upgrading jitflow"). The build id
defaults to the package version plus a hash of the workflow code and the contracts it reads: a
changed workflow is a new build by itself, and a worker restarted on the same code is the same
build.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import temporalio.api.workflowservice.v1 as service
from temporalio.api.enums.v1 import RoutingConfigUpdateState, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import WorkerDeploymentConfig

from jitflow import __version__

log = logging.getLogger(__name__)

DEPLOYMENT_NAME_ENV = "JITFLOW_DEPLOYMENT_NAME"
BUILD_ID_ENV = "JITFLOW_BUILD_ID"
SET_CURRENT_ENV = "JITFLOW_SET_CURRENT"
SET_CURRENT_IF_NONE_ENV = "JITFLOW_SET_CURRENT_IF_NONE"

#: When a starting worker makes its build current: ``if-none`` only on a deployment's first start.
MakeCurrent = Literal["always", "if-none", "never"]
DEFAULT_DEPLOYMENT_NAME = "jitflow"

_ROOT = Path(__file__).resolve().parents[1]
#: The code a workflow task runs: a change in any of these files may change the commands.
WORKFLOW_CODE = (
    _ROOT / "workflows",
    _ROOT / "jitflow" / "contracts",
    _ROOT / "jitflow" / "trust",  # the lease checks the owner's update handler runs on replay
)


class DeploymentError(RuntimeError):
    """The deployment version could not be made current (the message says why)."""


def workflow_code_hash(folders: tuple[Path, ...] = WORKFLOW_CODE) -> str:
    """SHA-256 over the workflow code's Python files (paths and bytes), first 12 hex digits."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(folder.parent)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def make_current_from_env(environ: Mapping[str, str] | None = None) -> MakeCurrent:
    """``JITFLOW_SET_CURRENT`` (always) or ``JITFLOW_SET_CURRENT_IF_NONE``, for ``python worker.py``."""
    env = os.environ if environ is None else environ
    if _yes(env.get(SET_CURRENT_ENV)):
        return "always"
    return "if-none" if _yes(env.get(SET_CURRENT_IF_NONE_ENV)) else "never"


def default_build_id() -> str:
    return f"{__version__}-{workflow_code_hash()}"


@dataclass(frozen=True)
class DeploymentSettings:
    """One Worker Deployment Version: ``name`` is the deployment, ``build_id`` this build."""

    name: str
    build_id: str

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        name: str | None = None,
        build_id: str | None = None,
    ) -> DeploymentSettings:
        """Settings from options, else the environment, else the defaults.

        There is no unversioned mode: each workflow class names its versioning behaviour, and a
        server refuses a workflow task that names one from a worker without a deployment version.
        """
        env = os.environ if environ is None else environ
        return cls(
            name=name or env.get(DEPLOYMENT_NAME_ENV) or DEFAULT_DEPLOYMENT_NAME,
            build_id=build_id or env.get(BUILD_ID_ENV) or default_build_id(),
        )

    @property
    def version(self) -> WorkerDeploymentVersion:
        return WorkerDeploymentVersion(deployment_name=self.name, build_id=self.build_id)

    def __str__(self) -> str:
        return f"{self.name}:{self.build_id}"

    def worker_config(self) -> WorkerDeploymentConfig:
        """Each workflow class names its own behaviour; anything unnamed follows the current
        version (auto-upgrade), which only a replay-safe workflow may do."""
        return WorkerDeploymentConfig(
            version=self.version,
            use_worker_versioning=True,
            default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
        )


async def current_build_id(client: Client, name: str) -> str | None:
    """The deployment's current build id, or ``None`` (no deployment, or no current version)."""
    try:
        response = await client.workflow_service.describe_worker_deployment(
            service.DescribeWorkerDeploymentRequest(
                namespace=client.namespace, deployment_name=name
            )
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    current = response.worker_deployment_info.routing_config.current_deployment_version
    return current.build_id or None


async def _registered(client: Client, settings: DeploymentSettings) -> bool:
    try:
        response = await client.workflow_service.describe_worker_deployment(
            service.DescribeWorkerDeploymentRequest(
                namespace=client.namespace, deployment_name=settings.name
            )
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return any(
        summary.deployment_version.build_id == settings.build_id
        for summary in response.worker_deployment_info.version_summaries
    )


#: How often ``set_current`` asks whether the routing reached the task queues.
ROUTING_POLL_S = 0.5


async def _routed(client: Client, settings: DeploymentSettings, deadline: float) -> None:
    """Wait until the server has told the deployment's task queues that ``settings`` is current
    (its routing update ``COMPLETED``): until then a run started now can still go to the version
    before (a new request seen on the old build in CI). A server that does not report it
    (``UNSPECIFIED``) is taken at its word; past ``deadline`` this only warns."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            response = await client.workflow_service.describe_worker_deployment(
                service.DescribeWorkerDeploymentRequest(
                    namespace=client.namespace, deployment_name=settings.name
                )
            )
        except RPCError as error:
            # The server limits requests per deployment ("too many requests", seen in CI):
            # asked again a little later; anything else is only said, the version is current.
            if error.status != RPCStatusCode.RESOURCE_EXHAUSTED:
                log.warning("%s is current; could not see its routing: %s", settings, error)
                return
        else:
            state = response.worker_deployment_info.routing_config_update_state
            if state != RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS:
                return
        if loop.time() > deadline:
            log.warning("%s is current, but the server is still routing new runs to it", settings)
            return
        await asyncio.sleep(ROUTING_POLL_S)


async def set_current(
    client: Client, settings: DeploymentSettings, *, timeout: float = 60.0
) -> None:
    """Make ``settings``' version current once the server has seen its pollers.

    A version appears in its deployment only after a worker of it polled; until then there is
    nothing to make current, so this waits (up to ``timeout``) rather than fail at once.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if await _registered(client, settings):
            try:
                await client.workflow_service.set_worker_deployment_current_version(
                    service.SetWorkerDeploymentCurrentVersionRequest(
                        namespace=client.namespace,
                        deployment_name=settings.name,
                        build_id=settings.build_id,
                        identity="jitflow",
                    )
                )
                log.info("made %s the current version of deployment %r", settings, settings.name)
                await _routed(client, settings, deadline)
                return
            except RPCError as error:
                # The version's task queues may still be registering; try again shortly.
                if loop.time() > deadline:
                    raise DeploymentError(
                        f"could not make {settings} current: {error.message}"
                    ) from None
        elif loop.time() > deadline:
            raise DeploymentError(
                f"version {settings} never appeared in deployment {settings.name!r} within "
                f"{timeout:.0f} s (is the server older than 1.28, or versioning disabled?)"
            )
        await asyncio.sleep(0.5)


#: A poller that has not polled for this long is gone (a live worker polls at least every ~70 s).
POLLER_STALE_AFTER = timedelta(minutes=2)


async def _version_created(client: Client, name: str) -> dict[str, datetime]:
    response = await client.workflow_service.describe_worker_deployment(
        service.DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=name)
    )
    return {
        summary.deployment_version.build_id: summary.create_time.ToDatetime(tzinfo=UTC)
        for summary in response.worker_deployment_info.version_summaries
    }


async def build_is_polling(
    client: Client,
    settings: DeploymentSettings,
    build_id: str,
    task_queue: str,
    stale_after: timedelta,
) -> bool:
    """Whether a worker of ``build_id`` polled ``task_queue``'s workflow tasks recently."""
    response = await client.workflow_service.describe_task_queue(
        service.DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    now = datetime.now(UTC)
    return any(
        poller.deployment_options.deployment_name == settings.name
        and poller.deployment_options.build_id == build_id
        and now - poller.last_access_time.ToDatetime(tzinfo=UTC) < stale_after
        for poller in response.pollers
    )


async def keep_a_live_current(
    client: Client,
    settings: DeploymentSettings,
    task_queue: str,
    *,
    every: float = 30.0,
    stale_after: timedelta = POLLER_STALE_AFTER,
) -> None:
    """Make this build current when the current build has no worker left and this one is newer.

    A worker restarted in place on new code (``docker compose up --build``, a redeploy) is a new
    build that is not current, while the current build's workers are gone: new requests, and the
    membership owners that follow the current build, would wait for a worker that no longer
    exists, so no access would be removed. Only a newer build takes over: an older one would
    have to replay owners that a newer build already moved on.
    """
    while True:
        await asyncio.sleep(every)
        try:
            current = await current_build_id(client, settings.name)
            if current == settings.build_id:
                continue
            if current is not None:
                if await build_is_polling(client, settings, current, task_queue, stale_after):
                    continue
                created = await _version_created(client, settings.name)
                mine, theirs = created.get(settings.build_id), created.get(current)
                if mine is None or theirs is None or mine <= theirs:
                    continue
            log.warning(
                "the current build %s has no worker polling %r (none for %s): making this newer "
                "build %s current, so that new requests and removals do not wait",
                current,
                task_queue,
                stale_after,
                settings.build_id,
            )
            await set_current(client, settings)
        except (RPCError, DeploymentError) as error:
            log.warning("could not check the deployment's current version: %s", error)
