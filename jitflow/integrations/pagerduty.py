"""Sym's ``pagerduty`` SDK functions over PagerDuty's REST API (v2).

The ``sym_integration`` of type ``pagerduty`` names the account (``external_id``, its
``<subdomain>.pagerduty.com``) and the API token (``api_token_secret``). Calls used:
``GET /users?query=`` (a user by email), ``GET /users/{id}``, ``GET /schedules?query=``,
``GET /schedules/{id}``, ``GET /escalation_policies?query=``, ``GET /oncalls`` and
``GET /incidents``, each paged by ``offset``/``limit`` while ``more`` is true.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from jitflow.integrations.http import MAX_PAGES, Params, ServiceApi, body_text
from jitflow.integrations.people import People
from jitflow.sdk.exceptions import MissingArgument, PagerDutyError
from jitflow.sdk.user import User

DEFAULT_API_URL = "https://api.pagerduty.com"
#: Accounts in PagerDuty's EU service region (``<x>.eu.pagerduty.com``) use this API host.
EU_API_URL = "https://api.eu.pagerduty.com"
PAGE_LIMIT = 100
SERVICE_TYPE = "pagerduty"

_DEFAULT_STATUSES = ["triggered", "acknowledged"]
_DEFAULT_URGENCIES = ["high"]


def api_url_for(subdomain: str) -> str:
    """The REST API host of the account ``subdomain`` (``acme.pagerduty.com``)."""
    return EU_API_URL if subdomain.lower().endswith(".eu.pagerduty.com") else DEFAULT_API_URL


def describe(response: httpx.Response) -> str:
    """PagerDuty's errors read ``{"error": {"message": ..., "code": ..., "errors": [...]}}``."""
    message = body_text(response, "error.message")
    try:
        details = response.json().get("error", {}).get("errors") or []
    except (ValueError, AttributeError):
        details = []
    extra = "; ".join(str(item) for item in details if isinstance(item, str))
    return f"{message} ({extra})" if message and extra else message


def api(http: httpx.Client, base_url: str, token: str) -> ServiceApi:
    return ServiceApi(
        service="PagerDuty",
        http=http,
        base_url=base_url,
        headers={
            "Authorization": f"Token token={token}",
            "Accept": "application/vnd.pagerduty+json;version=2",
        },
        error=PagerDutyError,
        describe=describe,
    )


class PagerDutyClient:
    """One account's answers to Sym's ``pagerduty`` functions, for one reducer call."""

    def __init__(self, api: ServiceApi, subdomain: str, people: People) -> None:
        self._api = api
        self._subdomain = subdomain
        self._people = people

    # -- Sym's functions ----------------------------------------------------------------------

    def is_on_call(
        self,
        user: User,
        *,
        escalation_policy_name: str | None = None,
        escalation_policy_id: str | None = None,
        schedule_name: str | None = None,
        schedule_id: str | None = None,
    ) -> bool:
        """Whether ``user`` is on call now (for the policy or schedule, else for any)."""
        user_id = self._user_id(user)
        if user_id is None:
            return False  # no PagerDuty account: never on call
        params = self._oncall_filters(
            escalation_policy_name, escalation_policy_id, schedule_name, schedule_id
        )
        params["user_ids[]"] = [user_id]
        return any(True for _ in self._pages("/oncalls", "oncalls", params))

    def users_on_call(
        self,
        *,
        escalation_policy_name: str | None = None,
        escalation_policy_id: str | None = None,
        schedule_name: str | None = None,
        schedule_id: str | None = None,
    ) -> list[User]:
        """Everyone on call now, for the policy or schedule (else for every one)."""
        params = self._oncall_filters(
            escalation_policy_name, escalation_policy_id, schedule_name, schedule_id
        )
        params["include[]"] = ["users"]
        emails = [
            str(entry.get("user", {}).get("email") or "")
            for entry in self._pages("/oncalls", "oncalls", params)
        ]
        return self._people.users(emails)

    def users_for_schedule(
        self, *, schedule_name: str | None = None, schedule_id: str | None = None
    ) -> list[User]:
        """Every user of the schedule's layers, on call now or not."""
        if not schedule_name and not schedule_id:
            raise MissingArgument("schedule_name or schedule_id", "pagerduty.users_for_schedule")
        found_id = schedule_id or self._find_id("/schedules", "schedules", schedule_name or "")
        schedule = self._api.get_json(f"/schedules/{found_id}").get("schedule", {})
        emails = []
        for reference in schedule.get("users") or []:
            user = self._api.get_json(f"/users/{reference.get('id')}").get("user", {})
            emails.append(str(user.get("email") or ""))
        return self._people.users(emails)

    def get_incidents(
        self,
        *,
        assignees: list[User] | None = None,
        service_ids: list[str] | None = None,
        statuses: list[str] | None = None,
        urgencies: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[dict[str, Any]]:
        """Incidents matching the filters; Sym's defaults: triggered or acknowledged, high
        urgency, from 24 hours ago to a month after ``since``."""
        wanted = [_value(s) for s in statuses] if statuses else list(_DEFAULT_STATUSES)
        if assignees and "resolved" in wanted:
            raise PagerDutyError(
                "INVALID_ARGUMENT",
                "pagerduty.get_incidents: statuses cannot include RESOLVED when assignees is given",
            )
        start = _instant(since, "since") if since else datetime.now(UTC) - timedelta(hours=24)
        end = _instant(until, "until") if until else start + timedelta(days=30)
        params: dict[str, Any] = {
            "statuses[]": wanted,
            "urgencies[]": [_value(u) for u in urgencies] if urgencies else _DEFAULT_URGENCIES,
            "since": start.isoformat(),
            "until": end.isoformat(),
        }
        if service_ids:
            params["service_ids[]"] = list(service_ids)
        if assignees:
            ids = [i for i in (self._user_id(u) for u in assignees) if i is not None]
            if not ids:
                return []  # none of them has a PagerDuty account: nothing is assigned to them
            params["user_ids[]"] = ids
        return list(self._pages("/incidents", "incidents", params))

    def has_incident(self, **filters: Any) -> bool:
        return bool(self.get_incidents(**filters))

    # -- lookups ------------------------------------------------------------------------------

    def _user_id(self, user: User) -> str | None:
        """The user's PagerDuty id: stored, else the account's user with that email."""
        known = self._people.known_id(user, SERVICE_TYPE, self._subdomain)
        if known:
            return known
        email = (user.email or "").lower()
        if not email:
            return None
        for candidate in self._pages("/users", "users", {"query": email}):
            if str(candidate.get("email", "")).lower() == email:
                return str(candidate["id"])
        return None

    def _oncall_filters(
        self,
        policy_name: str | None,
        policy_id: str | None,
        schedule_name: str | None,
        schedule_id: str | None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if policy_id or policy_name:
            params["escalation_policy_ids[]"] = [
                policy_id
                or self._find_id("/escalation_policies", "escalation_policies", policy_name or "")
            ]
        if schedule_id or schedule_name:
            params["schedule_ids[]"] = [
                schedule_id or self._find_id("/schedules", "schedules", schedule_name or "")
            ]
        return params

    def _find_id(self, path: str, key: str, name: str) -> str:
        """The id of the schedule or escalation policy called ``name`` (exact, then any case)."""
        found = list(self._pages(path, key, {"query": name}))
        for match in (
            lambda item: item.get("name") == name,
            lambda item: str(item.get("name", "")).lower() == name.lower(),
        ):
            for item in found:
                if match(item):
                    return str(item["id"])
        what = "SCHEDULE" if key == "schedules" else "ESCALATION_POLICY"
        raise PagerDutyError(
            f"{what}_NOT_FOUND",
            f"PagerDuty has no {what.lower().replace('_', ' ')} named {name!r}",
        )

    def _pages(self, path: str, key: str, params: Params) -> Any:
        """Every item of a paged list (``offset``/``limit``, ``more``)."""
        offset = 0
        for _ in range(MAX_PAGES):
            page = self._api.get_json(path, {**params, "limit": PAGE_LIMIT, "offset": offset})
            items = (page.get(key) or []) if isinstance(page, dict) else []
            yield from items
            if not (isinstance(page, dict) and page.get("more")) or not items:
                return
            offset += len(items)


def _value(item: Any) -> str:
    """An enum member's value (``PagerDutyStatus.TRIGGERED``) or a plain string, lower case."""
    return str(getattr(item, "value", item)).lower()


def _instant(text: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PagerDutyError(
            "INVALID_ARGUMENT", f"pagerduty.get_incidents: {name}={text!r} is not an ISO-8601 time"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
