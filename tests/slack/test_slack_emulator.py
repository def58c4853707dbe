"""The Slack emulator answers slack_sdk as Slack does: over real HTTP, refusals as ``ok: false``,
rate limits as 429 with ``Retry-After``, and every message recorded; its clicks carry Slack's
signature, checked here with slack_sdk's own verifier."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_support import APPROVALS, RunningSlack, running_slack
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from jitflow.emulator.server import serve_in_thread
from jitflow.emulator.slack_state import SlackFault


@pytest.fixture
def slack() -> Iterator[RunningSlack]:
    with running_slack() as running:
        yield running


def client(slack: RunningSlack, token: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(
        token=token or slack.state.bot_token, base_url=slack.api_url, retry_handlers=[]
    )


async def refusal(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    assert raised.value.response.status_code == 200
    return str(raised.value.response["error"])


async def test_methods_answer_and_messages_are_recorded_with_their_updates(
    slack: RunningSlack,
) -> None:
    web = client(slack)
    assert (await web.auth_test())["team_id"] == slack.state.team_id
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]
    posted = await web.chat_postMessage(channel="#approvals", text="hi", blocks=blocks)
    assert posted["channel"] == APPROVALS
    await web.chat_update(channel=APPROVALS, ts=posted["ts"], text="updated", blocks=[])
    found = await web.users_lookupByEmail(email="bob@example.com")
    info = await web.users_info(user=found["user"]["id"])
    assert info["user"]["profile"]["email"] == "bob@example.com"
    dm = await web.conversations_open(users="U0BOB")
    await web.chat_postMessage(channel=dm["channel"]["id"], text="direct")
    await web.chat_postEphemeral(channel=APPROVALS, user="U0CAROL", text="only carol")

    recorded = slack.admin("GET", "messages")["messages"]
    assert [m["text"] for m in recorded] == ["hi", "direct", "only carol"]
    assert recorded[0]["blocks"] == blocks
    assert [u["text"] for u in recorded[0]["updates"]] == ["updated"]
    assert recorded[2]["ephemeral_to"] == "U0CAROL"
    assert slack.dms("U0BOB") == ["direct"]


async def test_refusals_are_http_200_with_slack_error_codes(slack: RunningSlack) -> None:
    web = client(slack)
    no_token = AsyncWebClient(base_url=slack.api_url, retry_handlers=[])
    assert await refusal(no_token.auth_test()) == "not_authed"
    assert await refusal(client(slack, "xoxb-wrong").auth_test()) == "invalid_auth"
    assert await refusal(web.chat_postMessage(channel="#nowhere", text="x")) == "channel_not_found"
    assert await refusal(web.users_info(user="U0NOBODY")) == "user_not_found"
    assert await refusal(web.users_lookupByEmail(email="x@example.com")) == "users_not_found"
    assert await refusal(web.chat_update(channel=APPROVALS, ts="1.2", text="x")) == (
        "message_not_found"
    )
    assert await refusal(web.conversations_open(users="U0NOBODY")) == "user_not_found"


async def test_rate_limits_outages_and_errors_are_injected(slack: RunningSlack) -> None:
    slack.state.faults = [SlackFault(kind="rate_limit", method="auth.test", retry_after=7)]
    answer = httpx.post(
        f"{slack.api_url}auth.test", headers={"Authorization": f"Bearer {slack.state.bot_token}"}
    )
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"
    assert answer.json() == {"ok": False, "error": "ratelimited"}

    slack.admin("PUT", "faults", {"faults": [{"kind": "error", "status": 502}]})
    with pytest.raises(SlackApiError) as raised:
        await client(slack).auth_test()
    assert raised.value.response.status_code == 502
    assert (await client(slack).auth_test())["ok"]  # the fault was used up

    slack.admin("PUT", "faults", {"down": True})
    with pytest.raises(SlackApiError) as raised:
        await client(slack).auth_test()
    assert raised.value.response.status_code == 503


async def test_a_click_is_posted_to_the_front_door_signed_as_slack_signs(
    slack: RunningSlack,
) -> None:
    received: list[tuple[bytes, dict[str, str]]] = []
    verifier = SignatureVerifier(slack.state.signing_secret)

    async def front_door(request: Request) -> PlainTextResponse:
        body = await request.body()
        received.append((body, dict(request.headers)))
        valid = verifier.is_valid_request(body, dict(request.headers))
        return PlainTextResponse("valid" if valid else "invalid", status_code=200 if valid else 401)

    url, server, thread = serve_in_thread(
        Starlette(routes=[Route("/i", front_door, methods=["POST"])]), "front-door"
    )
    try:
        slack.admin("PUT", "front_door", {"url": f"{url}/i"})
        button = {
            "type": "button",
            "action_id": "jitflow_approve",
            "text": {"type": "plain_text", "text": "Approve"},
            "value": '{"w":"req-1","r":"run-1"}',
        }
        web = client(slack)
        posted = await web.chat_postMessage(
            channel=APPROVALS,
            text="request",
            blocks=[{"type": "actions", "block_id": "b", "elements": [button]}],
        )
        assert slack.click(posted["ts"], "approve", "bob@example.com") == {
            "status": 200,
            "body": "valid",
        }
        body, headers = received[-1]
        assert body.startswith(b"payload=")
        assert headers["content-type"] == "application/x-www-form-urlencoded"
        assert headers["x-slack-signature"].startswith("v0=")

        wrong = slack.click(posted["ts"], "Approve", "U0BOB", signing_secret="not-the-secret")
        late = slack.click(posted["ts"], "jitflow_approve", "U0BOB", timestamp_offset=-600)
        assert wrong["status"] == late["status"] == 401
        missing = httpx.post(
            f"{slack.url}/_emulator/click",
            json={"channel": APPROVALS, "ts": posted["ts"], "action": "deny", "user": "U0BOB"},
        )
        assert missing.status_code == 404
        assert "no button 'deny'" in missing.json()["error"]
    finally:
        server.should_exit = True
        thread.join(timeout=5)
