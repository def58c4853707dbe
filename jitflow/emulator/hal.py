"""HAL JSON bodies as Aptible's auth API writes them: ``_type``, ``id``, ``_links`` with absolute
hrefs, lists under ``_embedded.<plural>``, errors as ``{"code", "error", "message"}``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse, Response

from jitflow.emulator.state import (
    MembershipRecord,
    OrganizationRecord,
    RoleRecord,
    TokenRecord,
    UserRecord,
)

HAL_MEDIA_TYPE = "application/hal+json"

Body = dict[str, Any]


class ApiError(Exception):
    """An Aptible API error answer; raised by handlers, rendered by :func:`error_response`."""

    def __init__(
        self, status: int, error: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers or {}


def hal_response(body: Body, status: int = 200) -> Response:
    return JSONResponse(body, status_code=status, media_type=HAL_MEDIA_TYPE)


def error_response(error: ApiError) -> Response:
    body = {"code": error.status, "error": error.error, "message": error.message}
    return JSONResponse(
        body, status_code=error.status, media_type=HAL_MEDIA_TYPE, headers=error.headers
    )


def timestamp(value: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z``, as Aptible writes times."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def link(href: str) -> dict[str, str]:
    return {"href": href}


def user_body(root: str, user: UserRecord) -> Body:
    return {
        "_type": "user",
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "username": user.email,
        "verified": True,
        "_links": {
            "self": link(f"{root}/users/{user.id}"),
            "roles": link(f"{root}/users/{user.id}/roles"),
        },
    }


def organization_body(root: str, org: OrganizationRecord) -> Body:
    return {
        "_type": "organization",
        "id": org.id,
        "name": org.name,
        "_links": {
            "self": link(f"{root}/organizations/{org.id}"),
            "users": link(f"{root}/organizations/{org.id}/users"),
            "roles": link(f"{root}/organizations/{org.id}/roles"),
        },
    }


def role_body(root: str, role: RoleRecord) -> Body:
    return {
        "_type": "role",
        "id": role.id,
        "name": role.name,
        "type": role.type,
        "scim_created": role.scim_created,
        "_links": {
            "self": link(f"{root}/roles/{role.id}"),
            "organization": link(f"{root}/organizations/{role.organization_id}"),
            "memberships": link(f"{root}/roles/{role.id}/memberships"),
        },
    }


def membership_body(root: str, membership: MembershipRecord, user: UserRecord) -> Body:
    return {
        "_type": "membership",
        "id": membership.id,
        "privileged": membership.privileged,
        "created_at": timestamp(membership.created_at),
        "_links": {
            "self": link(f"{root}/memberships/{membership.id}"),
            "user": link(f"{root}/users/{membership.user_id}"),
            "role": link(f"{root}/roles/{membership.role_id}"),
        },
        "_embedded": {"user": user_body(root, user)},
    }


def token_body(root: str, token: TokenRecord) -> Body:
    return {
        "_type": "token",
        "id": token.id,
        "access_token": token.access_token,
        "token_type": "bearer",
        "expires_in": token.expires_in,
        "scope": token.scope,
        "created_at": timestamp(token.created_at),
        "expires_at": timestamp(token.expires_at),
        "_links": {
            "self": link(f"{root}/tokens/{token.id}"),
            "user": link(f"{root}/users/{token.user_id}"),
        },
    }


def page_body(
    root: str,
    path: str,
    plural: str,
    items: Sequence[Body],
    *,
    page: int,
    per_page: int,
) -> Body:
    """One page of a list, with ``_links.next`` (and ``prev``) when there are more pages."""
    start = (page - 1) * per_page
    chunk = list(items[start : start + per_page])

    def page_link(number: int) -> dict[str, str]:
        return link(f"{root}{path}?{urlencode({'page': number, 'per_page': per_page})}")

    links: dict[str, dict[str, str]] = {"self": page_link(page)}
    if start + per_page < len(items):
        links["next"] = page_link(page + 1)
    if page > 1:
        links["prev"] = page_link(page - 1)
    return {
        "_embedded": {plural: chunk},
        "_links": links,
        "current_page": page,
        "per_page": per_page,
        "total_count": len(items),
    }
