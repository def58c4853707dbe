"""The Slack emulator's directory methods answer as Slack documents them, over real HTTP:
``conversations.list``, ``conversations.members``, ``users.list`` and ``usergroups.users.list``,
paged through ``response_metadata.next_cursor``, refusing with Slack's error codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_support import APPROVALS, PEOPLE, RunningSlack, running_slack, workspace

from jitflow.emulator.slack_state import BOT_USER_ID, SlackChannel, SlackUsergroup


@pytest.fixture
def slack() -> Iterator[RunningSlack]:
    state = workspace()
    state.users[-1].deleted = True  # zed left
    state.channels += [
        SlackChannel(id="C0RANDOM", name="random", members=["U0ALICE"]),
        SlackChannel(
            id="G0PRIVATE", name="private", members=["U0BOB", BOT_USER_ID], is_private=True
        ),
        SlackChannel(id="G0HIDDEN", name="hidden", members=["U0CAROL"], is_private=True),
        SlackChannel(id="C0ARCHIVED", name="archived", is_archived=True),
    ]
    state.usergroups = [
        SlackUsergroup(id="S0SRE", handle="sre", users=["U0ALICE", "U0BOB"]),
        SlackUsergroup(id="S0OFF", handle="off", users=["U0DAVE"], disabled=True),
    ]
    with running_slack(state) as running:
        yield running


def web(slack: RunningSlack, token: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(
        token=token or slack.state.bot_token, base_url=slack.api_url, retry_handlers=[]
    )


def raw(slack: RunningSlack, method: str, **params: Any) -> dict[str, Any]:
    """A plain GET, as Slack's docs show these methods, for the exact body."""
    response = httpx.get(
        f"{slack.api_url}{method}",
        params=params,
        headers={"Authorization": f"Bearer {slack.state.bot_token}"},
        timeout=10,
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def refusal(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    assert raised.value.response.status_code == 200
    return str(raised.value.response["error"])


async def test_conversations_list_shows_what_the_bot_can_see(slack: RunningSlack) -> None:
    client = web(slack)
    public = await client.conversations_list()
    assert [c["name"] for c in public["channels"]] == ["approvals", "random", "archived"]
    assert public["response_metadata"] == {"next_cursor": ""}
    both = await client.conversations_list(
        types="public_channel,private_channel", exclude_archived=True
    )
    # A private channel only when the bot is in it, as in Slack; archived ones left out.
    assert [c["id"] for c in both["channels"]] == [APPROVALS, "C0RANDOM", "G0PRIVATE"]
    private = both["channels"][2]
    assert (private["is_private"], private["is_member"], private["num_members"]) == (True, True, 2)
    assert await refusal(client.conversations_list(types="public_channel,dm")) == "invalid_types"


async def test_lists_are_paged_by_cursor_until_it_is_empty(slack: RunningSlack) -> None:
    client = web(slack)
    names: list[str] = []
    cursor = None
    for _ in range(10):
        page = await client.conversations_list(limit=1, cursor=cursor)
        names += [c["name"] for c in page["channels"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert names == ["approvals", "random", "archived"]

    first = raw(slack, "conversations.members", channel=APPROVALS, limit=2)
    assert first["ok"] is True and first["members"] == ["U0ALICE", "U0BOB"]
    second = raw(
        slack,
        "conversations.members",
        channel=APPROVALS,
        limit=2,
        cursor=first["response_metadata"]["next_cursor"],
    )
    assert second["members"] == ["U0CAROL", "U0DAVE"]
    last = raw(
        slack,
        "conversations.members",
        channel=APPROVALS,
        limit=2,
        cursor=second["response_metadata"]["next_cursor"],
    )
    assert last["members"] == ["U0ZED"] and last["response_metadata"]["next_cursor"] == ""
    assert raw(slack, "conversations.members", channel=APPROVALS, cursor="nope!")["error"] == (
        "invalid_cursor"
    )
    assert raw(slack, "conversations.list", limit=5000)["error"] == "invalid_limit"


async def test_conversations_members_refuses_channels_the_bot_cannot_see(
    slack: RunningSlack,
) -> None:
    client = web(slack)
    assert (await client.conversations_members(channel="G0PRIVATE"))["members"] == [
        "U0BOB",
        BOT_USER_ID,
    ]
    for channel in ("G0HIDDEN", "C0NOWHERE"):
        assert await refusal(client.conversations_members(channel=channel)) == ("channel_not_found")
    assert await refusal(web(slack, "xoxb-wrong").conversations_members(channel=APPROVALS)) == (
        "invalid_auth"
    )
    no_token = AsyncWebClient(base_url=slack.api_url, retry_handlers=[])
    assert await refusal(no_token.users_list()) == "not_authed"


async def test_users_list_and_user_groups(slack: RunningSlack) -> None:
    client = web(slack)
    everyone = await client.users_list()
    assert [u["id"] for u in everyone["members"]] == list(PEOPLE)  # no limit: all at once
    assert everyone["members"][-1]["deleted"] is True
    assert everyone["members"][0]["profile"]["email"] == "alice@example.com"
    paged = await client.users_list(limit=3)
    assert len(paged["members"]) == 3 and paged["response_metadata"]["next_cursor"]

    assert (await client.usergroups_users_list(usergroup="S0SRE"))["users"] == [
        "U0ALICE",
        "U0BOB",
    ]
    assert await refusal(client.usergroups_users_list(usergroup="S0NONE")) == "no_such_subteam"
    assert await refusal(client.usergroups_users_list(usergroup="S0OFF")) == "no_such_subteam"
    disabled = await client.usergroups_users_list(usergroup="S0OFF", include_disabled=True)
    assert disabled["users"] == ["U0DAVE"]
    assert slack.app.calls["usergroups.users.list"] == 4
