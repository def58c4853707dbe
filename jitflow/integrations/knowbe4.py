"""Sym's ``knowbe4`` SDK functions over KnowBe4's Reporting API (``/v1``).

The ``sym_integration`` of type ``knowbe4`` names the account's ``region`` (``us``, ``eu``,
``ca``, ``uk``, ``de``: the API is ``https://<region>.api.knowbe4.com``) and a Reporting API
token (``api_token_secret``, sent as a bearer token). Calls used: ``GET /v1/users`` (paged by
``page``/``per_page``, to find a user by email), ``GET /v1/users/{id}`` (its ``groups``) and
``GET /v1/training/enrollments`` filtered by ``user_id``, ``store_purchase_id`` and
``campaign_id``.
"""

from __future__ import annotations

from typing import Any

import httpx

from jitflow.integrations.http import MAX_PAGES, ServiceApi, body_text
from jitflow.sdk.exceptions import KnowBe4Error
from jitflow.sdk.user import User

PER_PAGE = 500


def api_url_for(region: str) -> str:
    return f"https://{region.strip().lower()}.api.knowbe4.com"


def describe(response: httpx.Response) -> str:
    """KnowBe4 explains an error in ``message`` (or ``error``)."""
    return body_text(response, "message", "error", "errors")


def api(http: httpx.Client, base_url: str, token: str) -> ServiceApi:
    return ServiceApi(
        service="KnowBe4",
        http=http,
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        error=KnowBe4Error,
        describe=describe,
    )


class KnowBe4Client:
    """One KnowBe4 account's answers to Sym's ``knowbe4`` functions, for one reducer call."""

    def __init__(self, api: ServiceApi) -> None:
        self._api = api

    def get_training_enrollments_for_user(
        self, user: User, store_purchase_id: int | None = None, campaign_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The user's training enrollments (each with ``status``: ``"Passed"``...), optionally
        only those of one store purchase and campaign; ``KnowBe4Error("USER_NOT_FOUND")`` when
        KnowBe4 has no user with the user's email."""
        user_id = self._user_id(user)
        params: dict[str, Any] = {"user_id": user_id}
        if store_purchase_id is not None:
            params["store_purchase_id"] = store_purchase_id
        if campaign_id is not None:
            params["campaign_id"] = campaign_id
        return [
            enrollment
            for enrollment in self._pages("/v1/training/enrollments", params)
            if _enrollment_user(enrollment) in (None, user_id)
        ]

    def is_user_in_group(self, user: User, group_id: int) -> bool:
        """Whether the user belongs to the KnowBe4 group ``group_id``."""
        record = self._api.get_json(f"/v1/users/{self._user_id(user)}")
        groups = record.get("groups") if isinstance(record, dict) else None
        return int(group_id) in {int(g) for g in groups or [] if str(g).lstrip("-").isdigit()}

    def _user_id(self, user: User) -> int:
        email = (user.email or "").lower()
        if email:
            for candidate in self._pages("/v1/users", {}):
                if str(candidate.get("email", "")).lower() == email:
                    return int(candidate["id"])
        raise KnowBe4Error("USER_NOT_FOUND", f"KnowBe4 has no user {user.email or user.username}")

    def _pages(self, path: str, params: dict[str, Any]) -> Any:
        """Every item of a list paged by ``page``/``per_page`` (a short page is the last)."""
        for page in range(1, MAX_PAGES + 1):
            items = self._api.get_json(path, {**params, "page": page, "per_page": PER_PAGE})
            if not isinstance(items, list):
                raise KnowBe4Error(
                    "INVALID_RESPONSE", f"KnowBe4 answered GET {path} with something not a list"
                )
            yield from (item for item in items if isinstance(item, dict))
            if len(items) < PER_PAGE:
                return


def _enrollment_user(enrollment: dict[str, Any]) -> int | None:
    user = enrollment.get("user")
    value = user.get("id") if isinstance(user, dict) else None
    return int(value) if isinstance(value, int) else None
