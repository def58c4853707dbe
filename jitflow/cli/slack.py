"""``jitflow slack serve``: the Slack front door, wired to Temporal, Secrets Manager and the store.

The wiring lives here (an entry point) because it joins rooms the front door itself does not
import: the flow's decision rules (``workflows.permissions``) and the Secrets Manager reader
(``activities.secrets``). ``build_front_door`` is what the command and the tests both run.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click
from temporalio.client import Client

from activities.secrets import SecretReader
from jitflow.access_client import AccessRequests
from jitflow.config.loader import load_config
from jitflow.config.models import JitflowConfig, SymIntegration
from jitflow.config.slack import (
    BOT_TOKEN_SETTING,
    SIGNING_SECRET_SETTING,
    slack_integration,
    slack_integrations,
)
from jitflow.contracts.access import AccessState
from jitflow.emulator.server import bind_socket, build_server
from jitflow.identity import IdentityStore
from jitflow.integrations import IntegrationServices
from jitflow.reducer_runtime import ReducerRunner
from jitflow.reducer_runtime.prompt import PromptCalls
from jitflow.slack.client import slack_api_url, web_client
from jitflow.slack.form_hooks import FormHooks
from jitflow.slack.front_door import INTERACTIONS_PATH, FrontDoor
from jitflow.slack.request_modal import FlowForm, FormConfigError, flow_form
from jitflow.temporal import TemporalConnectionError, connect
from jitflow.trust.front_door_key import front_door_key_secret_name, load_front_door_keyring
from workflows.permissions import approval_refusal

log = logging.getLogger("jitflow.slack")


def judge(state: AccessState, action: str, email: str) -> str | None:
    """The flow's own rules, as the update validators apply them (status, approvers, self)."""
    return approval_refusal(state, action, email, expiring=False, busy=False)


def request_forms(config: JitflowConfig, integration: SymIntegration) -> dict[str, FlowForm]:
    """What ``/jitflow`` offers: each flow whose Slack is ``integration``, by name. A choice
    the form could not carry stops the front door at start, with the flow and the value."""
    try:
        return {
            flow.name: flow_form(config, flow)
            for flow in config.flows.values()
            if (found := slack_integration(config, flow)) is not None
            and found.key == integration.key
        }
    except FormConfigError as error:
        raise click.ClickException(str(error)) from None


def form_hooks(config: JitflowConfig, secrets: SecretReader, store: IdentityStore) -> FormHooks:
    """The flows' prompt-time functions (``on_prompt``, ``@prefetch``, ``on_change_*``), run
    as the worker runs reducers: the store's roles, the flows' integrations and secrets."""
    runner = ReducerRunner(
        config,
        roles_provider=lambda: dict(store.user_roles()),
        integrations=IntegrationServices(secrets=secrets, identities=store),
    )
    return FormHooks(PromptCalls(runner))


def pick_integration(config: JitflowConfig, name: str | None) -> SymIntegration:
    """The slack integration to serve: the only one, or the one named ``name``."""
    found = slack_integrations(config)
    if name is not None:
        found = [i for i in found if name in (i.key, i.name)]
    if len(found) != 1:
        names = ", ".join(i.name for i in slack_integrations(config)) or "none"
        raise click.ClickException(
            f"need exactly one sym_integration of type slack (found: {names}); "
            "name one with --integration"
        )
    return found[0]


async def build_front_door(
    config: JitflowConfig,
    integration: SymIntegration,
    *,
    client: Client,
    secrets: SecretReader,
    store: IdentityStore,
    task_queue: str = "jitflow",
    api_url: str | None = None,
    key_secret: str | None = None,
) -> FrontDoor:
    """The front door of ``integration``: its secrets read now, its key created on first use."""
    signing = integration.secrets.get(SIGNING_SECRET_SETTING)
    token = integration.secrets.get(BOT_TOKEN_SETTING)
    if signing is None or token is None:
        raise click.ClickException(
            f"sym_integration.{integration.key} needs {SIGNING_SECRET_SETTING} and "
            f"{BOT_TOKEN_SETTING} (run `jitflow validate`)"
        )
    keyring = await asyncio.to_thread(
        load_front_door_keyring, secrets.boto_client(), key_secret or front_door_key_secret_name()
    )
    log.info("signing Slack decisions with front door key %s", keyring.key_id)
    return FrontDoor(
        signing_secret=await secrets.read(signing),
        slack=web_client(await secrets.read(token), api_url or slack_api_url()),
        requests=AccessRequests(client, task_queue),
        key=(keyring.key_id, keyring.sign),
        known_user=lambda email: store.get_user(email) is not None,
        judge=judge,
        forms=request_forms(config, integration),
        hooks=form_hooks(config, secrets, store),
    )


@click.group("slack")
def slack() -> None:
    """Slack: the interactive front door that turns button clicks into decisions."""


@slack.command("serve")
@click.option(
    "--config",
    "config_path",
    envvar="JITFLOW_CONFIG",
    default="examples/aptible",
    show_default=True,
    help="Folder of sym_* .tf files (with a sym_integration of type slack).",
)
@click.option("--integration", help="The slack sym_integration to serve, when there are several.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8786, show_default=True, type=click.IntRange(0, 65535))
@click.option("--address", envvar="TEMPORAL_ADDRESS", help="Temporal frontend host:port.")
@click.option("--namespace", envvar="TEMPORAL_NAMESPACE", help="Temporal namespace.")
@click.option("--task-queue", envvar="JITFLOW_TASK_QUEUE", default="jitflow", show_default=True)
@click.option("--log-level", default="info", show_default=True)
def serve(
    config_path: str,
    integration: str | None,
    host: str,
    port: int,
    address: str | None,
    namespace: str | None,
    task_queue: str,
    log_level: str,
) -> None:
    """Receive Slack's interaction payloads (set the app's Interactivity Request URL to
    http(s)://<this host>/slack/interactions) and send verified clicks to the requests."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if not Path(config_path).exists():
        raise click.ClickException(f"configuration path {config_path!r} does not exist")
    try:
        config = load_config(config_path)
    except Exception as error:  # ConfigErrors lists every error with file and line
        raise click.ClickException(f"configuration {config_path!r} is invalid:\n{error}") from None
    chosen = pick_integration(config, integration)
    try:
        sock = bind_socket(host, port)
    except OSError as error:
        raise click.ClickException(str(error)) from None

    async def run() -> None:
        try:
            client = await connect(address, namespace)
        except TemporalConnectionError as error:
            raise click.ClickException(str(error)) from None
        with IdentityStore.open() as store:
            front_door = await build_front_door(
                config,
                chosen,
                client=client,
                secrets=SecretReader(),
                store=store,
                task_queue=task_queue,
            )
            url = f"http://{host}:{sock.getsockname()[1]}{INTERACTIONS_PATH}"
            click.echo(f"Slack front door for workspace {chosen.external_id}: {url}")
            await build_server(front_door, log_level=log_level).serve(sockets=[sock])
            await front_door.settle()

    asyncio.run(run())
