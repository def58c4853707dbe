"""The reducer activities: hooks and permissions reduced to the data the workflow records."""

from __future__ import annotations

from pathlib import Path

import pytest
from reducer_test_support import (
    REQUESTER,
    event,
    file_implementation,
    make_config,
    user,
    write_module,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.reducers import (
    REDUCER_CONFIGURATION_ERROR,
    REDUCER_ERROR,
    ReducerActivities,
    hook_options,
)
from jitflow.contracts.events import EventData, HookCall, HookOutcome, Permissions, PermissionsCall
from jitflow.contracts.identity import IdentityReducerCall
from jitflow.reducer_runtime.outcomes import approvers_from_destinations
from jitflow.sdk.request_destination import SlackUser, SlackUserGroup

ROLES = {"Admin@Example.com": "admin", "bob@example.com": "member", "gus@example.com": "guest"}


def activities_for(tmp_path: Path, source: str | None, **vars: str) -> ReducerActivities:
    implementation = file_implementation(write_module(tmp_path, source)) if source else None
    return ReducerActivities(make_config(implementation, vars=vars), lambda: dict(ROLES))


def run_hook(acts: ReducerActivities, hook: str, data: EventData) -> HookOutcome:
    result: HookOutcome = ActivityEnvironment().run(
        acts.run_hook, HookCall(flow="this", hook=hook, event=data)
    )
    return result


def permissions(acts: ReducerActivities, data: EventData | None = None) -> Permissions:
    result: Permissions = ActivityEnvironment().run(
        acts.get_permissions, PermissionsCall(flow="this", event=data or event())
    )
    return result


def failure(call: object) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.non_retryable
    return caught.value


def test_without_implementation_admins_decide_and_hooks_do_nothing(tmp_path: Path) -> None:
    acts = activities_for(tmp_path, None)
    assert run_hook(acts, "on_request", event()) == HookOutcome(called=False)
    assert permissions(acts) == Permissions(
        source="default",
        levels=("admin",),
        webapp_view_levels=("admin",),
        # Members are the default: only the other roles are recorded in the request's history.
        user_roles={"admin@example.com": "admin", "gus@example.com": "guest"},
    )
    assert permissions(acts).role_of("bob@example.com") == "member"


def test_missing_hook_is_not_called(tmp_path: Path) -> None:
    acts = activities_for(tmp_path, "def on_approve(event):\n    return None\n")
    assert run_hook(acts, "on_request", event()) == HookOutcome(called=False)
    assert run_hook(acts, "on_approve", event("approve", by="bob@example.com")) == HookOutcome(
        called=True
    )


def test_on_request_may_approve_with_fields_and_duration(tmp_path: Path) -> None:
    acts = activities_for(
        tmp_path,
        """
        from reducers import ApprovalTemplate, hook

        @hook
        def on_request(event):
            if event.payload.fields["reason"].startswith("deploy"):
                return ApprovalTemplate.approve(reason="auto", duration=300, by=event.user)
        """,
    )
    outcome = run_hook(acts, "on_request", event())
    assert outcome.called and outcome.action == "approve" and outcome.duration == 300
    assert outcome.fields["reason"] == "auto"
    assert outcome.fields["by"]["email"] == REQUESTER
    assert outcome.returned is not None and outcome.returned.startswith("ApprovalTemplate.approve(")


def test_on_approve_may_ignore_with_a_message(tmp_path: Path) -> None:
    acts = activities_for(
        tmp_path,
        """
        from reducers.annotations import hook
        from reducers.templates import ApprovalTemplate

        @hook
        def on_approve(event):
            approvers = event.flow.vars["approvers"].split(",")
            if event.user.username not in approvers:
                return ApprovalTemplate.ignore(message="You are not authorized to approve.")
        """,
        approvers="bob@example.com",
    )
    ignored = run_hook(acts, "on_approve", event("approve", by="eve@example.com"))
    assert (ignored.action, ignored.message) == ("ignore", "You are not authorized to approve.")
    assert run_hook(acts, "on_approve", event("approve", by="bob@example.com")).action is None


@pytest.mark.parametrize(
    ("hook", "returned", "message"),
    [
        ("on_escalate", "ApprovalTemplate.deny()", "on_escalate may return deescalate, escalate"),
        ("on_escalate", "ApprovalTemplate.ignore()", "escalate cannot be ignored"),
        ("on_deny", "ApprovalTemplate.approve()", "on_deny may return deny or ignore"),
        ("on_request", "ApprovalTemplate.prompt()", "on_request may return approve, deny, request"),
        ("on_request", "'yes'", "returned yes; an on_* hook returns None or an event request"),
    ],
)
def test_hooks_only_move_forward(tmp_path: Path, hook: str, returned: str, message: str) -> None:
    acts = activities_for(
        tmp_path,
        f"from reducers import ApprovalTemplate\n\ndef {hook}(event):\n    return {returned}\n",
    )
    data = event(hook.removeprefix("on_"))
    error = failure(lambda: run_hook(acts, hook, data))
    assert error.type == REDUCER_ERROR
    assert error.message.startswith(f"{hook} ({tmp_path / 'impl.py'}:3): ")
    assert message in error.message


def test_a_hook_returning_its_own_event_is_processed_once(tmp_path: Path) -> None:
    acts = activities_for(
        tmp_path,
        "from reducers import ApprovalTemplate\n\n"
        "def on_request(event):\n    return ApprovalTemplate.request(reason='again')\n",
    )
    assert run_hook(acts, "on_request", event()).action == "request"
    error = failure(lambda: run_hook(acts, "on_request", event(channel_type="sdk")))
    assert "a hook's own event is processed once" in str(error)


def test_target_of_an_event_request_must_be_the_requests(tmp_path: Path) -> None:
    acts = activities_for(
        tmp_path,
        "from reducers import ApprovalTemplate\n\ndef on_request(event):\n"
        "    return ApprovalTemplate.approve(target_srn=event.payload.fields['target'].srn)\n"
        "def on_approve(event):\n"
        "    other = 'x:access_target:aptible_role:other:latest'\n"
        "    return ApprovalTemplate.approve(target_srn=other)\n",
    )
    assert run_hook(acts, "on_request", event()).action == "approve"
    error = failure(lambda: run_hook(acts, "on_approve", event("approve")))
    assert "this request is for 'main-aptible-admin-role'" in str(error)


def test_a_hook_that_raises_fails_non_retryably_naming_function_and_message(tmp_path: Path) -> None:
    acts = activities_for(
        tmp_path,
        """
        from reducers import slack

        def after_escalate(event):
            slack.send_message(slack.channel("#ops"), "granted")
        """,
    )
    error = failure(lambda: run_hook(acts, "after_escalate", event("escalate")))
    assert error.message == (
        f"after_escalate ({tmp_path / 'impl.py'}:4): raised SlackError (Slack:NOT_CONFIGURED): "
        "no slack integration is configured for flow 'aptible_access': declare a "
        "sym_integration of type slack (and slack_id = sym_integration.<name>.id in the flow's "
        "sym_environment)"
    )
    assert error.type == REDUCER_ERROR


def test_after_hooks_are_recorded_with_step_outputs(tmp_path: Path) -> None:
    acts = activities_for(
        tmp_path,
        """
        from reducers.templates import ApprovalTemplate, get_step_output

        def after_escalate(event):
            return "membership " + get_step_output()["membership_id"]

        def after_deny(event):
            return ApprovalTemplate.approve()
        """,
    )
    data = event("escalate", step_outputs={"escalate": {"membership_id": "m-9"}})
    assert run_hook(acts, "after_escalate", data) == HookOutcome(
        called=True, message="membership m-9", returned="membership m-9"
    )
    ignored = run_hook(acts, "after_deny", event("deny"))
    assert ignored.action is None and ignored.returned == "ApprovalTemplate.approve()"


def test_bad_calls_are_refused_clearly(tmp_path: Path) -> None:
    acts = activities_for(tmp_path, None)
    assert "'on_requst' is not a hook jitflow runs" in str(
        failure(lambda: run_hook(acts, "on_requst", event()))
    )
    assert "hook on_approve was given a 'request' event" in str(
        failure(lambda: run_hook(acts, "on_approve", event()))
    )
    other_flow = event().model_copy(update={"flow": "nope"})
    assert "a call for flow 'this' was given an event of flow 'nope'" in str(
        failure(lambda: run_hook(acts, "on_request", other_flow))
    )
    call = HookCall(flow="nope", hook="on_request", event=other_flow)
    assert "no flow 'nope' in the configuration (flows: this)" in str(
        failure(lambda: ActivityEnvironment().run(acts.run_hook, call))
    )


def test_a_module_broken_since_load_fails_as_configuration(tmp_path: Path) -> None:
    acts = activities_for(tmp_path, "def on_request(event):\n    return None\n")
    assert run_hook(acts, "on_request", event()).called
    (tmp_path / "impl.py").write_text("def on_request(event:\n")
    error = failure(lambda: run_hook(acts, "on_request", event()))
    assert error.type == REDUCER_CONFIGURATION_ERROR
    assert f"{tmp_path / 'impl.py'}:1: syntax error" in str(error)


def test_get_permissions_resolves_emails_users_and_ids(tmp_path: Path) -> None:
    acts = activities_for(
        tmp_path,
        """
        from reducers import PermissionLevel, RequestPermission, reducer, sym, user_ids

        @reducer
        def get_permissions(event):
            admin = sym.get_or_create_user_by_email("admin@example.com")
            return RequestPermission(
                webapp_view=PermissionLevel.MEMBER,
                approve_deny=["Bob@example.com", *user_ids([admin]), event.get_actor("request")],
                allow_self_approval=True,
            )
        """,
    )
    result = permissions(acts)
    assert result.source == "get_permissions"
    assert result.approvers == ("bob@example.com", "admin@example.com", REQUESTER)
    assert (result.levels, result.webapp_view_levels) == ((), ("member",))
    assert result.allow_self_approval
    assert result.role_of("ADMIN@example.com") == "admin"


def test_get_permissions_with_an_unknown_user_id_names_it(tmp_path: Path) -> None:
    acts = activities_for(
        tmp_path,
        "import uuid\nfrom reducers import RequestPermission\n\ndef get_permissions(event):\n"
        "    return RequestPermission(webapp_view='admin', approve_deny=[uuid.UUID(int=5)])\n",
    )
    error = failure(lambda: permissions(acts))
    assert "approve_deny holds the user id 00000000-0000-0000-0000-000000000005" in str(error)


def test_get_permissions_returning_none_means_admins_only(tmp_path: Path) -> None:
    acts = activities_for(tmp_path, "def get_permissions(event):\n    return None\n")
    result = permissions(acts)
    assert (result.source, result.levels, result.approvers) == ("get_permissions", ("admin",), ())
    bad = activities_for(tmp_path, "def get_permissions(event):\n    return ['bob@example.com']\n")
    assert "get_permissions returns RequestPermission(" in str(failure(lambda: permissions(bad)))


def test_legacy_get_approvers_turns_emails_into_approvers(tmp_path: Path) -> None:
    acts = activities_for(
        tmp_path,
        """
        from reducers.annotations import reducer
        from reducers.integrations import slack

        @reducer
        def get_approvers(event):
            return [
                slack.channel("#sym-requests"),
                slack.group(["bob@example.com", "U123"], allow_self=True),
                slack.user("Carol@example.com"),
                "dave@example.com",
            ]
        """,
    )
    result = permissions(acts)
    assert result.source == "get_approvers"
    # A list goes to every destination: all their people approve (without Slack, a channel
    # and a Slack id name nobody).
    assert result.approvers == ("bob@example.com", "carol@example.com", "dave@example.com")
    assert not result.allow_self_approval and result.levels == ()
    [record] = result.notifications
    assert record["source"] == "get_approvers" and record["fallback"] is False
    assert record["destinations"][0] == {
        "kind": "SlackChannelName",
        "allow_self": False,
        "timeout": None,
        "channel_name": "#sym-requests",
    }


def test_legacy_fallback_approvers_are_the_first_destination_that_reaches_someone(
    tmp_path: Path,
) -> None:
    acts = activities_for(
        tmp_path,
        """
        from reducers.annotations import reducer
        from reducers.integrations import slack

        @reducer
        def get_approvers(event):
            return slack.fallback(
                slack.channel("#sym-requests"),
                slack.group(["bob@example.com", "U123"]),
                slack.user("carol@example.com"),
            )
        """,
    )
    result = permissions(acts)
    # Without Slack the channel reaches nobody jitflow can name: the group is where the
    # request goes, so Bob approves and Carol (a later fallback) does not.
    assert result.approvers == ("bob@example.com",)
    assert not result.allow_self_approval
    [record] = result.notifications
    assert record["fallback"] is True and record["approvers_from"] == 1
    assert record["skipped"] == [{"index": 0, "why": "reaches nobody jitflow can name"}]
    assert len(record["destinations"]) == 3  # all still recorded, for delivery


@pytest.mark.parametrize(
    ("returned", "allowed"),
    [
        # The flag of the destination that reaches the requester is what counts...
        ('[slack.user("alice@example.com", allow_self=True), "bob@example.com"]', True),
        ('[slack.user("lead@example.com", allow_self=True), "alice@example.com"]', False),
        (
            '[slack.user("lead@example.com", allow_self=True), slack.user("alice@example.com")]',
            False,
        ),
        ('slack.group(["alice@example.com", "bob@example.com"], allow_self=True)', True),
        ('slack.group(["bob@example.com", "lead@example.com"], allow_self=True)', False),
        # ...and in a fallback, only the destination the approvers come from.
        (
            'slack.fallback(slack.user("bob@example.com"), '
            'slack.user("alice@example.com", allow_self=True))',
            False,
        ),
        (
            'slack.fallback(slack.channel("#nobody-without-slack", allow_self=True), '
            'slack.user("Alice@Example.com", allow_self=True))',
            True,
        ),
    ],
)
def test_self_approval_needs_the_requester_reached_by_a_destination_that_allows_it(
    tmp_path: Path, returned: str, allowed: bool
) -> None:
    source = (
        "from reducers.annotations import reducer\n"
        "from reducers.integrations import slack\n\n"
        f"@reducer\ndef get_approvers(event):\n    return {returned}\n"
    )
    result = permissions(activities_for(tmp_path, source))
    assert result.allow_self_approval is allowed


def test_a_groups_allow_self_wins_over_its_members() -> None:
    alice = SlackUser(email=REQUESTER, allow_self=True)
    for group, allowed in [
        (SlackUserGroup(users=[alice]), False),
        (SlackUserGroup(users=[SlackUser(email=REQUESTER)], allow_self=True), True),
    ]:
        _, allow_self, _ = approvers_from_destinations(group, requester=REQUESTER)
        assert allow_self is allowed


def test_request_notifications_are_called_and_recorded(tmp_path: Path) -> None:
    acts = activities_for(
        tmp_path,
        """
        from reducers import Notification, reducer, slack

        @reducer
        def get_request_notifications(event):
            return [
                Notification(destinations=[slack.channel("#sym-requests")], timeout=600),
                Notification(destinations=[event.get_actor("request")]),
            ]
        """,
    )
    result = permissions(acts)
    assert result.source == "default"
    assert [n["timeout"] for n in result.notifications] == [600, None]
    assert result.notifications[1]["destinations"] == [{"kind": "User", "email": REQUESTER}]


def test_unknown_roles_from_the_store_are_named(tmp_path: Path) -> None:
    acts = ReducerActivities(make_config(None), lambda: {"bob@example.com": "owner"})
    error = failure(lambda: permissions(acts))
    assert "the user store gives 'bob@example.com' the role 'owner'" in str(error)


def test_get_identity_runs_with_the_requester(tmp_path: Path) -> None:
    acts = activities_for(
        tmp_path,
        """
        def get_identity(event, service_type, external_id, user):
            found = user.identity("okta")
            if service_type == "aptible" and found:
                return found.user_id
            return None
        """,
    )
    data = event().model_copy(update={"requester": user(REQUESTER, **{"okta:dev": "aptible-7"})})
    assert acts.get_identity("this", data, "aptible", "org-1") == "aptible-7"
    assert acts.get_identity("this", event(), "aptible", "org-1") is None
    assert activities_for(tmp_path, None).get_identity("this", event(), "aptible", "o") is None


def test_hook_options_come_from_flow_vars() -> None:
    assert hook_options(make_config(None).flows["this"]) == (30, 3)
    flow = make_config(None, vars={"hook_timeout": "2m", "hook_max_attempts": "5"}).flows["this"]
    assert hook_options(flow) == (120, 5)
    bad = make_config(None, vars={"hook_max_attempts": "0"}).flows["this"]
    with pytest.raises(ValueError, match=r"vars\.hook_max_attempts = '0' is not a whole number"):
        hook_options(bad)


async def test_identity_activity_calls_get_identity_off_the_event_loop(tmp_path: Path) -> None:
    acts = activities_for(
        tmp_path,
        "def get_identity(event, service_type, external_id, user):\n"
        "    return f'{service_type}:{external_id}:{user.email}'\n",
    )
    call = IdentityReducerCall(
        flow="this",
        event=event(),
        service_type="aptible",
        external_id="org-1",
        user=user("dan@example.com"),
    )
    assert await acts.get_identity_for_call(call) == "aptible:org-1:dan@example.com"
    assert await acts.get_identity_for_call(call.model_copy(update={"event": None})) is None
