"""The delivery activities against the Slack emulator over real HTTP, with the bot token read
from Secrets Manager (moto): where a request goes, its buttons, updates in place, the requester's
direct messages, and Slack being down or the token wrong (an outcome says so, nothing raises)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_support import (
    APPROVALS,
    RunningSlack,
    reader,
    running_slack,
    store_slack_secrets,
    with_slack,
)

from activities.notifications import NotificationActivities
from jitflow.config.loader import load_config
from jitflow.config.models import JitflowConfig
from jitflow.contracts.notifications import (
    NotifyRequesterCall,
    PostRequestCall,
    RequestCard,
    UpdateRequestCall,
)
from jitflow.slack.messages import parse_button_value

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aptible"


@pytest.fixture
def slack(moto_url: str) -> Iterator[RunningSlack]:
    with running_slack() as running:
        store_slack_secrets(moto_url, running.state)
        yield running


@pytest.fixture(scope="module")
def example() -> JitflowConfig:
    return load_config(EXAMPLE)


def activities(
    config: JitflowConfig, slack: RunningSlack, moto_url: str, **settings: str
) -> NotificationActivities:
    return NotificationActivities(with_slack(config, **settings), reader(moto_url), slack.api_url)


def card(**changes: object) -> RequestCard:
    base = RequestCard(
        workflow_id="req-42",
        run_id="run-42",
        flow="this",
        flow_label="Aptible access",
        requester="alice@example.com",
        target="Admin Role",
        duration_seconds=600,
        reason="investigate <incident> 42",
        approvers="bob@example.com, admins",
    )
    return base.model_copy(update=changes)


def channel_record(name: str) -> dict[str, object]:
    return {
        "source": "get_request_notifications",
        "timeout": None,
        "destinations": [{"kind": "SlackChannelName", "channel_name": name}],
    }


async def test_a_request_is_posted_with_buttons_naming_its_run_then_updated_in_place(
    slack: RunningSlack, moto_url: str, example: JitflowConfig
) -> None:
    notify = activities(example, slack, moto_url)
    outcome = await notify.post_request(
        PostRequestCall(card=card(), notifications=[channel_record("#approvals")])
    )
    assert outcome.delivered and not outcome.failures
    [message] = slack.state.messages
    assert message.channel == APPROVALS == outcome.messages[0].channel
    assert outcome.timeline_message("slack: request posted") == (
        "slack: request posted: delivered to #approvals"
    )
    actions = next(b for b in message.blocks if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == ["jitflow_approve", "jitflow_deny"]
    target = parse_button_value(actions[0]["value"])
    assert target is not None and (target.workflow_id, target.run_id) == ("req-42", "run-42")
    assert "&lt;incident&gt;" in json.dumps(message.blocks)  # a reason cannot inject mrkdwn

    ends = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    granted = card(status="escalated", decided_by="bob@example.com", expires_at=ends)
    updated = await notify.update_request(
        UpdateRequestCall(card=granted, messages=outcome.messages)
    )
    assert updated.delivered
    shown = message.current()
    assert not [b for b in shown.blocks if b["type"] == "actions"]  # no buttons once decided
    status = json.dumps(shown.blocks)
    assert "approved by bob@example.com" in status and "2030-01-01 12:00:00 UTC" in status


async def test_get_approvers_people_get_the_request_and_the_requester_gets_direct_messages(
    slack: RunningSlack, moto_url: str, example: JitflowConfig
) -> None:
    notify = activities(example, slack, moto_url)
    legacy = {
        "source": "get_approvers",
        "fallback": False,
        "destinations": [
            {"kind": "SlackUser", "email": "bob@example.com"},
            {
                "kind": "SlackUserGroup",
                "users": [{"user_id": "U0CAROL"}, {"email": "dave@example.com"}],
            },
        ],
    }
    outcome = await notify.post_request(PostRequestCall(card=card(), notifications=[legacy]))
    assert outcome.delivered, outcome
    assert [m.destination for m in outcome.messages] == [
        "bob@example.com",
        "group U0CAROL, dave@example.com",
    ]
    assert len(slack.dms("U0BOB")) == 1

    ends = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    for notice in ("granted", "ending", "removed"):
        told = await notify.notify_requester(
            NotifyRequesterCall(
                card=card(expires_at=ends, decided_by="bob@example.com"), notice=notice
            )
        )
        assert told.delivered
    granted, ending, removed = slack.dms("U0ALICE")
    assert "You now have *Admin Role* until 2030-01-01 12:00:00 UTC" in granted
    assert "ends at 2030-01-01 12:00:00 UTC" in ending
    assert "was removed" in removed


async def test_a_failing_destination_falls_back_and_the_flow_default_channel_is_used(
    slack: RunningSlack, moto_url: str, example: JitflowConfig
) -> None:
    notify = activities(example, slack, moto_url, request_channel="#approvals")
    chain = [channel_record("#gone"), channel_record("#approvals")]
    outcome = await notify.post_request(PostRequestCall(card=card(), notifications=chain))
    assert [m.destination for m in outcome.messages] == ["#approvals"]
    assert outcome.failures == ("#gone: Slack refused: channel_not_found",)
    assert not outcome.delivered

    default = await notify.post_request(PostRequestCall(card=card(), notifications=[]))
    assert default.delivered and default.messages[0].channel == APPROVALS


async def test_slack_down_or_a_wrong_token_is_an_outcome_never_an_exception(
    slack: RunningSlack, moto_url: str, example: JitflowConfig
) -> None:
    notify = activities(example, slack, moto_url)
    call = PostRequestCall(card=card(), notifications=[channel_record("#approvals")])
    slack.state.down = True
    outcome = await notify.post_request(call)
    assert not outcome.delivered and not outcome.messages
    assert outcome.failures == ("#approvals: Slack answered HTTP 503 (service_unavailable)",)
    told = await notify.notify_requester(NotifyRequesterCall(card=card(), notice="granted"))
    assert not told.delivered and "HTTP 503" in told.failures[0]
    assert slack.app.calls["chat.postMessage"] == 3  # one call, two bounded retries

    slack.state.down = False
    slack.state.bot_token = "xoxb-rotated-elsewhere"
    refused = await notify.post_request(call)
    assert refused.failures == ("#approvals: Slack refused: invalid_auth",)
    assert "xoxb" not in refused.model_dump_json()


async def test_a_missing_token_secret_or_no_slack_integration_says_so(
    slack: RunningSlack, moto_url: str, example: JitflowConfig
) -> None:
    broken = with_slack(example)
    ref = broken.sym_integrations["slack"].secrets["bot_token_secret"]
    missing = ref.model_copy(update={"path": "jitflow-test/no-such-secret"})
    integration = broken.sym_integrations["slack"].model_copy(
        update={"secrets": {"bot_token_secret": missing}}
    )
    config = broken.model_copy(
        update={"sym_integrations": {**broken.sym_integrations, "slack": integration}}
    )
    notify = NotificationActivities(config, reader(moto_url), slack.api_url)
    outcome = await notify.post_request(
        PostRequestCall(card=card(), notifications=[channel_record("#approvals")])
    )
    assert not outcome.delivered
    assert outcome.failures == (
        "could not read the Slack bot token from secret 'jitflow-test/no-such-secret': "
        "SecretNotFound",
    )

    without = NotificationActivities(example, reader(moto_url), slack.api_url)
    nothing = await without.post_request(PostRequestCall(card=card()))
    assert nothing.delivered and nothing.note == "no slack integration is configured"
    assert not slack.state.messages
