"""Sym's ``okta`` SDK functions over Okta's management API (``/api/v1``).

The ``sym_integration`` of type ``okta`` names the org (``external_id``, its domain such as
``dev-12345.okta.com``) and an API token (``api_token_secret``, sent as ``SSWS <token>``).
Calls used: ``GET /api/v1/users/{id or login}``, ``GET /api/v1/users?search=``,
``GET /api/v1/users/{id}/groups``, ``GET /api/v1/groups/{id}``, ``GET /api/v1/groups/{id}/users``
and ``GET /api/v1/groups``; lists continue through ``Link: <...>; rel="next"``. Sym's SDK (0.61)
offers no group membership changes, so neither does this client.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from jitflow.integrations.http import ServiceApi, body_text
from jitflow.integrations.people import People
from jitflow.sdk.exceptions import OktaError, SymException
from jitflow.sdk.user import User

SERVICE_TYPE = "okta"
PAGE_LIMIT = 200
#: Okta account states in which a member cannot act, so they are no approvers.
INACTIVE_STATES = frozenset({"DEPROVISIONED", "SUSPENDED"})
#: Okta's type of groups it manages itself (Sym's ``only_native_groups``).
NATIVE_GROUP_TYPE = "OKTA_GROUP"


def api_url_for(domain: str) -> str:
    """``https://<domain>``; a domain written with its scheme is taken as it is."""
    text = domain.strip().rstrip("/")
    return text if text.startswith(("https://", "http://")) else f"https://{text}"


def describe(response: httpx.Response) -> str:
    """Okta's errors read ``{"errorCode": "E0000007", "errorSummary": "Not found: ..."}``."""
    summary = body_text(response, "errorSummary")
    code = body_text(response, "errorCode")
    return f"{summary} ({code})" if summary and code else summary or code


def api(http: httpx.Client, base_url: str, token: str) -> ServiceApi:
    return ServiceApi(
        service="Okta",
        http=http,
        base_url=base_url,
        headers={"Authorization": f"SSWS {token}", "Accept": "application/json"},
        error=OktaError,
        describe=describe,
    )


class OktaClient:
    """One Okta org's answers to Sym's ``okta`` functions, for one reducer call."""

    def __init__(self, api: ServiceApi, domain: str, people: People) -> None:
        self._api = api
        self._domain = domain
        self._people = people

    def get_user_info(self, user: User) -> dict[str, Any]:
        """The user's Okta record (``id``, ``status``, ``profile``...), as Okta's Users API
        returns it; ``OktaError("USER_NOT_FOUND")`` when Okta has no such user."""
        found = self._find_user(user)
        if found is None:
            raise OktaError("USER_NOT_FOUND", f"Okta has no user {user.email or user.username}")
        return found

    def is_user_in_group(self, user: User, *, group_id: str) -> bool:
        """Whether ``user`` is a member of the group; ``OktaError("GROUP_NOT_FOUND")`` when the
        group does not exist. A user Okta does not know is in no group."""
        self._group(group_id)
        found = self._find_user(user)
        if found is None:
            return False
        for page in self._api.pages_by_link(
            f"/api/v1/users/{quote(str(found['id']), safe='')}/groups", {"limit": PAGE_LIMIT}
        ):
            if any(group.get("id") == group_id for group in _list(page)):
                return True
        return False

    def users_in_group(self, *, group_id: str) -> list[User]:
        """The group's members who can act (not deprovisioned or suspended), as jitflow users."""
        self._group(group_id)
        emails: list[str] = []
        for page in self._api.pages_by_link(
            f"/api/v1/groups/{quote(group_id, safe='')}/users", {"limit": PAGE_LIMIT}
        ):
            for member in _list(page):
                if member.get("status") in INACTIVE_STATES:
                    continue
                profile = member.get("profile") or {}
                emails.append(str(profile.get("email") or profile.get("login") or ""))
        return self._people.users(emails)

    def list_groups(
        self,
        *,
        name_filter: str | None = None,
        filter: str | None = None,
        expand: list[str] | None = None,
        only_native_groups: bool = True,
    ) -> list[dict[str, Any]]:
        """Okta's groups, with its ``q``, ``filter`` and ``expand`` parameters."""
        params: dict[str, Any] = {"limit": PAGE_LIMIT}
        if name_filter:
            params["q"] = name_filter
        if filter:
            params["filter"] = filter
        if expand:
            params["expand"] = ",".join(expand)
        groups = [
            g for page in self._api.pages_by_link("/api/v1/groups", params) for g in _list(page)
        ]
        if only_native_groups:
            groups = [g for g in groups if g.get("type") == NATIVE_GROUP_TYPE]
        return groups

    # -- lookups ------------------------------------------------------------------------------

    def _group(self, group_id: str) -> dict[str, Any]:
        try:
            group: dict[str, Any] = self._api.get_json(f"/api/v1/groups/{quote(group_id, safe='')}")
        except SymException as error:
            if error.error_code == "Okta:NOT_FOUND":
                raise OktaError("GROUP_NOT_FOUND", f"Okta has no group {group_id!r}") from None
            raise
        return group

    def _find_user(self, user: User) -> dict[str, Any] | None:
        """The user by stored Okta id, else by login (the email), else by profile email."""
        known = self._people.known_id(user, SERVICE_TYPE, self._domain)
        email = user.email or ""
        for key in (known, email):
            if not key:
                continue
            try:
                found: dict[str, Any] = self._api.get_json(f"/api/v1/users/{quote(key, safe='@')}")
            except SymException as error:
                if error.error_code != "Okta:NOT_FOUND":
                    raise
                continue
            return found
        if not email:
            return None
        matches = _list(
            self._api.get_json("/api/v1/users", {"search": f'profile.email eq "{email}"'})
        )
        return matches[0] if matches else None


def _list(page: Any) -> list[dict[str, Any]]:
    return [item for item in page if isinstance(item, dict)] if isinstance(page, list) else []
