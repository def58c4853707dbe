"""The whole Slack loop on a Temporal dev server with the real worker: a request's message in the
Slack emulator, a click signed with the workspace's signing secret, the front door, a grant.

A click that is not Slack's (bad signature, stale timestamp) is refused with 401 and the reason;
a click by someone the flow does not let decide changes nothing and tells them why, in an
ephemeral message. The worker accepts the front door's proofs because it reads the front door's
public key from Secrets Manager; a proof signed by any other key is refused.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from access_stack import ADMIN_ROLE, Stack, running_worker, status, wait_for
from access_stack import test_config as stack_config
from slack_support import RunningSlack, reader, running_slack, store_slack_secrets, with_slack
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.grant_authority import GrantAuthority
from activities.notifications import NotificationActivities
from jitflow.access_client import AccessRequests
from jitflow.cli.slack import build_front_door
from jitflow.contracts.access import AccessState, Decision
from jitflow.contracts.names import SLACK_API_URL_ENV, SLACK_FRONT_DOOR_KEY_SECRET_ENV
from jitflow.contracts.notifications import PostRequestCall, RequestCard
from jitflow.deployment import DeploymentSettings, set_current
from jitflow.emulator.server import bind_socket, build_server
from jitflow.slack.front_door import INTERACTIONS_PATH, FrontDoor
from jitflow.testing.aptible_emulator import RunningAptibleEmulator
from jitflow.trust.directory import DIRECTORY
from jitflow.trust.front_door_key import FrontDoorKeys, load_front_door_keyring
from jitflow.trust.keys import generate_private_key, public_key_of, sign

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass
class SlackStack:
    stack: Stack
    slack: RunningSlack
    front_door: FrontDoor
    notify: NotificationActivities
    key_secret: str
    moto_url: str


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def slack_stack(
    dev_env: WorkflowEnvironment,
    emulator: RunningAptibleEmulator,
    moto_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[SlackStack]:
    key_secret = f"jitflow-test/slack-front-door-{uuid.uuid4().hex[:8]}"
    saved = {
        name: os.environ.get(name) for name in (SLACK_API_URL_ENV, SLACK_FRONT_DOOR_KEY_SECRET_ENV)
    }
    with running_slack() as slack:
        store_slack_secrets(moto_url, slack.state)
        secrets = reader(moto_url)
        os.environ[SLACK_API_URL_ENV] = slack.api_url
        os.environ[SLACK_FRONT_DOOR_KEY_SECRET_ENV] = key_secret
        config = with_slack(stack_config(), request_channel="#approvals")
        tmp: Path = tmp_path_factory.mktemp("slack")
        try:
            # The front door's first start creates its key; the worker then reads it.
            await asyncio.to_thread(load_front_door_keyring, secrets.boto_client(), key_secret)
            # Workflows are pinned to a Worker Deployment Version: this worker is one, current.
            deployment = DeploymentSettings(
                name=f"jitflow-slack-{uuid.uuid4().hex[:8]}", build_id="t"
            )
            async with running_worker(
                dev_env.client, emulator, moto_url, tmp, config, deployment=deployment
            ) as stack:
                await set_current(dev_env.client, deployment)
                front_door = await build_front_door(
                    config,
                    config.sym_integrations["slack"],
                    client=dev_env.client,
                    secrets=secrets,
                    store=stack.store,
                    task_queue=stack.task_queue,
                    api_url=slack.api_url,
                    key_secret=key_secret,
                )
                sock = bind_socket("127.0.0.1", 0)
                server = build_server(front_door)
                serving = asyncio.create_task(server.serve(sockets=[sock]))
                while not server.started:
                    await asyncio.sleep(0.01)
                port = sock.getsockname()[1]
                slack.state.front_door_url = f"http://127.0.0.1:{port}{INTERACTIONS_PATH}"
                notify = NotificationActivities(config, secrets, slack.api_url)
                try:
                    yield SlackStack(stack, slack, front_door, notify, key_secret, moto_url)
                finally:
                    await front_door.settle()
                    server.should_exit = True
                    await serving
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


async def pending_request(
    s: SlackStack, **request: Any
) -> tuple[WorkflowHandle[Any, AccessState], str]:
    """A request ready for a decision, and the ``ts`` of its message in #approvals."""
    handle = await s.stack.start(**request)
    state = await wait_for(handle, lambda st: st.ready_for_decision and st.aptible_user_id)
    assert state.resolved is not None
    run_id = (await handle.describe()).run_id
    card = RequestCard(
        workflow_id=handle.id,
        run_id=run_id,
        flow=state.resolved.flow_key,
        flow_label=state.resolved.flow_name,
        requester=state.resolved.requester,
        target=state.resolved.target.name,
        duration_seconds=state.resolved.duration_seconds,
        reason=state.input.reason,
    )
    outcome = await s.notify.post_request(PostRequestCall(card=card))
    assert outcome.delivered, outcome
    return handle, outcome.messages[0].ts


async def click(s: SlackStack, ts: str, action: str, user: str, **options: Any) -> dict[str, Any]:
    """Play the click (the emulator runs in a thread; the front door on this loop) and wait
    until the front door has decided it."""
    answer: dict[str, Any] = await asyncio.to_thread(s.slack.click, ts, action, user, **options)
    await s.front_door.settle()
    return answer


async def test_a_signed_click_by_an_approver_grants_and_access_ends_on_time(
    slack_stack: SlackStack,
) -> None:
    s = slack_stack
    handle, ts = await pending_request(
        s, flow="plain", target="main-aptible-admin-role", duration=5
    )
    answer = await click(s, ts, "approve", "U0DAVE")  # dave is an admin: admins approve "plain"
    assert answer == {"status": 200, "body": ""}
    state = await wait_for(handle, lambda st: st.status == "escalated")
    assert state.approver == "dave@example.com"
    assert "alice@example.com" in s.stack.members(ADMIN_ROLE)
    assert s.slack.ephemerals("U0DAVE")[-1] == f"You approved {handle.id}: approved."
    await wait_for(handle, lambda st: st.status == "deescalated", timeout=30)
    assert "alice@example.com" not in s.stack.members(ADMIN_ROLE)


async def test_bad_signature_stale_timestamp_and_non_approvers_change_nothing_and_say_why(
    slack_stack: SlackStack,
) -> None:
    s = slack_stack
    handle, ts = await pending_request(
        s, flow="plain", target="main-aptible-admin-role", duration=5
    )
    told_dave = len(s.slack.ephemerals("U0DAVE"))

    forged = await click(s, ts, "approve", "U0DAVE", signing_secret="guessed-secret")
    assert forged["status"] == 401
    assert forged["body"].startswith("bad signature")
    stale = await click(s, ts, "approve", "U0DAVE", timestamp_offset=-6 * 60)
    assert stale["status"] == 401
    assert stale["body"].startswith("stale request: signed 36")
    assert len(s.slack.ephemerals("U0DAVE")) == told_dave  # refused before anything was read

    await click(s, ts, "approve", "U0CAROL")
    assert s.slack.ephemerals("U0CAROL")[-1].startswith(
        "You cannot approve this request: carol@example.com is not an approver of flow 'plain'"
    )
    await click(s, ts, "Deny", "U0ALICE")
    assert "may not deny their own request" in s.slack.ephemerals("U0ALICE")[-1]
    await click(s, ts, "approve", "U0ZED")
    assert s.slack.ephemerals("U0ZED")[-1].startswith("zed@example.com is not a jitflow user")

    state = await status(handle)
    assert state.status == "pending" and state.approver is None
    assert "alice@example.com" not in s.stack.members(ADMIN_ROLE)

    await click(s, ts, "deny", "U0DAVE")
    assert (await wait_for(handle, lambda st: st.final)).status == "denied"
    assert s.slack.ephemerals("U0DAVE")[-1] == f"You denied {handle.id}: denied."


async def test_a_proof_signed_by_any_other_key_is_refused(slack_stack: SlackStack) -> None:
    s = slack_stack
    handle, _ = await pending_request(s, flow="plain", target="main-aptible-admin-role", duration=5)
    impostor = generate_private_key()
    fingerprint = public_key_of(impostor, "impostor").fingerprint
    requests = AccessRequests(s.stack.raw_client, s.stack.task_queue)
    body = await requests.signed(
        "approve", handle.id, "dave@example.com", None, (fingerprint, lambda b: sign(impostor, b))
    )
    assert isinstance(body, Decision) and body.proof is not None
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await requests.approve(handle.id, body)
    assert f"key {fingerprint} is not registered" in str(refused.value.cause)

    # Where the grant is made, only the front door's key from Secrets Manager is accepted.
    authority = GrantAuthority(
        config=s.stack.config,
        store=s.stack.store,
        signer=load_front_door_keyring(reader(s.moto_url).boto_client(), s.key_secret),
        directory=DIRECTORY,
        client=s.stack.raw_client,
        permissions=lambda call: None,  # type: ignore[arg-type,return-value]
        hook=lambda call: None,  # type: ignore[arg-type,return-value]
        front_doors=FrontDoorKeys(reader(s.moto_url).boto_client, s.key_secret),
    )
    with pytest.raises(ApplicationError) as grant:
        await authority._check_front_door(body.proof, "dave@example.com")
    assert grant.value.type == "GrantRefused" and grant.value.non_retryable
    assert f"key {fingerprint} is not a registered key of dave@example.com" in grant.value.message

    front_door_key = load_front_door_keyring(reader(s.moto_url).boto_client(), s.key_secret)
    genuine = await requests.signed(
        "approve", handle.id, "dave@example.com", None, (front_door_key.key_id, front_door_key.sign)
    )
    assert isinstance(genuine, Decision) and genuine.proof is not None
    await authority._check_front_door(genuine.proof, "dave@example.com")  # accepted
    tampered = genuine.proof.model_copy(update={"max_duration_seconds": 8 * 3600})
    with pytest.raises(ApplicationError) as changed:
        await authority._check_front_door(tampered, "dave@example.com")
    assert "does not verify with the front door's key" in changed.value.message
    await handle.cancel()
