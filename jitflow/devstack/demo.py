"""What ``jitflow dev`` shows once the stack is up, and the scenario ``jitflow dev --demo`` plays.

The demo takes one request through the product the way a person would, through Slack: Alice
asks for the example Admin Role, the request appears in the Slack emulator's
``#access-requests`` with Approve and Deny buttons, Bob clicks Approve (the emulator signs the
click as Slack does and POSTs it to the front door, which turns it into a signed decision), the
membership appears in the Aptible emulator, Alice revokes, it is gone, and Alice's direct
messages say so. Each step is printed as it happens; a step that does not happen is an error.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from jitflow.access_client import AccessRequests, SigningKey
from jitflow.contracts.access import (
    AccessRequestInput,
    AccessState,
    Revocation,
)
from jitflow.devstack import slack_demo
from jitflow.devstack.example import EXAMPLE_ADMIN_ROLE_ID
from jitflow.devstack.keys import key_path
from jitflow.devstack.slack_workspace import REQUEST_CHANNEL, REQUEST_CHANNEL_ID
from jitflow.devstack.stack import StackSettings
from jitflow.emulator.admin_client import EmulatorAdmin
from jitflow.emulator.slack_admin_client import SlackEmulatorAdmin
from jitflow.slack.front_door import INTERACTIONS_PATH
from jitflow.temporal import connect
from jitflow.trust.keys import load_private_key, public_key_of, sign

REQUESTER = "alice@example.com"
APPROVER = "bob@example.com"
TARGET = "admin_prod"


def instructions(
    settings: StackSettings,
    jitflow: str = ".venv/bin/jitflow",
    temporal: str = ".venv/bin/temporal",
) -> str:
    """The copy-paste block printed once the stack is ready.

    ``jitflow`` and ``temporal`` are the commands as the person can type them (``jitflow dev``
    passes the way it was itself run, so the block works whether the venv is on PATH or not).
    """
    j, t = jitflow, temporal
    address = settings.temporal_address
    bob_key = key_path(settings.state_dir, APPROVER)
    alice_key = key_path(settings.state_dir, REQUESTER)
    request_json = (
        '{"flow": "aptible_access", "target": "admin_prod", "requester": "alice@example.com", '
        '"duration": "10m", "reason": "investigate incident 42"}'
    )
    return f"""
jitflow is running.
  Web UI:             {settings.ui_url}/namespaces/default/workflows
  Temporal frontend:  {address}
  Aptible emulator:   {settings.aptible_url}   (memberships: {settings.aptible_url}/_emulator/roles/{EXAMPLE_ADMIN_ROLE_ID}/memberships)
  Secrets Manager:    {settings.aws_url}   (moto)
  Slack emulator:     {settings.slack_url}   (messages: {settings.slack_url}/_emulator/messages?channel={REQUEST_CHANNEL_ID}, {REQUEST_CHANNEL})
  Slack front door:   {settings.front_door_url}{INTERACTIONS_PATH}   (the emulator's clicks go there)
  Logs:               {settings.state_dir / "logs"}/

In another terminal (from this folder), with jitflow's CLI:
  export TEMPORAL_ADDRESS={address}
  {j} request --target admin_prod --requester alice@example.com --duration 10m --reason "investigate incident 42" --id demo-1
  {j} approve demo-1 --approver bob@example.com --key {bob_key}
  {j} list --active
  {j} revoke demo-1 --by alice@example.com --key {alice_key}
  {j} status demo-1

Or with the temporal CLI:
  {t} workflow start --address {address} --type AccessRequest --task-queue jitflow --workflow-id demo-2 --input '{request_json}'
  {t} workflow update execute --address {address} --workflow-id demo-2 --name approve --input "$({j} sign approve demo-2 --approver bob@example.com --key {bob_key} --address {address})"
  {t} workflow list --address {address} --query "JitRequester='alice@example.com'"
  {t} workflow update execute --address {address} --workflow-id demo-2 --name revoke --input "$({j} sign revoke demo-2 --by alice@example.com --key {alice_key} --address {address})"
  {t} workflow query --address {address} --workflow-id demo-2 --type status

Watch them in the Web UI: {settings.ui_url}/namespaces/default/workflows?query=JitRequester%3D%22alice%40example.com%22
Ctrl-C stops everything.
"""


def after_demo(
    settings: StackSettings,
    workflow_id: str,
    *,
    keep_running: bool,
    jitflow: str = ".venv/bin/jitflow",
) -> str:
    """What to say once the demo is over: where to look while the stack stays up, or, when it
    stops at once, that the links it printed no longer work."""
    if not keep_running:
        return (
            "The stack stops now, so the Web UI link above no longer works "
            "(run without --stop-after-demo to keep it up)."
        )
    return (
        "The stack stays up so that you can look around:\n"
        f"  Web UI:   {settings.ui_url}/namespaces/default/workflows/{workflow_id}\n"
        f"  status:   {jitflow} status {workflow_id} --address {settings.temporal_address}\n"
        "Ctrl-C stops everything."
    )


def _key(settings: StackSettings, email: str) -> SigningKey:
    """The example user's key that ``jitflow dev`` made and registered."""
    private = load_private_key(key_path(settings.state_dir, email))
    return public_key_of(private).fingerprint, lambda data: sign(private, data)


class DemoFailed(RuntimeError):
    """A step of the demo did not happen; the message says which."""


@dataclass
class _Clock:
    started: float

    def stamp(self) -> str:
        return f"[{time.monotonic() - self.started:5.1f}s]"


async def _wait_status(
    requests: AccessRequests,
    workflow_id: str,
    wanted: Callable[[AccessState], bool],
    what: str,
    timeout: float = 30.0,
) -> AccessState:
    deadline = time.monotonic() + timeout
    while True:
        state = await requests.status(workflow_id)
        if wanted(state):
            return state
        if state.final or time.monotonic() > deadline:
            raise DemoFailed(f"expected {what}, but the request is {state.status}: {state.error}")
        await asyncio.sleep(0.1)


async def _wait_membership(admin: EmulatorAdmin, present: bool, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while (REQUESTER in admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)) != present:
        if time.monotonic() > deadline:
            state = "appear" if present else "go away"
            raise DemoFailed(f"{REQUESTER}'s membership of the Admin Role did not {state}")
        await asyncio.sleep(0.1)


async def run_demo(settings: StackSettings, echo: Callable[[str], None] = print) -> AccessState:
    """Play the scenario against a running stack; returns the request's final state."""
    clock = _Clock(time.monotonic())
    client = await connect(settings.temporal_address, "default")
    admin = EmulatorAdmin(settings.aptible_url)
    slack = SlackEmulatorAdmin(settings.slack_url)
    channel = REQUEST_CHANNEL_ID

    def say(text: str) -> None:
        echo(f"{clock.stamp()} {text}")

    try:
        if REQUESTER in admin.member_emails(EXAMPLE_ADMIN_ROLE_ID):
            raise DemoFailed(f"{REQUESTER} already holds the Admin Role in the emulator")
        workflow_id = f"demo-{uuid.uuid4().hex[:8]}"
        requests = AccessRequests(client)
        handle = await requests.start(
            AccessRequestInput(
                flow="aptible_access",
                target=TARGET,
                requester=REQUESTER,
                duration="10m",
                reason="demo: investigate incident 42",
            ),
            workflow_id,
        )
        echo(f"{clock.stamp()} {REQUESTER} requested {TARGET} for 10m: workflow {workflow_id}")

        state = await _wait_status(
            requests, workflow_id, lambda s: s.ready_for_decision, "a pending request"
        )
        assert state.permissions is not None
        echo(f"{clock.stamp()} pending; approvers: {', '.join(state.permissions.approvers)}")
        message = await slack_demo.request_message(slack, workflow_id, channel)
        say(f"Slack {REQUEST_CHANNEL}: {slack_demo.shown(message.current())}")
        told = len(await asyncio.to_thread(slack.ephemerals, APPROVER))
        answer = await asyncio.to_thread(slack.click, channel, message.ts, "approve", APPROVER)
        if answer.get("status") != 200:
            raise DemoFailed(f"the front door refused the click: {answer}")
        say(
            f"{APPROVER} clicked Approve; the emulator signed the click with the signing secret "
            f"and the front door answered {answer['status']}"
        )
        reply = await slack_demo.ephemeral(slack, APPROVER, told)
        say(f"the front door told {APPROVER} (ephemeral): {slack_demo.readable(reply.text)}")
        state = await _wait_status(
            requests, workflow_id, lambda s: s.status == "escalated", "escalation"
        )
        await _wait_membership(admin, present=True)
        echo(
            f"{clock.stamp()} escalated: {REQUESTER} is a member of the Admin Role in Aptible "
            f"until {state.expires_at:%H:%M:%S} UTC"
        )
        message = await slack_demo.updated(slack, workflow_id, channel, "Access granted")
        say(f"Slack {REQUEST_CHANNEL}, updated: {slack_demo.shown(message.current())}")
        dm = await slack_demo.direct_message(slack, REQUESTER, "You now have")
        say(f"Slack DM to {REQUESTER}: {slack_demo.readable(dm.text)}")
        revocation = await requests.signed(
            "revoke", workflow_id, REQUESTER, "done early", _key(settings, REQUESTER)
        )
        assert isinstance(revocation, Revocation)
        outcome = await requests.revoke(workflow_id, revocation)
        echo(f"{clock.stamp()} {REQUESTER} revoked: {outcome.status}")
        state = await handle.result()
        await _wait_membership(admin, present=False)
        echo(f"{clock.stamp()} de-escalated: the membership is gone; the request is {state.status}")
        message = await slack_demo.updated(slack, workflow_id, channel, "Access removed")
        say(f"Slack {REQUEST_CHANNEL}, updated: {slack_demo.shown(message.current())}")
        dm = await slack_demo.direct_message(slack, REQUESTER, "was removed")
        say(f"Slack DM to {REQUESTER}: {slack_demo.readable(dm.text)}")
        echo(
            f"{clock.stamp()} see it in the Web UI: {settings.ui_url}/namespaces/default/"
            f"workflows/{workflow_id}"
        )
        say(f"every Slack message: {settings.slack_url}/_emulator/messages")
        return state
    except slack_demo.SlackStepMissing as missing:
        raise DemoFailed(f"{missing} (see {settings.state_dir / 'logs'}/)") from None
    finally:
        admin.close()
        slack.close()
