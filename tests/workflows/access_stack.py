"""The real servers the access-workflow tests run against, and helpers to drive a request.

Aptible is the project's emulator (in-process, loopback), Secrets Manager is moto in server
mode, the identity store is SQLite in a temporary folder, and Temporal is either the
time-skipping test server or the dev server, both from the pinned wheels.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle, WorkflowHistory

from activities.aptible.client import AptibleClient
from activities.secrets import SecretReader
from jitflow.config.loader import load_config
from jitflow.config.models import AptibleRoleTarget, Flow, FlowParams, JitflowConfig
from jitflow.contracts.access import (
    AccessRequestInput,
    AccessState,
    ResolvedRequest,
)
from jitflow.contracts.events import TargetData
from jitflow.deployment import DeploymentSettings, set_current
from jitflow.identity import IdentityStore
from jitflow.testing.aptible_emulator import (
    EXAMPLE_ADMIN_ROLE_ID,
    EXAMPLE_BOT_EMAIL,
    EXAMPLE_BOT_PASSWORD,
    EXAMPLE_DEVELOPERS_ROLE_ID,
    EXAMPLE_OWNERS_ROLE_ID,
    EXAMPLE_READONLY_ROLE_ID,
    RunningAptibleEmulator,
)
from jitflow.testing.moto_server import (
    DUMMY_ACCESS_KEY_ID,
    DUMMY_SECRET_ACCESS_KEY,
    create_secret,
)
from jitflow.testing.signing import PersonKeys, signing_client
from jitflow.trust.keys import private_key_openssh
from jitflow.trust.worker_key import WorkerKeyring
from worker import ACTIVITY_THREADS, build_worker
from workflows.access_request import AccessRequestWorkflow

EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "aptible"
BOT_SECRET_PATH = "sym/main/aptible-bot-credentials"
UNKNOWN_ROLE_ID = "0dead000-0000-4000-8000-00000000dead"

ADMIN_ROLE = EXAMPLE_ADMIN_ROLE_ID
READONLY_ROLE = EXAMPLE_READONLY_ROLE_ID
DEVELOPERS_ROLE = EXAMPLE_DEVELOPERS_ROLE_ID

#: Users of the identity store: dave is an admin, eve a guest; the others are members.
STORE_ROLES = {
    "alice@example.com": "member",
    "bob@example.com": "member",
    "carol@example.com": "member",
    "dave@example.com": "admin",
    "eve@example.com": "guest",
}


def _flow(key: str, params: FlowParams, **changes: Any) -> Flow:
    return Flow(key=key, name=key, params=params, **changes)


def test_config() -> JitflowConfig:
    """The example configuration plus flows and targets for every scenario."""
    config = load_config(EXAMPLE_CONFIG)
    strategy = next(iter(config.strategies.values()))
    extra_targets = {
        "developers": AptibleRoleTarget(
            key="developers", name="developers", role_id=EXAMPLE_DEVELOPERS_ROLE_ID
        ),
        "owners": AptibleRoleTarget(key="owners", name="owners", role_id=EXAMPLE_OWNERS_ROLE_ID),
        "ghost": AptibleRoleTarget(key="ghost", name="ghost", role_id=UNKNOWN_ROLE_ID),
    }
    strategy = strategy.model_copy(update={"targets": (*strategy.targets, *extra_targets)})
    base = FlowParams(strategy=strategy.key)
    durations = (5, 10, 3600, 8 * 3600)
    flows = {
        **config.flows,
        "plain": _flow("plain", base, durations=durations),
        "until_revoked": _flow(
            "until_revoked",
            base.model_copy(update={"schedule_deescalation": False}),
            durations=durations,
        ),
        "no_revoke": _flow(
            "no_revoke", base.model_copy(update={"allow_revoke": False}), durations=durations
        ),
        "quick_expiry": _flow("quick_expiry", base, durations=durations, request_timeout=3),
    }
    return config.model_copy(
        update={
            "flows": flows,
            "strategies": {strategy.key: strategy},
            "targets": {**config.targets, **extra_targets},
        }
    )


@dataclass
class Stack:
    """Everything a scenario needs: the Temporal client, the emulator and the task queue."""

    client: Client
    """Signs every decision it sends with the sender's test key, as ``jitflow approve`` would."""
    emulator: RunningAptibleEmulator
    task_queue: str
    config: JitflowConfig
    raw_client: Client
    """The same connection without signing: what an attacker with the ``temporal`` CLI has."""
    store: IdentityStore

    def members(self, role_id: str) -> set[str]:
        """Emails holding ``role_id`` in the emulator, the bot excepted."""
        return self.emulator.admin.member_emails(role_id) - {EXAMPLE_BOT_EMAIL}

    async def start(self, **request: Any) -> WorkflowHandle[Any, AccessState]:
        request.setdefault("flow", "plain")
        request.setdefault("requester", "alice@example.com")
        request.setdefault("duration", "1h")
        request.setdefault("reason", "investigating incident 42")
        return await self.client.start_workflow(
            AccessRequestWorkflow.run,
            AccessRequestInput.model_validate(request),
            id=f"access-{uuid.uuid4()}",
            task_queue=self.task_queue,
        )


async def status(handle: WorkflowHandle[Any, AccessState]) -> AccessState:
    state: AccessState = await handle.query(AccessRequestWorkflow.status)
    return state


async def wait_for(
    handle: WorkflowHandle[Any, AccessState], predicate: Any, timeout: float = 20.0
) -> AccessState:
    """Poll the ``status`` query until ``predicate(state)`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = await status(handle)
        if predicate(state):
            return state
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached; last state: {state.model_dump_json()}")
        await asyncio.sleep(0.05)


#: Every person the scenarios name has a key; the stack's client signs their decisions with it.
TEST_KEYS = PersonKeys()
PEOPLE = [*STORE_ROLES, "owner@example.com", "mallory@example.com"]
WORKER_KEY_SECRET = "jitflow/worker-signing-key"


def key_file(directory: Path, email: str) -> Path:
    """``email``'s test private key as an OpenSSH file (for ``--key``), written once."""
    path = directory / f"{email}.key"
    if not path.exists():
        path.write_bytes(private_key_openssh(TEST_KEYS.private(email)))
        path.chmod(0o600)
    return path


def seed_store(store: IdentityStore) -> None:
    for email, role in STORE_ROLES.items():
        store.upsert_user(email, role=role)
    TEST_KEYS.register(store, PEOPLE)


def secret_reader(moto_url: str) -> SecretReader:
    create_secret(
        moto_url, BOT_SECRET_PATH, {"username": EXAMPLE_BOT_EMAIL, "password": EXAMPLE_BOT_PASSWORD}
    )
    session = boto3.session.Session(
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        region_name="us-east-1",
    )
    return SecretReader(endpoint_url=moto_url, session=session, ttl_seconds=60)


@asynccontextmanager
async def running_worker(
    client: Client,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    tmp: Path,
    config: JitflowConfig | None = None,
    *,
    task_queue: str | None = None,
    store: IdentityStore | None = None,
    deployment: DeploymentSettings | None = None,
    **build_options: Any,
) -> AsyncIterator[Stack]:
    """A jitflow worker on a fresh task queue (or ``task_queue``), with a seeded SQLite identity
    store (or ``store``, shared with another worker as two builds of one deployment share it).

    Every jitflow worker is a Worker Deployment version. Without ``deployment`` the worker is
    the only build of a deployment of its own, made current at once; with one, the caller
    decides when it becomes current (the upgrade tests). Its membership owners close with
    their removal (no ``linger``) unless ``linger`` is given: many scenarios wait for an owner's
    result; ``test_owner_linger.py`` runs the worker's default."""
    build_options.setdefault("linger", timedelta(0))
    config = config or test_config()
    task_queue = task_queue or f"jitflow-test-{uuid.uuid4().hex[:8]}"
    own_deployment = deployment is None
    deployment = deployment or DeploymentSettings(name=f"jitflow-{task_queue}", build_id="test")
    async with AsyncExitStack() as stack:
        if store is None:
            store = stack.enter_context(IdentityStore.open(f"sqlite:///{tmp / 'identity.db'}"))
            seed_store(store)
        executor = stack.enter_context(ThreadPoolExecutor(max_workers=ACTIVITY_THREADS))
        aptible = await stack.enter_async_context(AptibleClient(emulator.base_url))
        secrets = secret_reader(moto_url)
        keyring = WorkerKeyring.load_or_create(secrets.boto_client(), WORKER_KEY_SECRET)
        worker = build_worker(
            client,
            config,
            store=store,
            aptible=aptible,
            secrets=secrets,
            keyring=keyring,
            task_queue=task_queue,
            executor=executor,
            signed_decisions=True,
            deployment=deployment,
            **build_options,
        )
        await stack.enter_async_context(worker)
        if own_deployment:
            await set_current(client, deployment)
        signing = signing_client(client, TEST_KEYS)
        yield Stack(signing, emulator, task_queue, config, client, store)


HISTORIES = Path(__file__).resolve().parents[1] / "histories"
RECORD_ENV = "JITFLOW_RECORD_HISTORIES"
MANIFEST = HISTORIES / "corpus.sha256"
"""The frozen corpus, one ``<sha256>  <file>`` line per history (``sha256sum -c`` reads it)."""


def history_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest() -> dict[str, str]:
    """History file name -> SHA-256 of its bytes, as checked in."""
    if not MANIFEST.exists():
        return {}
    entries: dict[str, str] = {}
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        entries[name.strip()] = digest
    return entries


def add_to_manifest(path: Path) -> None:
    entries = read_manifest()
    if path.name in entries:
        raise AssertionError(f"{path.name} is already in the frozen corpus; record a new name")
    entries[path.name] = history_digest(path)
    lines = [f"{digest}  {name}" for name, digest in sorted(entries.items())]
    MANIFEST.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def keep_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """Save the run's history as ``tests/histories/<name>.json`` when recording is asked for,
    and add it to the corpus manifest.

    The corpus only grows (README, "Upgrading jitflow"): ``JITFLOW_RECORD_HISTORIES=1 make test``
    records the paths a change adds, never over an existing history, which stands for runs
    already in flight. When ``<name>`` exists but this run took other patches than every history
    recorded under it (a change behind ``workflow.patched`` altered the path), the run is kept
    beside them as ``<name>--<the patches it adds>.json``. ``test_access_replay.py`` replays
    every one against today's code.
    """
    if not os.environ.get(RECORD_ENV):
        return
    history = await handle.fetch_history()
    path = HISTORIES / f"{name}.json"
    if path.exists():
        patches = patch_ids(history.events)
        kept = [
            patch_ids(WorkflowHistory.from_json(handle.id, p.read_text()).events)
            for p in (path, *HISTORIES.glob(f"{name}--*.json"))
        ]
        if any(patches == earlier for earlier in kept):
            return
        added, dropped = sorted(patches - kept[0]), sorted(kept[0] - patches)
        variant = "+".join(added) + ("-without-" + "+".join(dropped) if dropped else "")
        path = HISTORIES / f"{name}--{variant}.json"
        if path.exists():
            return
    HISTORIES.mkdir(exist_ok=True)
    path.write_text(history.to_json(), encoding="utf-8")
    add_to_manifest(path)


def recorded_patches(events: Iterable[HistoryEvent]) -> list[str]:
    """The ``workflow.patched`` ids a history recorded, in order."""
    found: list[str] = []
    for event in events:
        if not event.HasField("marker_recorded_event_attributes"):
            continue
        details = event.marker_recorded_event_attributes.details
        if "patch-data" in details:
            found += [json.loads(payload.data)["id"] for payload in details["patch-data"].payloads]
    return found


def patch_ids(events: Iterable[HistoryEvent]) -> frozenset[str]:
    """The ``workflow.patched`` ids a history recorded."""
    return frozenset(recorded_patches(events))


def local_activity_types(events: Iterable[HistoryEvent]) -> list[str]:
    """The local activities a run recorded (each a ``core_local_activity`` marker), in order."""
    names = []
    for event in events:
        if not event.HasField("marker_recorded_event_attributes"):
            continue
        marker = event.marker_recorded_event_attributes
        if marker.marker_name == "core_local_activity":
            names.append(json.loads(marker.details["data"].payloads[0].data)["activity_type"])
    return names


def resolved_request(**changes: Any) -> ResolvedRequest:
    """A resolved request for pure tests (rules, the Web UI view): one flow, one target."""
    base = ResolvedRequest(
        flow_key="f",
        flow_name="f",
        target=TargetData(key="t", name="t", role_id="r"),
        strategy_key="s",
        integration_key="i",
        org_id="o",
        requester="alice@example.com",
        duration_seconds=60,
        allowed_durations=(60,),
        request_timeout_seconds=None,
        allow_revoke=True,
        schedule_deescalation=True,
        allow_guest_interaction=False,
        include_decision_message=False,
    )
    return base.model_copy(update=changes)


class AdmitAll:
    """Stands in for the grant authority where a test is about Aptible calls or the ledger,
    not about trust (tests/security covers that)."""

    async def ticketed(self, request: Any, info: Any) -> Any:
        raise AssertionError("not used here")

    async def admit(self, key: Any, tickets: Any, now: Any) -> Any:
        return None

    async def close(self, ids: tuple[str, ...]) -> None:
        return None

    async def vouch(self, news: Any, key: Any, now: Any) -> Any:
        return news  # unsigned: a request's validator refuses it
