"""The Sym-compatible names: importable both ways, with Sym's meaning."""

from __future__ import annotations

import importlib
import uuid

import pytest
from pydantic import ValidationError
from reducers.exceptions import PagerDutyError, SlackError, SymException

import reducers
from jitflow.sdk._context import CallContext, calling
from reducers import (
    SRN,
    ApprovalTemplate,
    Notification,
    PermissionLevel,
    RequestPermission,
    SlackChannelID,
    SlackChannelName,
    SlackUser,
    User,
    UserIdentity,
    UserRole,
    get_step_output,
    pagerduty,
    slack,
    store,
    user_ids,
)

#: Every name ``sym.sdk`` exports (sym-semantics B.5).
SYM_SDK_NAMES = (  # noqa: SIM905 - as the list reads in the spec
    "AccessTarget ApprovalTemplate Channel Event EventMeta FieldOption Flow RequestPermission "
    "Payload RequestDestination RequestDestinationFallback PermissionLevel Run SRN SlackChannelID "
    "SlackChannelName SlackUser SlackUserGroup SymIntegrationError SymResource SymSDKError "
    "Template User UserIdentity UserRole hook prefetch reducer aws_lambda github google okta "
    "onelogin pagerduty slack"
).split()

#: Sym's module names, with a name each must hold.
SYM_MODULES = {
    "annotations": "hook",
    "event": "Event",
    "flow": "Run",
    "user": "user_ids",
    "target": "AccessTarget",
    "strategy": "Strategy",
    "strategies": "AccessStrategy",
    "secret": "Secret",
    "resource": "SRN",
    "forms": "SymPromptForm",
    "field_option": "FieldOption",
    "notifications": "Notification",
    "request_destination": "RequestDestinationFallback",
    "request_permission": "PermissionLevel",
    "templates": "get_step_output",
    "errors": "SymSDKError",
    "exceptions": "IdentityNotFound",
    "utils": "persist_user_identity",
    "models": "Payload",
    "integrations": "slack",
    "integrations.slack": "channel",
    "integrations.pagerduty": "is_on_call",
    "integrations.sym": "get_or_create_user_by_email",
    "integrations.store": "put",
    "integrations.aws_lambda": "invoke",
}


def test_every_sym_sdk_name_is_exported_from_the_package() -> None:
    missing = [name for name in SYM_SDK_NAMES if not hasattr(reducers, name)]
    assert missing == []
    assert set(SYM_SDK_NAMES) <= set(reducers.__all__)


@pytest.mark.parametrize(("module", "name"), sorted(SYM_MODULES.items()))
def test_sym_module_names_import_under_reducers(module: str, name: str) -> None:
    imported = importlib.import_module(f"reducers.{module}")
    assert hasattr(imported, name)


def test_from_imports_with_sym_module_paths() -> None:
    namespace: dict[str, object] = {}
    exec(
        "from reducers.annotations import hook, reducer\n"
        "from reducers.integrations import slack\n"
        "from reducers.templates import ApprovalTemplate\n"
        "from reducers.request_permission import PermissionLevel, RequestPermission\n",
        namespace,
    )
    assert namespace["slack"] is slack
    assert namespace["ApprovalTemplate"] is ApprovalTemplate


def test_users_are_equal_by_username_and_know_their_identities() -> None:
    bob = User.from_email(
        "Bob@Example.com",
        "admin",
        identities={"aptible": [UserIdentity(service="aptible", service_id="org", user_id="u1")]},
    )
    same = User.from_email("bob@example.com")
    assert bob == same and hash(bob) == hash(same) and len({bob, same}) == 1
    assert bob.username == bob.email == "bob@example.com"
    assert bob.role is UserRole.ADMIN
    assert bob.identity("aptible") == UserIdentity(
        service="aptible", service_id="org", user_id="u1"
    )
    assert bob.identity("aptible", "other-org") is None
    assert bob.identity("slack") is None
    assert user_ids([bob]) == [same.id]
    with pytest.raises(ValueError, match="'bob' is not an email"):
        User.from_email("bob")


def test_roles_satisfy_their_level_and_those_below() -> None:
    assert UserRole.ADMIN.permission_levels() == set(PermissionLevel)
    assert PermissionLevel.ADMIN not in UserRole.MEMBER.permission_levels()
    assert UserRole.GUEST.permission_levels() == {PermissionLevel.GUEST, PermissionLevel.ALL_USERS}


def test_event_requests_carry_extra_kwargs_as_fields() -> None:
    approve = ApprovalTemplate.approve(reason="on call", duration=600)
    assert (approve.step, approve.duration, approve.fields) == (
        "approve",
        600,
        {"reason": "on call"},
    )
    ignore = ApprovalTemplate.ignore(message="not now")
    assert (ignore.step, ignore.message) == ("ignore", "not now")
    assert ApprovalTemplate.deescalate(note="x").fields == {"note": "x"}
    assert str(approve) == "ApprovalTemplate.approve(duration=600, reason='on call')"
    with pytest.raises(ValueError, match="duration='10m'"):
        ApprovalTemplate.approve(duration="10m")  # type: ignore[arg-type]


def test_request_permission_accepts_levels_emails_users_and_ids() -> None:
    carol = User.from_email("carol@example.com")
    permission = RequestPermission(
        webapp_view="member",
        approve_deny=["Bob@Example.com", carol, uuid.UUID(int=7)],
    )
    assert permission.webapp_view is PermissionLevel.MEMBER
    assert permission.approve_deny == ["bob@example.com", carol, uuid.UUID(int=7)]
    assert permission.allow_self_approval is False


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "approve_deny cannot be empty"),
        ("bob@example.com", "'bob@example.com' is neither a PermissionLevel nor a list"),
        (["bob"], "holds 'bob', which is not an email"),
        ([42], "holds 42"),
        (3.5, "not float 3.5"),
    ],
)
def test_request_permission_names_the_bad_value(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RequestPermission(webapp_view=PermissionLevel.ADMIN, approve_deny=value)


def test_slack_destinations_build_without_slack() -> None:
    assert slack.channel("#sym-requests") == SlackChannelName(channel_name="#sym-requests")
    assert slack.channel("C12345") == SlackChannelID(channel_id="C12345")
    assert slack.user("bob@example.com", allow_self=True) == SlackUser(
        email="bob@example.com", allow_self=True
    )
    assert slack.user("U123").mention() == "<@U123>"
    assert slack.user(User.from_email("dan@example.com")).email == "dan@example.com"
    group = slack.group(["a@example.com", "U9"])
    assert [str(u) for u in group.users] == ["SlackUser 'a@example.com'", "SlackUser 'U9'"]
    fallback = slack.fallback(slack.channel("#a"), slack.user("@bob"), continue_on_timeout=True)
    assert len(fallback.destinations) == 2 and fallback.continue_on_timeout
    with pytest.raises(ValueError, match=r"slack\.user\('nobody'\)"):
        slack.user("nobody")
    with pytest.raises(ValidationError, match="at most one Slack destination"):
        Notification(destinations=[slack.channel("#a"), slack.channel("#b")])


def test_calls_jitflow_cannot_make_raise_the_integrations_own_sym_error() -> None:
    with pytest.raises(
        SlackError, match=r"slack\.send_thread_message: jitflow does not tell hooks"
    ) as slack_error:
        slack.send_thread_message("hello")
    assert slack_error.value.error_code == "Slack:NOT_SUPPORTED"
    with pytest.raises(SlackError, match=r"slack\.send_message can only be called from"):
        slack.send_message(slack.channel("#x"), "hello")
    with pytest.raises(PagerDutyError, match=r"pagerduty\.is_on_call can only be called from"):
        pagerduty.is_on_call(User.from_email("bob@example.com"))
    with pytest.raises(SymException, match=r"store\.put"):
        store.put("k", 1)
    with pytest.raises(SymException, match=r"User\.get_event_count"):
        User.from_email("bob@example.com").get_event_count("request")


def test_step_outputs_and_platform_users_come_from_the_current_call() -> None:
    with pytest.raises(RuntimeError, match="get_step_output can only be called from a reducer"):
        get_step_output()
    context = CallContext(
        event_name="escalate",
        step_outputs={"escalate": {"membership_id": "m1"}},
        roles={"bob@example.com": "admin"},
    )
    with calling(context):
        assert get_step_output() == {
            "membership_id": "m1",
            "body": {"membership_id": "m1"},
            "errors": [],
        }
        assert get_step_output("approve") == {}
        bob = reducers.sym.get_or_create_user_by_email("Bob@example.com")
        assert bob.role is UserRole.ADMIN
        assert reducers.sym.get_or_create_users_by_emails(["x@example.com", "bad"]) == [
            User.from_email("x@example.com")
        ]


def test_srns_parse_and_name_what_is_wrong() -> None:
    srn = SRN.parse("jitflow:access_target:aptible_role:admin-role:latest")
    assert (srn.model, srn.type, srn.slug, srn.version) == (
        "access_target",
        "aptible_role",
        "admin-role",
        "latest",
    )
    assert SRN.parse(str(srn)) == srn
    with pytest.raises(reducers.SymSDKError, match="Invalid SRN 'a:b'"):
        SRN.parse("a:b")


def test_sym_exceptions_keep_their_error_codes() -> None:
    error = reducers.AptibleError("ALREADY_IN_ROLE", "already there")
    assert error.error_code == "Aptible:ALREADY_IN_ROLE"
    assert error.to_dict() == {"error": True, "message": "already there", "code": error.error_code}
    assert reducers.IdentityNotFound("a@b.c", "org").error_code == "Identity:NOT_FOUND"
