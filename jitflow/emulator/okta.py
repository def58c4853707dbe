"""A local stand-in for Okta's management API: the endpoints Sym's ``okta`` helpers use.

``GET /api/v1/users/{id or login}``, ``/api/v1/users?search=profile.email eq "..."``,
``/api/v1/users/{id}/groups``, ``/api/v1/groups`` (``q``, ``filter``), ``/api/v1/groups/{id}``
and ``/api/v1/groups/{id}/users``. Lists page by ``limit`` and an ``after`` cursor announced in
``Link: <...>; rel="next"``; requests need ``Authorization: SSWS <token>``; errors are Okta's
``{"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}`` bodies.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jitflow.emulator.service import ServiceApp, json_error, query_int

DEFAULT_TOKEN = "okta-emulator-token"
_ERRORS = {
    400: ("E0000001", "Api validation failed"),
    401: ("E0000011", "Invalid token provided"),
    403: ("E0000006", "You do not have permission to perform the requested action"),
    404: ("E0000007", "Not found: Resource not found"),
    429: ("E0000047", "API call exceeded rate limit due to too many requests."),
}
_EMAIL_SEARCH = re.compile(r'^profile\.email eq "([^"]+)"$')


class OktaUser(BaseModel):
    id: str
    login: str
    email: str
    first_name: str = ""
    last_name: str = ""
    status: str = "ACTIVE"
    department: str | None = None


class OktaGroup(BaseModel):
    id: str
    name: str
    type: str = "OKTA_GROUP"
    member_ids: list[str] = Field(default_factory=list)


class OktaState(BaseModel):
    """The emulated org; tests change it in place between calls."""

    users: list[OktaUser] = Field(default_factory=list)
    groups: list[OktaGroup] = Field(default_factory=list)

    def user(self, key: str) -> OktaUser | None:
        """By id or by login, as Okta's ``/users/{id}`` accepts both."""
        lowered = key.lower()
        return next((u for u in self.users if u.id == key or u.login.lower() == lowered), None)

    def group(self, group_id: str) -> OktaGroup | None:
        return next((g for g in self.groups if g.id == group_id), None)


def error_response(status: int, detail: str = "") -> Response:
    code, summary = _ERRORS.get(status, ("E0000009", "Internal Server Error"))
    body = {
        "errorCode": code,
        "errorSummary": f"{summary}: {detail}" if detail and status == 404 else summary,
        "errorLink": code,
        "errorId": f"oae{uuid.uuid4().hex[:20]}",
        "errorCauses": [{"errorSummary": detail}] if detail and status == 400 else [],
    }
    headers = {"X-Rate-Limit-Remaining": "0"} if status == 429 else None
    return json_error(status, body, headers)


def _user_body(user: OktaUser) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "login": user.login,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
    }
    if user.department is not None:
        profile["department"] = user.department
    return {"id": user.id, "status": user.status, "profile": profile}


def _group_body(group: OktaGroup) -> dict[str, Any]:
    return {"id": group.id, "type": group.type, "profile": {"name": group.name}}


def _paged(request: Request, items: list[dict[str, Any]]) -> Response:
    """One page of ``items`` after the ``after`` cursor (an item id), with Okta's Link header."""
    try:
        limit = query_int(request, "limit", 200, low=1, high=200)
    except ValueError:
        return error_response(400, "limit must be an integer")
    after = request.query_params.get("after")
    start = 0
    if after is not None:
        ids = [item["id"] for item in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    chosen = items[start : start + limit]
    headers: dict[str, str] = {}
    if start + limit < len(items):
        params = {k: v for k, v in request.query_params.items() if k != "after"}
        params["after"] = chosen[-1]["id"]
        url = f"{str(request.base_url).rstrip('/')}{request.url.path}?{urlencode(params)}"
        headers["Link"] = f'<{url}>; rel="next"'
    return JSONResponse(chosen, headers=headers)


def create_okta_app(state: OktaState, token: str = DEFAULT_TOKEN) -> ServiceApp:
    """The emulator over ``state``, accepting the API token ``token``."""

    async def users(request: Request) -> Response:
        search = request.query_params.get("search")
        found = state.users
        if search is not None:
            match = _EMAIL_SEARCH.match(search.strip())
            if match is None:
                return error_response(400, f"unsupported search expression {search!r}")
            found = [u for u in state.users if u.email.lower() == match.group(1).lower()]
        return _paged(request, [_user_body(u) for u in found])

    async def user(request: Request) -> Response:
        key = request.path_params["key"]
        found = state.user(key)
        if found is None:
            return error_response(404, f"{key} (User)")
        return JSONResponse(_user_body(found))

    async def user_groups(request: Request) -> Response:
        key = request.path_params["key"]
        found = state.user(key)
        if found is None:
            return error_response(404, f"{key} (User)")
        return _paged(request, [_group_body(g) for g in state.groups if found.id in g.member_ids])

    async def groups(request: Request) -> Response:
        query = (request.query_params.get("q") or "").lower()
        found = [g for g in state.groups if g.name.lower().startswith(query)]
        return _paged(request, [_group_body(g) for g in found])

    async def group(request: Request) -> Response:
        found = state.group(request.path_params["id"])
        if found is None:
            return error_response(404, f"{request.path_params['id']} (UserGroup)")
        return JSONResponse(_group_body(found))

    async def group_users(request: Request) -> Response:
        found = state.group(request.path_params["id"])
        if found is None:
            return error_response(404, f"{request.path_params['id']} (UserGroup)")
        members = [state.user(i) for i in found.member_ids]
        return _paged(request, [_user_body(u) for u in members if u])

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization") == f"SSWS {token}"

    routes = [
        Route("/api/v1/users", users, methods=["GET"]),
        Route("/api/v1/users/{key}", user, methods=["GET"]),
        Route("/api/v1/users/{key}/groups", user_groups, methods=["GET"]),
        Route("/api/v1/groups", groups, methods=["GET"]),
        Route("/api/v1/groups/{id}", group, methods=["GET"]),
        Route("/api/v1/groups/{id}/users", group_users, methods=["GET"]),
    ]
    return ServiceApp("Okta", routes, authorized=authorized, error=error_response, state=state)
