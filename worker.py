"""The jitflow worker: runs the access workflows and every activity they call.

``build_worker`` wires the pieces (configuration, identity store, Secrets Manager reader, Aptible
client) into one Temporal ``Worker``; tests call it with their own servers. ``run_worker`` is
what ``python worker.py`` and ``jitflow worker`` run: connect, load the configuration (failing
fast with every error), make sure the ``Jit*`` search attributes exist, and serve until SIGTERM
or SIGINT, then let running activities finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.access import AccessActivities
from activities.aptible.client import AptibleClient
from activities.aptible.online_check import online_preflight
from activities.blocking import Blocking
from activities.bot_credentials import BotCredentials
from activities.expiry_guard import ExpiryGuard, grace_from_env, keep_guarding
from activities.grant_authority import GrantAuthority
from activities.identity import IdentityActivities
from activities.lease_news import NewsCourier
from activities.membership import MembershipActivities, as_temporal_failure
from activities.notifications import NotificationActivities
from activities.reconcile import ReconcileActivities
from activities.reducers import IntegrationServices, ReducerActivities, check_implementations
from activities.secrets import SecretReader
from jitflow.config.loader import load_config
from jitflow.config.models import JitflowConfig
from jitflow.contracts.identity import UserDiscoveryCall
from jitflow.contracts.names import DEFAULT_TASK_QUEUE, hooks_task_queue
from jitflow.deployment import (
    DeploymentSettings,
    MakeCurrent,
    current_build_id,
    keep_a_live_current,
    make_current_from_env,
    set_current,
)
from jitflow.identity import IdentityStore
from jitflow.reconcile_schedule import ensure_reconcile_schedules
from jitflow.reducer_runtime import ImplementationCache
from jitflow.temporal import connect, ensure_search_attributes
from jitflow.trust.directory import DIRECTORY
from jitflow.trust.front_door_key import FrontDoorKeys, keep_front_doors_fresh
from jitflow.trust.refresh import keep_people_fresh, load_people
from jitflow.trust.worker_key import WorkerKeyring, worker_key_secret_name
from jitflow.worker_metrics import metrics_address, metrics_runtime
from jitflow.worker_tuning import (
    ACTIVITY_SLOTS,
    owner_linger,
    task_pollers,
    tune_allocator,
    workflow_cache_size,
    workflow_runner,
    workflow_task_pollers,
)
from workflows.access_request import AccessRequestWorkflow
from workflows.mass_revocation import MassRevocationWorkflow
from workflows.reconcile import ReconcileWorkflow
from workflows.role_membership import RoleMembershipWorkflow

log = logging.getLogger("jitflow.worker")

CONFIG_ENV = "JITFLOW_CONFIG"
EVICTION_CHECK_ENV = "JITFLOW_EVICTION_CHECK"
SIGNED_DECISIONS_ENV = "JITFLOW_SIGNED_DECISIONS"
TASK_QUEUE_ENV = "JITFLOW_TASK_QUEUE"
DEFAULT_CONFIG_PATH = "examples/aptible"
#: How long running activities may take to finish after SIGTERM.
GRACEFUL_SHUTDOWN = timedelta(seconds=30)
#: Threads for the configuration step (resolving a request), the main worker's only blocking work
#: outside the identity store and Secrets Manager (which have ``IO_THREADS``).
ACTIVITY_THREADS = 100
#: Threads for the grant path's blocking calls (identity store, Secrets Manager).
IO_THREADS = 32
#: Threads, and activity slots, for user code (reducers and hooks) on the hooks task queue.
HOOK_THREADS = 50


#: The workflow classes a jitflow worker serves (an upgrade test serves a changed copy instead).
WORKFLOWS: tuple[type, ...] = (
    AccessRequestWorkflow,
    RoleMembershipWorkflow,
    ReconcileWorkflow,
    MassRevocationWorkflow,
)


class WorkerConfigError(RuntimeError):
    """The worker cannot start with this configuration; the message lists every problem."""


def eviction_check_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """``JITFLOW_EVICTION_CHECK`` (default on): after removing a membership that can have been
    the user's last role (the identity store knows no other), list the organization's users to
    report whether Aptible dropped them from the organization. ``off`` never lists."""
    value = (environ if environ is not None else os.environ).get(EVICTION_CHECK_ENV, "on")
    return value.strip().lower() not in {"off", "0", "false", "no"}


def check_worker_settings(environ: Mapping[str, str] | None = None) -> timedelta:
    """Read the worker's numeric and sandbox settings before anything connects, so a typo is
    reported as itself (with every other bad one), not as whatever fails first; returns the
    expiry guard's grace."""
    problems: list[str] = []
    grace = timedelta(0)
    try:
        grace = grace_from_env(environ)
    except ValueError as error:
        problems.append(str(error))
    for read in (workflow_cache_size, workflow_runner, metrics_address, owner_linger):
        try:
            read(environ)
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise WorkerConfigError("; ".join(problems))
    return grace


def signed_decisions_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """``JITFLOW_SIGNED_DECISIONS`` (default on): decisions need the decider's signature. ``off``
    is for experiments only; the worker says so loudly."""
    value = (environ if environ is not None else os.environ).get(SIGNED_DECISIONS_ENV, "on")
    return value.strip().lower() not in {"off", "0", "false", "no"}


def load_worker_config(path: str | os.PathLike[str]) -> JitflowConfig:
    """Load the configuration folder and check every flow's reducers, or raise with all errors."""
    if not Path(path).exists():
        raise WorkerConfigError(
            f"configuration path {str(path)!r} does not exist (set {CONFIG_ENV} or pass --config)"
        )
    try:
        config = load_config(path)
    except Exception as error:  # ConfigErrors lists every error with file and line
        raise WorkerConfigError(f"configuration {str(path)!r} is invalid:\n{error}") from None
    problems = check_implementations(config)
    if problems:
        raise WorkerConfigError(
            f"configuration {str(path)!r}: reducers do not load:\n" + "\n".join(problems)
        )
    return config


def build_worker(
    client: Client,
    config: JitflowConfig,
    *,
    store: IdentityStore,
    aptible: AptibleClient,
    secrets: SecretReader,
    keyring: WorkerKeyring,
    task_queue: str = DEFAULT_TASK_QUEUE,
    executor: ThreadPoolExecutor,
    signed_decisions: bool | None = None,
    hook_threads: int = HOOK_THREADS,
    deployment: DeploymentSettings,
    workflows: Sequence[type] = WORKFLOWS,
    linger: timedelta | None = None,
    **worker_options: Any,
) -> JitflowWorkers:
    """The workers of one jitflow process: workflows and the grant path on ``task_queue``,
    user code (reducers and hooks) on ``<task_queue>-hooks``.

    Each has its own threads and slots: a hook that never returns can exhaust only the hooks'
    pool, never the one that adds and removes memberships. ``executor`` runs the configuration
    step (resolving a request, which may import a flow's module). Both workers are the ``deployment`` version (the hooks' queue too, so a
    pinned request's hooks run on its own build). It also fills this
    process's ``TrustDirectory`` (the worker's keys and
    everyone's registered keys), which the update validators read; ``run_worker`` keeps it fresh.
    ``linger`` is how long the membership owners this worker starts stay open after their
    removal (default ``$JITFLOW_OWNER_LINGER``).
    """
    io_pool = ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="jitflow-io")
    user_pool = ThreadPoolExecutor(max_workers=hook_threads, thread_name_prefix="jitflow-hook")
    io, user_code = Blocking(io_pool), Blocking(user_pool)
    secrets.executor = io_pool
    DIRECTORY.signed_decisions = (
        signed_decisions_enabled() if signed_decisions is None else signed_decisions
    )
    if not DIRECTORY.signed_decisions:
        log.warning(
            "SIGNED DECISIONS ARE OFF (%s=off): anyone who can send an update approves as anyone. "
            "Use this for experiments only.",
            SIGNED_DECISIONS_ENV,
        )
    DIRECTORY.add_worker_keys(keyring.public_keys())
    load_people(DIRECTORY, store)
    # The Slack front door's public keys, from Secrets Manager only (none without Slack).
    front_doors = FrontDoorKeys(secrets.boto_client)
    front_doors.load_into(DIRECTORY)
    bot = BotCredentials(secrets, config)
    implementations = ImplementationCache()
    reducers = ReducerActivities(
        config,
        roles_provider=lambda: dict(store.user_roles()),
        cache=implementations,
        user_code=user_code,
        integrations=IntegrationServices(secrets=secrets, identities=store),
    )

    async def discover(call: UserDiscoveryCall) -> str | None:
        if call.integration is None:
            return None
        try:
            creds = await bot.for_integration(call.integration)
            user = await aptible.find_user_by_email(creds, call.org_id, call.email)
        except Exception as error:
            raise as_temporal_failure(error) from None
        return user.id if user else None

    identity = IdentityActivities(
        store, get_identity=reducers.get_identity_for_call, discover_user=discover, blocking=io
    )
    access = AccessActivities(config, implementations, blocking=Blocking(executor))
    authority = GrantAuthority(
        config=config,
        store=store,
        signer=keyring,
        directory=DIRECTORY,
        client=client,
        permissions=reducers.runner.permissions,
        hook=reducers.runner.run_hook,
        blocking=io,
        user_code=user_code,
        front_doors=front_doors,
        implementations=implementations,
    )
    membership = MembershipActivities(
        aptible,
        bot,
        client,
        task_queue,
        authority=authority,
        ledger=store,
        blocking=io,
        check_eviction=eviction_check_enabled(),
        owner_linger=owner_linger() if linger is None else linger,
    )
    reconcile = ReconcileActivities(config, aptible, bot, client, ledger=store, blocking=io)
    notifications = NotificationActivities(config, secrets)
    worker_options["deployment_config"] = deployment.worker_config()
    # Only the main worker runs workflows: the memory settings (jitflow/worker_tuning.py) are its.
    try:
        cache = worker_options.pop("max_cached_workflows", None)
        cache = workflow_cache_size() if cache is None else cache
        runner = worker_options.pop("workflow_runner", None) or workflow_runner()
    except ValueError as error:
        raise WorkerConfigError(str(error)) from None
    workflow_options: dict[str, Any] = {"max_cached_workflows": cache, "workflow_runner": runner}
    main = Worker(
        client,
        task_queue=task_queue,
        workflows=list(workflows),
        activities=[
            access.resolve_access_request,
            identity.resolve_identity,
            identity.load_user,
            membership.add_aptible_membership,
            membership.remove_aptible_membership,
            membership.acquire_lease,
            membership.release_lease,
            reconcile.list_memberships,
            reconcile.running_owners,
            reconcile.remove_unknown,
            notifications.post_request,
            notifications.update_request,
            notifications.notify_requester,
        ],
        max_concurrent_activities=ACTIVITY_SLOTS,
        workflow_task_poller_behavior=workflow_task_pollers(),
        activity_task_poller_behavior=task_pollers(),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        **workflow_options,
        **worker_options,
    )
    hooks = Worker(
        client,
        task_queue=hooks_task_queue(task_queue),
        activities=[reducers.run_hook, reducers.get_permissions],
        activity_executor=user_pool,
        max_concurrent_activities=hook_threads,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        **worker_options,
    )
    return JitflowWorkers(main, hooks, [io_pool, user_pool], membership.courier)


class JitflowWorkers:
    """Runs a process's two workers together (``async with``), and stops their pools after."""

    def __init__(
        self,
        main: Worker,
        hooks: Worker,
        pools: list[ThreadPoolExecutor],
        courier: NewsCourier | None = None,
    ) -> None:
        self.main = main
        self.hooks = hooks
        self._pools = pools
        self._courier = courier
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> JitflowWorkers:
        await self._stack.enter_async_context(self.main)
        await self._stack.enter_async_context(self.hooks)
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            try:
                await self._stack.aclose()
            finally:
                if self._courier is not None:
                    await self._courier.aclose()  # news of the last local removals
        finally:
            for pool in self._pools:
                # A hook stuck forever keeps its thread; do not wait for it on the way out.
                pool.shutdown(wait=False, cancel_futures=True)


async def run_worker(
    config_path: str | None = None,
    *,
    address: str | None = None,
    namespace: str | None = None,
    task_queue: str | None = None,
    stop_signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
    ready_file: Path | None = None,
    deployment: DeploymentSettings | None = None,
    make_current: MakeCurrent = "never",
) -> None:
    """Serve until one of ``stop_signals``; raises ``WorkerConfigError`` before connecting.

    ``ready_file`` is created once the worker polls its task queue (``jitflow dev`` waits for it)
    and removed on the way out. ``deployment`` is the Worker Deployment Version to serve as
    (default: from the environment); ``make_current`` says when to make it the deployment's current
    version once it polls (which is what sends new requests to it): ``always``, ``if-none`` (only
    when the deployment has no current version: a first start, never a restart mid-upgrade), or
    ``never``.
    """
    tune_allocator()
    path = config_path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH
    queue = task_queue or os.environ.get(TASK_QUEUE_ENV) or DEFAULT_TASK_QUEUE
    config = load_worker_config(path)
    version = deployment or DeploymentSettings.from_env()
    guard_grace = check_worker_settings()
    for warning in config.warnings:
        log.warning("configuration: %s", warning)
    metrics = metrics_address()
    client = await connect(
        address, namespace, runtime=metrics_runtime(metrics) if metrics else None
    )
    if metrics:
        log.info("temporalio's metrics served at http://%s/metrics", metrics)
    try:
        created = await ensure_search_attributes(client)
    except RPCError as error:
        # Temporal Cloud and locked-down namespaces do not let workers manage attributes; an
        # operator creates them once (see README), and the worker serves regardless.
        log.warning(
            "could not check or create the Jit* search attributes (%s); create them with "
            "`temporal operator search-attribute create` or `tcld` if they are missing",
            error.message,
        )
    else:
        if created:
            log.info("created search attributes %s", ", ".join(created))
    try:
        await ensure_reconcile_schedules(client, config, queue)
    except RPCError as error:
        log.warning("could not create the reconcile schedules: %s", error.message)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in stop_signals:
        loop.add_signal_handler(sig, stop.set)
    with (
        IdentityStore.open() as store,
        ThreadPoolExecutor(
            # Resolving requests (the configuration step) and loading flows' modules.
            max_workers=ACTIVITY_THREADS,
            thread_name_prefix="jitflow-activity",
        ) as executor,
    ):
        async with AptibleClient.from_env() as aptible:
            secrets = SecretReader()
            keyring = await load_worker_keyring(secrets)
            worker = build_worker(
                client,
                config,
                store=store,
                aptible=aptible,
                secrets=secrets,
                keyring=keyring,
                task_queue=queue,
                executor=executor,
                deployment=version,
            )
            refresh = asyncio.create_task(keep_people_fresh(DIRECTORY, store))
            front_door_refresh = asyncio.create_task(
                keep_front_doors_fresh(DIRECTORY, FrontDoorKeys(secrets.boto_client))
            )
            # Outside Temporal on purpose: no worker but this process can stop it.
            guard = ExpiryGuard(
                config,
                store,
                aptible,
                BotCredentials(secrets, config),
                blocking=Blocking(executor),
                grace=guard_grace,
            )
            guarding = asyncio.create_task(keep_guarding(guard))
            async with worker:
                log.info(
                    "jitflow worker serving task queue %r on %s (namespace %r), config %s, as %s",
                    queue,
                    client.service_client.config.target_host,
                    client.namespace,
                    path,
                    f"version {version}",
                )
                await _announce_version(client, version, make_current)
                # After serving starts, never before: while Aptible is failing, the preflight's
                # retries took most of a minute, and a restarted worker removed nothing meanwhile.
                preflight = asyncio.create_task(_log_preflight(config, aptible, secrets))
                watchdog = asyncio.create_task(keep_a_live_current(client, version, queue))
                if ready_file is not None:
                    ready_file.write_text(str(os.getpid()))
                try:
                    await stop.wait()
                finally:
                    if ready_file is not None:
                        ready_file.unlink(missing_ok=True)
                log.info("stopping: waiting for running activities to finish")
                preflight.cancel()
                watchdog.cancel()
            for task in (refresh, front_door_refresh, guarding):
                task.cancel()
            # Before the Aptible client and the store close under them.
            await asyncio.gather(refresh, front_door_refresh, guarding, return_exceptions=True)
    for sig in stop_signals:
        loop.remove_signal_handler(sig)


async def _announce_version(
    client: Client, deployment: DeploymentSettings, make_current: MakeCurrent
) -> None:
    """Make this build current when asked; otherwise say loudly when it is not, because a
    deployment with no current version gives new requests to no worker at all."""
    current = await current_build_id(client, deployment.name)
    wanted = make_current == "always" or (make_current == "if-none" and current is None)
    if wanted and current != deployment.build_id:
        await set_current(client, deployment)
        return
    if current == deployment.build_id:
        log.info("this build is the current version of deployment %r", deployment.name)
    elif current is None:
        log.warning(
            "deployment %r has no current version: new requests wait until one is made current "
            "(`jitflow worker --set-current`, or `temporal worker deployment set-current-version "
            "--deployment-name %s --build-id %s`)",
            deployment.name,
            deployment.name,
            deployment.build_id,
        )
    else:
        log.warning(
            "build %s is not current (deployment %r runs new requests on %s): this worker serves "
            "only requests pinned to it and owners until it is made current",
            deployment.build_id,
            deployment.name,
            current,
        )


async def load_worker_keyring(secrets: SecretReader) -> WorkerKeyring:
    """The worker's signing key from Secrets Manager, created there on first start."""
    keyring = await asyncio.to_thread(
        WorkerKeyring.load_or_create, secrets.boto_client(), worker_key_secret_name()
    )
    log.info("signing grant tickets with worker key %s", keyring.key_id)
    return keyring


async def _log_preflight(
    config: JitflowConfig, aptible: AptibleClient, secrets: SecretReader
) -> None:
    """Check the bots and target roles once at start, beside serving; problems are warnings, not
    a refusal to run (Aptible may be briefly unreachable, and grants retry), but they are what to
    look at first."""
    try:
        problems = await online_preflight(config, aptible=aptible, secrets=secrets)
    except Exception as error:  # never let a preflight bug keep the worker from serving
        log.warning("preflight could not run: %s", error)
        return
    for problem in problems:
        log.warning("preflight: %s", problem)
    if not problems:
        log.info("preflight: every bot logs in and every target role is ready")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(
        run_worker(
            deployment=DeploymentSettings.from_env(),
            make_current=make_current_from_env(),
        )
    )


if __name__ == "__main__":
    main()
