"""``/jitflow`` over real HTTP: the Slack emulator plays the command and the form's submission,
signed with the workspace's signing secret; the front door opens the modal (``views.open``) with
the flow's targets, durations and prompt fields, and starts the request as the Slack user.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from access_stack import wait_for
from test_slack_front_door import SlackStack, slack_stack

from jitflow.slack.request_modal import DURATION_BLOCK, FIELD_BLOCK_PREFIX, TARGET_BLOCK

pytestmark = pytest.mark.asyncio(loop_scope="session")
__all__ = ["slack_stack"]  # the fixture, shared with the click tests

REASON = FIELD_BLOCK_PREFIX + "reason"


async def command(s: SlackStack, user: str, text: str = "", **options: Any) -> dict[str, Any]:
    body = {"user": user, "text": text, "channel": "C0APPROVALS", **options}
    answer: dict[str, Any] = await asyncio.to_thread(s.slack.admin, "POST", "command", body)
    return answer


async def submit(s: SlackStack, view_id: str, user: str, **values: str) -> dict[str, Any]:
    body = {"view_id": view_id, "user": user, "values": values}
    answer: dict[str, Any] = await asyncio.to_thread(s.slack.admin, "POST", "submit", body)
    return answer


def options(view: dict[str, Any], block_id: str) -> list[str]:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return [o["text"]["text"] for o in block["element"]["options"]]


async def test_the_command_opens_the_flows_form_and_its_submission_starts_the_request(
    slack_stack: SlackStack,
) -> None:
    s = slack_stack
    s.slack.state.commands_url = s.slack.state.front_door_url.replace(  # type: ignore[union-attr]
        "/slack/interactions", "/slack/commands"
    )
    opened = len(s.slack.state.views)
    assert await command(s, "U0ALICE", "aptible_access") == {"status": 200, "body": ""}
    (view,) = s.slack.state.views[opened:]
    assert view["title"]["text"] == "Request access"
    assert "Admin Role" in options(view, TARGET_BLOCK)
    assert options(view, DURATION_BLOCK) == ["30s", "10m", "1h", "8h", "1d"]
    reason = next(b for b in view["blocks"] if b.get("block_id") == REASON)
    assert reason["optional"] is False and reason["element"]["multiline"] is True

    # A required field left empty: Slack's errors at that block, nothing started.
    missing = await submit(s, view["id"], "U0ALICE", **{TARGET_BLOCK: "Admin Role"})
    assert missing["status"] == 200
    assert '"response_action":"errors"' in missing["body"] and REASON in missing["body"]
    assert not any("You requested" in text for text in s.slack.dms("U0ALICE"))

    answer = await submit(
        s,
        view["id"],
        "U0ALICE",
        **{TARGET_BLOCK: "Admin Role", DURATION_BLOCK: "10m", REASON: "investigate incident 42"},
    )
    assert answer == {"status": 200, "body": ""}  # the modal closes
    await s.front_door.settle()  # the requester is told after Slack has its answer
    told = next(text for text in s.slack.dms("U0ALICE") if "You requested" in text)
    assert told.startswith("You requested *Admin Role* for 10m: request `access-")
    workflow_id = re.search(r"`(access-[0-9a-f-]+)`", told).group(1)  # type: ignore[union-attr]
    handle = s.stack.raw_client.get_workflow_handle(workflow_id)
    state = await wait_for(handle, lambda st: st.ready_for_decision)  # type: ignore[arg-type]
    assert state.resolved is not None
    assert state.resolved.requester == "alice@example.com"  # who Slack says submitted
    assert state.resolved.flow_name == "aptible_access"
    assert state.resolved.target.name == "main-aptible-admin-role"
    assert state.resolved.duration_seconds == 600
    assert state.input.reason == "investigate incident 42"
    assert state.status == "pending"
    await handle.cancel()


async def test_unsigned_unknown_people_and_unnamed_flows_get_a_reason_and_no_form(
    slack_stack: SlackStack,
) -> None:
    s = slack_stack
    s.slack.state.commands_url = s.slack.state.front_door_url.replace(  # type: ignore[union-attr]
        "/slack/interactions", "/slack/commands"
    )
    opened = len(s.slack.state.views)
    forged = await command(s, "U0ALICE", "plain", signing_secret="guessed")
    assert forged["status"] == 401 and forged["body"].startswith("bad signature")
    stranger = await command(s, "U0ZED", "plain")
    assert stranger["body"].startswith("zed@example.com is not a jitflow user")
    which = await command(s, "U0ALICE")
    assert which["body"].startswith("Which flow? `/jitflow <flow>`, one of: ")
    assert "aptible_access" in which["body"] and "plain" in which["body"]
    nothing = await command(s, "U0ALICE", "nope")
    assert nothing["body"].startswith("There is no flow 'nope'")
    assert len(s.slack.state.views) == opened

    # A form opened by one person and submitted by someone jitflow does not know starts nothing.
    await command(s, "U0BOB", "plain")
    view = s.slack.state.views[-1]
    refused = await submit(
        s, view["id"], "U0ZED", **{TARGET_BLOCK: "developers", DURATION_BLOCK: "1h"}
    )
    assert "is not a jitflow user" in refused["body"]
