"""Sym's ``slack`` helpers over real HTTP against the Slack emulator, with the bot token read
from Secrets Manager (moto) as the worker reads it."""

from __future__ import annotations

from typing import Any

import pytest
from integration_support import (
    ACCESS_REQUESTS_CHANNEL,
    APPROVERS_CHANNEL,
    SLACK_TEAM,
    RunningSlack,
    config_with,
    integration,
    sdk_call,
    slack_integration,
)
from reducers.exceptions import SlackError, SymException

from jitflow.config.models import JitflowConfig, SecretRef
from jitflow.emulator.slack_state import DEFAULT_BOT_TOKEN, SlackChannel, SlackFault
from jitflow.emulator.slack_state import SlackUser as EmulatedUser
from jitflow.integrations import IntegrationServices
from jitflow.integrations import slack as slack_client
from jitflow.integrations.people import People, no_stored_identity
from jitflow.integrations.slack import SlackClient
from jitflow.slack.client import sync_web_client
from reducers import User, UserIdentity, UserRole, slack, user_ids

ALICE = User.from_email("alice@example.com")
BOB = User.from_email("bob@example.com")
CAROL = User.from_email("carol@example.com")
DAVE = User.from_email("dave@example.com")
NOBODY = User.from_email("nobody@example.com")


@pytest.fixture
def config(tokens: dict[str, SecretRef]) -> JitflowConfig:
    return config_with(None, [slack_integration(tokens["slack"])])


def texts(running: RunningSlack, channel: str) -> list[str]:
    return [m.text for m in running.state.messages if m.channel == channel]


def test_users_in_channel_by_name_id_or_destination_are_jitflow_users(
    config: JitflowConfig, slack_services: IntegrationServices, workspace: RunningSlack
) -> None:
    with sdk_call(config, slack_services, roles={"bob@example.com": "admin"}) as hub:
        members = slack.users_in_channel("#approvers")
        assert members == [ALICE, BOB, CAROL]  # Erin's account is deactivated
        assert members[1].role is UserRole.ADMIN
        assert slack.users_in_channel(slack.channel("#approvers")) == members
        assert slack.users_in_channel(APPROVERS_CHANNEL) == members
        assert slack.users_in_channel("approvers") == members
        assert slack.users_in_channel(slack.channel("#oncall")) == [ALICE]
        # Sym's user_ids() of them resolve back to their emails (the runner's seen set).
        assert {"alice@example.com", "bob@example.com"} <= hub.people.seen
        assert len(user_ids(members)) == 3
    # The channel's id was looked up once; each member's email was read once for the call.
    assert workspace.app.calls["conversations.list"] == 2  # #approvers, then #oncall
    assert workspace.app.calls["users.info"] == 4


def test_channels_the_bot_cannot_see_are_not_found(
    config: JitflowConfig, slack_services: IntegrationServices, workspace: RunningSlack
) -> None:
    with sdk_call(config, slack_services):
        for reference, shown in [
            ("#secret-ops", "#secret-ops"),  # private, the bot is not in it
            ("#old-approvers", "#old-approvers"),  # archived
            ("#nope", "#nope"),
        ]:
            with pytest.raises(SlackError) as missing:
                slack.users_in_channel(reference)
            assert missing.value.error_code == "Slack:CHANNEL_NOT_FOUND"
            assert f"no channel {shown}" in missing.value.message
        with pytest.raises(SlackError) as by_id:
            slack.users_in_channel("G0SECRETOPS")
        assert by_id.value.error_code == "Slack:CHANNEL_NOT_FOUND"
        assert "conversations.members" in by_id.value.message
        with pytest.raises(SlackError, match=r"give slack\.channel"):
            slack.users_in_channel(42)  # type: ignore[arg-type]


def test_members_and_channels_are_read_page_by_page(workspace: RunningSlack) -> None:
    client = SlackClient(
        sync_web_client(DEFAULT_BOT_TOKEN, workspace.api_url),
        SLACK_TEAM,
        People(roles={}, stored=no_stored_identity),
        page_limit=1,
    )
    assert client.users_in_channel(slack.channel("#oncall")) == [ALICE]  # the 3rd channel
    assert workspace.app.calls["conversations.list"] == 3
    assert client.users_in_channel(slack.channel(APPROVERS_CHANNEL)) == [ALICE, BOB, CAROL]
    assert workspace.app.calls["conversations.members"] == 1 + 4
    assert len(client.list_users(active_only=False)) == 5
    assert workspace.app.calls["users.list"] == 5


def test_member_accounts_are_kept_across_calls_but_membership_is_read_each_time(
    config: JitflowConfig, slack_services: IntegrationServices, workspace: RunningSlack
) -> None:
    with sdk_call(config, slack_services):
        assert slack.users_in_channel("#approvers") == [ALICE, BOB, CAROL]
    assert workspace.app.calls["users.info"] == 4  # Alice, Bob, Carol, Erin (deactivated)
    # Another call (another reducer, another request): the accounts are known, so Slack is
    # asked only who is in the channel now, and a newcomer is looked up on their own.
    next(c for c in workspace.state.channels if c.name == "approvers").members.append("U0DAVE")
    with sdk_call(config, slack_services):
        assert slack.users_in_channel("#approvers") == [ALICE, BOB, CAROL, DAVE]
        assert slack.users_in_channel(APPROVERS_CHANNEL) == [ALICE, BOB, CAROL, DAVE]
    assert workspace.app.calls["users.info"] == 5
    assert workspace.app.calls["conversations.members"] == 3
    assert workspace.app.calls["users.list"] == 0


def test_kept_accounts_are_read_again_after_the_ttl(
    workspace: RunningSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    accounts = slack_client.AccountCache(ttl_seconds=600, clock=lambda: now[0])

    def client() -> SlackClient:
        return SlackClient(
            sync_web_client(DEFAULT_BOT_TOKEN, workspace.api_url),
            SLACK_TEAM,
            People(roles={}, stored=no_stored_identity),
            accounts=accounts,
        )

    oncall = slack.channel("#oncall")
    assert client().users_in_channel(oncall) == [ALICE]
    now[0] += 599
    assert client().users_in_channel(oncall) == [ALICE]
    assert workspace.app.calls["users.info"] == 1
    # Alice's account is deactivated: seen once what was kept of it has expired.
    workspace.state.users[0].deleted = True
    now[0] += 1
    assert client().users_in_channel(oncall) == []
    assert workspace.app.calls["users.info"] == 2


def test_a_large_channel_looks_up_a_bounded_number_of_members_per_reading(
    config: JitflowConfig,
    slack_services: IntegrationServices,
    workspace: RunningSlack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(slack_client, "MEMBER_LOOKUP_LIMIT", 2)
    with sdk_call(config, slack_services) as hub:
        # Only Alice and Bob are looked up: the others are left out this time (not approvers:
        # fewer, never more)...
        assert hub.slack().approver_emails(slack.channel("#approvers")) == [
            "alice@example.com",
            "bob@example.com",
        ]
    assert workspace.app.calls["users.info"] == 2
    with sdk_call(config, slack_services) as hub:
        # ...and found by the next reading, Alice and Bob being known by then.
        assert hub.slack().approver_emails(slack.channel("#approvers")) == [
            "alice@example.com",
            "bob@example.com",
            "carol@example.com",
        ]
    assert workspace.app.calls["users.info"] == 4
    assert workspace.app.calls["users.list"] == 0


def test_a_channel_name_must_match_exactly_a_channel_that_is_not_archived(
    workspace: RunningSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A retired #approvers (archived) and a lookalike #Approvers come first in the listing, and
    # Slack is made to list archived channels too: neither stands in for #approvers.
    workspace.state.channels[:0] = [
        SlackChannel(id="C0RETIRED", name="approvers", members=["U0DAVE"], is_archived=True),
        SlackChannel(id="C0LOOKALIKE", name="Approvers", members=["U0DAVE"]),
    ]
    web = sync_web_client(DEFAULT_BOT_TOKEN, workspace.api_url)
    listing = web.conversations_list

    def with_archived(**arguments: Any) -> Any:
        return listing(**{**arguments, "exclude_archived": False})

    monkeypatch.setattr(web, "conversations_list", with_archived)
    client = SlackClient(web, SLACK_TEAM, People(roles={}, stored=no_stored_identity))
    assert client.users_in_channel(slack.channel("#approvers")) == [ALICE, BOB, CAROL]
    assert client.approver_emails(slack.channel("approvers")) == [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
    ]
    with pytest.raises(SlackError) as missing:
        client.users_in_channel(slack.channel("#APPROVERS"))
    assert missing.value.error_code == "Slack:CHANNEL_NOT_FOUND"


def test_guests_outsiders_and_bots_in_a_channel_do_not_approve(
    config: JitflowConfig, slack_services: IntegrationServices, workspace: RunningSlack
) -> None:
    outsiders: dict[str, dict[str, Any]] = {
        "U0GUEST": {"is_restricted": True},
        "U0SINGLE": {"is_ultra_restricted": True},
        "U0STRANGER": {"is_stranger": True},
        "U0PARTNER": {"team_id": "T0PARTNER"},
        "U0ROBOT": {"is_bot": True},
    }
    for user_id, flags in outsiders.items():
        name = user_id[2:].lower()
        workspace.state.users.append(
            EmulatedUser(id=user_id, name=name, email=f"{name}@example.com", **flags)
        )
    approvers = next(c for c in workspace.state.channels if c.name == "approvers")
    approvers.members[1:1] = list(outsiders)
    with sdk_call(config, slack_services) as hub:
        client = hub.slack()
        assert client.approver_emails(slack.channel("#approvers")) == [
            "alice@example.com",
            "bob@example.com",
            "carol@example.com",
        ]
        # Named by their Slack id, they are refused, saying why.
        for user_id, why in [
            ("U0GUEST", "is a guest"),
            ("U0SINGLE", "is a guest"),
            ("U0STRANGER", "belongs to another workspace"),
            ("U0PARTNER", "belongs to another workspace"),
            ("U0ROBOT", "is a bot"),
            ("U0ERIN", "is deactivated"),
        ]:
            with pytest.raises(SlackError) as refused:
                client.approver_emails(slack.user(user_id))
            assert refused.value.error_code == "Slack:NOT_AN_APPROVER"
            assert f"Slack user {user_id} {why}" in refused.value.message
        assert client.approver_emails(slack.user("U0BOB")) == ["bob@example.com"]
        # slack.users_in_channel is Sym's, and answers who is there as Sym does: people with
        # an email, bots and deactivated accounts left out.
        assert [u.email for u in slack.users_in_channel("#approvers")] == [
            "alice@example.com",
            "guest@example.com",
            "single@example.com",
            "stranger@example.com",
            "partner@example.com",
            "bob@example.com",
            "carol@example.com",
        ]


def test_an_enterprise_grid_account_of_the_workspace_approves() -> None:
    """On Enterprise Grid an account's ``team_id`` may be another workspace of the organisation;
    ``enterprise_user.teams`` says which workspaces it belongs to."""
    grid = {
        "profile": {"email": "Gina@Example.com"},
        "team_id": "T0OTHERWS",
        "enterprise_user": {"enterprise_id": "E0ACME", "teams": ["T0OTHERWS", SLACK_TEAM]},
    }
    account = slack_client.SlackAccount.of(grid)
    assert account.email == "gina@example.com"
    assert account.refusal(SLACK_TEAM) is None
    assert account.refusal("T0ELSEWHERE") == "belongs to another workspace"


def test_send_message_posts_to_channels_and_people(
    config: JitflowConfig, slack_services: IntegrationServices, workspace: RunningSlack
) -> None:
    with sdk_call(config, slack_services):
        slack.send_message(slack.channel("#access-requests"), "by name")
        slack.send_message(slack.channel(ACCESS_REQUESTS_CHANNEL), "by id")
        slack.send_message(BOB, "a direct message")
        slack.send_message(slack.user("U0CAROL"), "by Slack id")
        slack.send_message(slack.user("dave@example.com"), "by email")
        slack.send_message(slack.group([ALICE, "bob@example.com"]), "to both")
    assert texts(workspace, ACCESS_REQUESTS_CHANNEL) == ["by name", "by id"]
    conversations = {tuple(c.members): c.id for c in workspace.state.channels if c.is_im}
    assert texts(workspace, conversations[("U0BOB",)]) == ["a direct message"]
    assert texts(workspace, conversations[("U0CAROL",)]) == ["by Slack id"]
    assert texts(workspace, conversations[("U0DAVE",)]) == ["by email"]
    assert texts(workspace, conversations[("U0ALICE", "U0BOB")]) == ["to both"]


def test_send_message_to_someone_slack_does_not_know_is_an_error(
    config: JitflowConfig, slack_services: IntegrationServices, workspace: RunningSlack
) -> None:
    with sdk_call(config, slack_services):
        for destination, shown in [
            (NOBODY, "nobody@example.com"),
            (slack.user("@bob"), "Slack handles cannot be looked up"),
            (slack.group([BOB, NOBODY]), "nobody@example.com"),
        ]:
            with pytest.raises(SlackError) as caught:
                slack.send_message(destination, "hello")
            assert caught.value.error_code == "Slack:USER_NOT_FOUND"
            assert shown in caught.value.message
        with pytest.raises(SlackError) as missing:
            slack.send_message(slack.channel("#nope"), "hello")
        assert missing.value.error_code == "Slack:CHANNEL_NOT_FOUND"
        assert missing.value.message == "Slack refused chat.postMessage: channel_not_found"
    assert workspace.state.messages == []


def test_get_user_info_list_users_and_groups(
    config: JitflowConfig, slack_services: IntegrationServices, workspace: RunningSlack
) -> None:
    with sdk_call(config, slack_services):
        info = slack.get_user_info(ALICE)
        assert (info["id"], info["profile"]["email"]) == ("U0ALICE", "alice@example.com")
        with pytest.raises(SlackError) as unknown:
            slack.get_user_info(NOBODY)
        assert unknown.value.error_code == "Slack:USER_NOT_FOUND"

        active = slack.list_users()
        assert [u["id"] for u in active] == ["U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"]
        assert [u["id"] for u in slack.list_users(active_only=False)][-1] == "U0ERIN"

        assert slack.is_user_in_group(ALICE, group_id="S0SRE") is True
        assert slack.is_user_in_group(BOB, group_id="S0SRE") is False
        assert slack.is_user_in_group(NOBODY, group_id="S0SRE") is False
        for group in ("S0NOPE", "S0GONE"):  # unknown; disabled
            with pytest.raises(SlackError) as missing:
                slack.is_user_in_group(BOB, group_id=group)
            assert missing.value.error_code == "Slack:GROUP_NOT_FOUND"


def test_a_stored_slack_identity_is_used_instead_of_the_email(
    config: JitflowConfig, slack_services: IntegrationServices, workspace: RunningSlack
) -> None:
    mapped = User.from_email(
        "alice.other@example.com",
        identities={
            "slack": [UserIdentity(service="slack", service_id=SLACK_TEAM, user_id="U0ALICE")]
        },
    )
    with sdk_call(config, slack_services):
        assert slack.get_user_info(mapped)["id"] == "U0ALICE"
        assert slack.is_user_in_group(mapped, group_id="S0SRE") is True
        slack.send_message(mapped, "found by identity")
    assert workspace.app.calls["users.lookupByEmail"] == 0
    assert [m.text for m in workspace.state.messages] == ["found by identity"]


def test_no_slack_integration_or_no_bot_token_says_which(
    tokens: dict[str, SecretRef], slack_services: IntegrationServices, workspace: RunningSlack
) -> None:
    bare = config_with(None, [])
    with sdk_call(bare, slack_services), pytest.raises(SlackError) as none:
        slack.users_in_channel("#approvers")
    assert none.value.error_code == "Slack:NOT_CONFIGURED"
    assert "no slack integration is configured for flow 'aptible_access'" in none.value.message
    assert "sym_integration of type slack" in none.value.message

    tokenless = config_with(None, [slack_integration(None)])
    with sdk_call(tokenless, slack_services), pytest.raises(SlackError) as no_token:
        slack.send_message(BOB, "hi")
    assert no_token.value.error_code == "Slack:MISSING_SETTING"
    assert "sym_integration.slack has no bot_token_secret" in no_token.value.message

    misnamed = config_with(
        None,
        [integration("pd", "pagerduty", "acme.pagerduty.com", token=tokens["pagerduty"])],
        environment={"slack": "pd"},
    )
    with sdk_call(misnamed, slack_services), pytest.raises(SlackError) as wrong_type:
        slack.list_users()
    assert wrong_type.value.error_code == "Slack:NOT_CONFIGURED"
    assert "of type pagerduty" in wrong_type.value.message

    two = config_with(
        None, [slack_integration(tokens["slack"]), slack_integration(tokens["slack"], "other")]
    )
    with sdk_call(two, slack_services), pytest.raises(SlackError) as ambiguous:
        slack.list_users()
    assert "several sym_integrations of type slack" in ambiguous.value.message
    assert workspace.app.calls.total() == 0


def test_slack_failures_are_slack_errors_without_the_token(
    tokens: dict[str, SecretRef],
    config: JitflowConfig,
    slack_services: IntegrationServices,
    workspace: RunningSlack,
) -> None:
    revoked = config_with(None, [slack_integration(tokens["slack_revoked"])])
    with sdk_call(revoked, slack_services), pytest.raises(SlackError) as refused:
        slack.send_message(slack.channel("#approvers"), "hi")
    assert refused.value.error_code == "Slack:UNAUTHORIZED"
    assert refused.value.message == "Slack refused chat.postMessage: invalid_auth"

    workspace.state.faults = [SlackFault(kind="error", method="users.list", count=3, status=500)]
    with sdk_call(config, slack_services), pytest.raises(SlackError) as outage:
        slack.list_users()
    assert outage.value.error_code == "Slack:SERVER_ERROR"
    assert "users.list with HTTP 500 (internal_error)" in outage.value.message
    assert workspace.app.calls["users.list"] == 3  # tried, then twice more

    workspace.state.faults = [SlackFault(kind="error", method="users.list", count=1)]
    with sdk_call(config, slack_services):
        assert len(slack.list_users()) == 4  # one 503 is retried away

    workspace.stop()
    with sdk_call(config, slack_services), pytest.raises(SymException) as unreachable:
        slack.get_user_info(BOB)
    assert unreachable.value.error_code == "Slack:UNREACHABLE"
    assert "could not reach Slack for users.lookupByEmail" in unreachable.value.message
    for error in (refused.value, outage.value, unreachable.value):
        assert DEFAULT_BOT_TOKEN not in str(error) and "xoxb-revoked" not in str(error)


def test_send_thread_message_says_why_jitflow_cannot(
    config: JitflowConfig, slack_services: IntegrationServices, workspace: RunningSlack
) -> None:
    with sdk_call(config, slack_services), pytest.raises(SlackError) as caught:
        slack.send_thread_message("in the thread")
    assert caught.value.error_code == "Slack:NOT_SUPPORTED"
    assert "does not tell hooks which Slack message announced the request" in str(caught.value)
    assert workspace.state.messages == []
