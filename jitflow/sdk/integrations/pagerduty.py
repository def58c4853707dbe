"""Sym's PagerDuty helpers, answered by PagerDuty's REST API.

They use the flow's ``pagerduty`` integration (``sym_integration`` of type ``pagerduty``, its API
token in ``api_token_secret``; named ``pagerduty_id`` in the ``sym_environment`` when there are
several). Anything that goes wrong, a missing integration or PagerDuty being unreachable
included, raises ``PagerDutyError``, so that ``except SymException`` fallbacks work as in Sym.
A user is matched to a PagerDuty user by the identity stored for it, else by email.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from jitflow.sdk._context import current_hub
from jitflow.sdk.exceptions import PagerDutyError
from jitflow.sdk.user import User

if TYPE_CHECKING:
    from jitflow.integrations.pagerduty import PagerDutyClient

__all__ = [
    "PagerDutyError",
    "PagerDutyStatus",
    "PagerDutyUrgency",
    "get_incidents",
    "has_incident",
    "is_on_call",
    "users_for_schedule",
    "users_on_call",
]


def _client(function: str) -> PagerDutyClient:
    """The flow's pagerduty client for SDK function ``function``, or ``PagerDutyError`` saying why not."""
    return current_hub(function, PagerDutyError).pagerduty()


class PagerDutyStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class PagerDutyUrgency(StrEnum):
    LOW = "low"
    HIGH = "high"


def is_on_call(
    user: User,
    *,
    escalation_policy_name: str | None = None,
    escalation_policy_id: str | None = None,
    schedule_name: str | None = None,
    schedule_id: str | None = None,
) -> bool:
    """Whether ``user`` is on call now, for the escalation policy or schedule given by name or
    id, else for any. A user with no PagerDuty account is not on call."""
    return _client("pagerduty.is_on_call").is_on_call(
        user,
        escalation_policy_name=escalation_policy_name,
        escalation_policy_id=escalation_policy_id,
        schedule_name=schedule_name,
        schedule_id=schedule_id,
    )


def users_on_call(
    *,
    escalation_policy_name: str | None = None,
    escalation_policy_id: str | None = None,
    schedule_name: str | None = None,
    schedule_id: str | None = None,
) -> list[User]:
    """Everyone on call now for the escalation policy or schedule, else for all of them."""
    return _client("pagerduty.users_on_call").users_on_call(
        escalation_policy_name=escalation_policy_name,
        escalation_policy_id=escalation_policy_id,
        schedule_name=schedule_name,
        schedule_id=schedule_id,
    )


def users_for_schedule(
    *, schedule_name: str | None = None, schedule_id: str | None = None
) -> list[User]:
    """Every user of the schedule (by name or id), on call now or not."""
    client = _client("pagerduty.users_for_schedule")
    return client.users_for_schedule(schedule_name=schedule_name, schedule_id=schedule_id)


def get_incidents(
    *,
    assignees: list[User] | None = None,
    service_ids: list[str] | None = None,
    statuses: list[PagerDutyStatus] | None = None,
    urgencies: list[PagerDutyUrgency] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """Incidents matching the filters, as PagerDuty's ``incident`` objects. Defaults as in Sym:
    triggered or acknowledged, high urgency, since 24 hours ago, until a month after since."""
    return _client("pagerduty.get_incidents").get_incidents(
        assignees=assignees,
        service_ids=service_ids,
        statuses=[str(s) for s in statuses] if statuses else None,
        urgencies=[str(u) for u in urgencies] if urgencies else None,
        since=since,
        until=until,
    )


def has_incident(
    *,
    assignees: list[User] | None = None,
    service_ids: list[str] | None = None,
    statuses: list[PagerDutyStatus] | None = None,
    urgencies: list[PagerDutyUrgency] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> bool:
    """Whether any incident matches the filters (see ``get_incidents``)."""
    return _client("pagerduty.has_incident").has_incident(
        assignees=assignees,
        service_ids=service_ids,
        statuses=[str(s) for s in statuses] if statuses else None,
        urgencies=[str(u) for u in urgencies] if urgencies else None,
        since=since,
        until=until,
    )
