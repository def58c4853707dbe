"""Reduce what user functions return to the plain outcomes recorded in the workflow's history.

Hooks return Sym event requests, reducers return ``RequestPermission`` or destinations; the
workflow only sees ``HookOutcome`` and ``Permissions`` (``jitflow/contracts/events.py``), JSON data that
replays the same whatever the reducer file says later.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any, cast, get_args

from pydantic import BaseModel

from jitflow.contracts.base import normalize_email
from jitflow.contracts.events import EventData, HookAction, HookOutcome, PermissionLevelName
from jitflow.reducer_runtime.event_builder import slug
from jitflow.reducer_runtime.handlers import FORWARD_STEPS, IGNORABLE_EVENTS
from jitflow.sdk.exceptions import SymException
from jitflow.sdk.notifications import Notification
from jitflow.sdk.request_destination import (
    RequestDestination,
    RequestDestinationFallback,
    SlackChannelID,
    SlackChannelName,
    SlackUser,
    SlackUserGroup,
)
from jitflow.sdk.request_permission import PermissionLevel, RequestPermission
from jitflow.sdk.templates import EventRequest
from jitflow.sdk.user import User, user_id_for

_RETURNED_LIMIT = 500
_HOOK_ACTIONS: frozenset[str] = frozenset(get_args(HookAction))

#: The emails of the people a Slack destination reaches (a channel's members, a Slack user id's
#: person), read from Slack; raises ``SlackError`` when Slack cannot say.
SlackPeople = Callable[[RequestDestination], Sequence[str]]


class OutcomeError(ValueError):
    """A user function returned something jitflow cannot act on; the text says what and why."""


def jsonable(value: Any) -> Any:
    """``value`` as JSON data: models dumped, enums and ids as their values, others as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, BaseModel):
        return jsonable(value.model_dump(mode="json"))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def short_text(value: Any) -> str:
    """A short text form of a returned value, for the audit trail."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _RETURNED_LIMIT else text[: _RETURNED_LIMIT - 1] + "…"


def hook_outcome(hook: str, when: str, event: EventData, returned: Any) -> HookOutcome:
    """The outcome of hook ``hook`` (``when`` is ``on`` or ``after``) that returned ``returned``."""
    if when == "after":
        return HookOutcome(
            called=True,
            message=returned if isinstance(returned, str) else None,
            returned=None if returned is None else short_text(returned),
        )
    if returned is None:
        return HookOutcome(called=True)
    if not isinstance(returned, EventRequest):
        raise OutcomeError(
            f"returned {short_text(returned)}; an on_* hook returns None or an event request "
            "such as ApprovalTemplate.approve(...), .deny(...) or .ignore(message=...)"
        )
    _check_forward(hook, event, returned)
    return HookOutcome(
        called=True,
        action=cast(HookAction, returned.step),
        # Sym's factories take ``message`` only on ignore; elsewhere a ``message=`` or
        # ``reason=`` keyword lands in the fields, and is what the decision should say.
        message=returned.message
        or _text(returned.fields.get("message"))
        or _text(returned.fields.get("reason")),
        fields=jsonable(returned.fields),
        duration=returned.duration,
        returned=short_text(str(returned)),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _check_forward(hook: str, event: EventData, request: EventRequest) -> None:
    step = request.step
    if step == "ignore":
        if event.name not in IGNORABLE_EVENTS:
            raise OutcomeError(
                f"returned ApprovalTemplate.ignore(...), but {event.name} cannot be ignored: "
                f"hooks only move a request forward (ignorable: "
                f"{', '.join(sorted(IGNORABLE_EVENTS))})"
            )
        return
    allowed = FORWARD_STEPS.get(event.name, frozenset())
    if step not in allowed or step not in _HOOK_ACTIONS:
        may = ", ".join(sorted(allowed)) or "nothing but None"
        raise OutcomeError(
            f"returned ApprovalTemplate.{step}(...) in response to {event.name}: hooks only "
            f"move a request forward; {hook} may return {may}"
            + (" or ignore" if event.name in IGNORABLE_EVENTS else "")
        )
    if step == event.name and event.channel_type == "sdk":
        raise OutcomeError(
            f"returned ApprovalTemplate.{step}(...) in response to a {step} that a hook fired: "
            "a hook's own event is processed once, so returning it again would loop"
        )
    if (
        request.target_srn is not None
        and request.target_srn.slug != slug(event.target.name).lower()
    ):
        raise OutcomeError(
            f"returned an event for target {str(request.target_srn)!r}, but this request is for "
            f"{event.target.name!r}; a jitflow request keeps its target"
        )


class PeopleResolver:
    """Turns the emails, ``User`` objects and user ids a reducer returns into emails."""

    def __init__(self, emails: Iterable[str]) -> None:
        self._by_id = {user_id_for(e): normalize_email(e) for e in emails}

    def emails(self, people: Iterable[Any], field: str) -> tuple[str, ...]:
        found: list[str] = []
        for person in people:
            if isinstance(person, User):
                if not person.email:
                    raise OutcomeError(f"{field} holds {person!r}, a user without an email")
                found.append(person.email)
            elif isinstance(person, uuid.UUID):
                email = self._by_id.get(person)
                if email is None:
                    raise OutcomeError(
                        f"{field} holds the user id {person}, which is no user jitflow knows; "
                        "list emails (or User objects) instead"
                    )
                found.append(email)
            else:
                found.append(normalize_email(str(person)))
        return tuple(dict.fromkeys(found))


def split_people(
    value: PermissionLevel | list[Any], field: str, resolver: PeopleResolver
) -> tuple[tuple[PermissionLevelName, ...], tuple[str, ...]]:
    """``(levels, emails)`` of a ``RequestPermission`` field."""
    if isinstance(value, PermissionLevel):
        return (value.value,), ()
    return (), resolver.emails(value, field)


def check_request_permission(returned: Any) -> RequestPermission | None:
    if returned is None or isinstance(returned, RequestPermission):
        return returned
    raise OutcomeError(
        f"returned {short_text(returned)}; get_permissions returns "
        "RequestPermission(webapp_view=..., approve_deny=..., allow_self_approval=...)"
    )


def destination_record(destination: Any) -> dict[str, Any]:
    """One destination as recorded in history: its kind and fields."""
    if isinstance(destination, User):
        return {"kind": "User", "email": destination.email}
    if isinstance(destination, BaseModel):
        return {"kind": type(destination).__name__, **jsonable(destination)}
    return {"kind": type(destination).__name__, "value": short_text(destination)}


def notifications_record(returned: Any) -> list[dict[str, Any]]:
    """What ``get_request_notifications`` returned, checked and recorded."""
    if returned is None:
        return []
    items = returned if isinstance(returned, list | tuple) else [returned]
    records: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, Notification):
            raise OutcomeError(
                f"returned {short_text(returned)}; get_request_notifications returns a list "
                "of Notification(destinations=[...], timeout=...)"
            )
        records.append(
            {
                "source": "get_request_notifications",
                "timeout": item.timeout,
                "destinations": [destination_record(d) for d in item.destinations],
            }
        )
    return records


#: The people one ``get_approvers`` destination reaches, and whether it lets the requester
#: among them approve (its own ``allow_self``).
Reach = tuple[tuple[str, ...], bool]


def approvers_from_destinations(
    returned: Any, slack_people: SlackPeople | None = None, *, requester: str
) -> tuple[tuple[str, ...], bool, dict[str, Any]]:
    """``(approver emails, allow_self, record)`` of what a legacy ``get_approvers`` returned.

    In Sym, whoever sees the request's message may approve it. So emails and ``User`` objects
    (bare, or held by ``slack.user``/``slack.group``) become approvers, and so do the members
    of each Slack channel and the people of Slack user ids, read through ``slack_people`` when
    the flow has Slack; without it, channels approve nobody (admins still can) and are only
    recorded, for delivery.

    A list is sent to all its destinations, so all their people approve. ``slack.fallback(...)``
    is sent to the first destination that works, so only that one's people approve: the first
    that reaches at least one person. One whose people Slack cannot tell (down, no such
    channel) is passed over, as delivery passes over it, unless
    ``continue_on_delivery_failure=False`` (then the error stands, as for a list). When none
    reaches anybody there are no approvers: admins only. The record says which destination
    gave the approvers (``approvers_from``) and why the earlier ones did not (``skipped``).

    ``allow_self`` concerns the requester alone, who is known here: it is True only when the
    requester is among the people of a destination that itself has ``allow_self=True``
    (``slack.user("lead@x", allow_self=True)`` lets the lead approve their own request, not
    every member of a channel listed beside it).
    """
    fallback = isinstance(returned, RequestDestinationFallback)
    if returned is None:
        items: list[Any] = []
    elif isinstance(returned, RequestDestinationFallback):
        items = list(returned.destinations)
    elif isinstance(returned, list | tuple):
        items = list(returned)
    else:
        items = [returned]
    for item in items:
        if not isinstance(item, User | RequestDestination) and not (
            isinstance(item, str) and "@" in item
        ):
            raise OutcomeError(
                f"returned {short_text(returned)}; get_approvers returns destinations "
                "(slack.user(...), slack.channel(...), slack.fallback(...)), emails or Users"
            )
    record: dict[str, Any] = {
        "source": "get_approvers",
        "fallback": fallback,
        "destinations": [destination_record(d) for d in items],
    }
    if isinstance(returned, RequestDestinationFallback):
        reached: list[Reach] = []
        skipped: list[dict[str, Any]] = []
        record["approvers_from"] = None
        for index, item in enumerate(items):
            try:
                reach = _reach(item, slack_people)
            except SymException as error:
                if not returned.continue_on_delivery_failure:
                    raise
                skipped.append({"index": index, "why": short_text(_error_text(error))})
                continue
            if reach[0]:
                reached, record["approvers_from"] = [reach], index
                break
            skipped.append({"index": index, "why": "reaches nobody jitflow can name"})
        record["skipped"] = skipped
    else:
        reached = [_reach(item, slack_people) for item in items]
    who = normalize_email(requester)
    emails = tuple(dict.fromkeys(e for people, _ in reached for e in people))
    allow_self = any(own and who in people for people, own in reached)
    return emails, allow_self, record


def _reach(item: Any, slack_people: SlackPeople | None) -> Reach:
    """The people ``item`` (one checked ``get_approvers`` destination) reaches, as emails, and
    its ``allow_self``; Slack is asked for channels and Slack user ids (``SymException`` when
    it cannot say). A group's ``allow_self`` is the group's, whatever its members say."""

    def slack_emails(destination: RequestDestination) -> list[str]:
        return list(slack_people(destination)) if slack_people is not None else []

    def person(user: SlackUser) -> list[str]:
        return [user.email] if user.email else slack_emails(user)

    found: list[str]
    own = False
    if isinstance(item, User):
        found = [item.email] if item.email else []
    elif isinstance(item, str):
        found = [item]
    elif isinstance(item, SlackUser):
        found, own = person(item), item.allow_self
    elif isinstance(item, SlackUserGroup):
        found, own = [e for member in item.users for e in person(member)], item.allow_self
    elif isinstance(item, SlackChannelID | SlackChannelName):
        found, own = slack_emails(item), item.allow_self
    else:  # another kind of destination reaches nobody jitflow can name
        found = []
    return tuple(dict.fromkeys(normalize_email(e) for e in found)), own


def _error_text(error: SymException) -> str:
    return f"{error.error_code}: {error.message}"
