"""PagerDuty helpers: importable, not callable yet (jitflow does not talk to PagerDuty)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import PagerDutyError
from jitflow.sdk.user import User

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

_WHY = "jitflow does not talk to PagerDuty yet; list on-call emails in the flow's vars instead"


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
    raise not_available("pagerduty.is_on_call", _WHY)


def users_on_call(
    *,
    escalation_policy_name: str | None = None,
    escalation_policy_id: str | None = None,
    schedule_name: str | None = None,
    schedule_id: str | None = None,
) -> list[User]:
    raise not_available("pagerduty.users_on_call", _WHY)


def users_for_schedule(
    *, schedule_name: str | None = None, schedule_id: str | None = None
) -> list[User]:
    raise not_available("pagerduty.users_for_schedule", _WHY)


def get_incidents(
    *,
    assignees: list[User] | None = None,
    service_ids: list[str] | None = None,
    statuses: list[PagerDutyStatus] | None = None,
    urgencies: list[PagerDutyUrgency] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    raise not_available("pagerduty.get_incidents", _WHY)


def has_incident(
    *,
    assignees: list[User] | None = None,
    service_ids: list[str] | None = None,
    statuses: list[PagerDutyStatus] | None = None,
    urgencies: list[PagerDutyUrgency] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> bool:
    raise not_available("pagerduty.has_incident", _WHY)
