"""A local stand-in for KnowBe4's Reporting API: the endpoints Sym's ``knowbe4`` helpers use.

``GET /v1/users``, ``/v1/users/{id}`` and ``/v1/training/enrollments`` (``user_id``,
``store_purchase_id``, ``campaign_id``). Lists page by ``page`` and ``per_page`` (at most 500)
and are bare JSON arrays, as KnowBe4's are; requests need ``Authorization: Bearer <token>``;
errors carry ``{"message": ...}``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jitflow.emulator.service import ServiceApp, json_error, query_int

DEFAULT_TOKEN = "kb4-emulator-token"
_MESSAGES = {
    400: "Bad Request",
    401: "Unauthorized: invalid API token",
    403: "Forbidden",
    404: "Not Found",
    429: "Rate limit exceeded",
}


class KnowBe4User(BaseModel):
    id: int
    email: str
    first_name: str = ""
    last_name: str = ""
    status: str = "active"
    groups: list[int] = Field(default_factory=list)


class KnowBe4Enrollment(BaseModel):
    enrollment_id: int
    user_id: int
    module_name: str
    status: str = "Not Started"
    """``Passed``, ``In Progress``, ``Not Started``, ``Past Due``..."""
    store_purchase_id: int | None = None
    campaign_id: int | None = None
    campaign_name: str = "Security Awareness"


class KnowBe4State(BaseModel):
    """The emulated account; tests change it in place between calls."""

    users: list[KnowBe4User] = Field(default_factory=list)
    enrollments: list[KnowBe4Enrollment] = Field(default_factory=list)

    def user(self, user_id: int) -> KnowBe4User | None:
        return next((u for u in self.users if u.id == user_id), None)


def error_response(status: int, detail: str = "") -> Response:
    message = _MESSAGES.get(status, "Internal Server Error")
    body = {"message": f"{message}: {detail}" if detail else message}
    return json_error(status, body, {"Retry-After": "1"} if status == 429 else None)


def _user_body(user: KnowBe4User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "status": user.status,
        "groups": list(user.groups),
    }


def _page(request: Request, items: list[dict[str, Any]]) -> Response:
    try:
        page = query_int(request, "page", 1, low=1)
        per_page = query_int(request, "per_page", 100, low=1, high=500)
    except ValueError:
        return error_response(400, "page and per_page must be integers")
    start = (page - 1) * per_page
    return JSONResponse(items[start : start + per_page])


def create_knowbe4_app(state: KnowBe4State, token: str = DEFAULT_TOKEN) -> ServiceApp:
    """The emulator over ``state``, accepting the API token ``token``."""

    async def users(request: Request) -> Response:
        return _page(request, [_user_body(u) for u in state.users])

    async def user(request: Request) -> Response:
        raw = request.path_params["id"]
        found = state.user(int(raw)) if raw.isdigit() else None
        return JSONResponse(_user_body(found)) if found else error_response(404, f"user {raw}")

    async def enrollments(request: Request) -> Response:
        filters: dict[str, int] = {}
        for name in ("user_id", "store_purchase_id", "campaign_id"):
            raw = request.query_params.get(name)
            if raw is not None:
                if not raw.isdigit():
                    return error_response(400, f"{name} must be an integer")
                filters[name] = int(raw)
        found = []
        for item in state.enrollments:
            if any(getattr(item, name) != value for name, value in filters.items()):
                continue
            person = state.user(item.user_id)
            found.append(
                {
                    "enrollment_id": item.enrollment_id,
                    "content_type": "Store Purchase",
                    "module_name": item.module_name,
                    "user": {
                        "id": item.user_id,
                        "first_name": person.first_name if person else "",
                        "last_name": person.last_name if person else "",
                        "email": person.email if person else "",
                    },
                    "campaign_name": item.campaign_name,
                    "status": item.status,
                }
            )
        return _page(request, found)

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {token}"

    routes = [
        Route("/v1/users", users, methods=["GET"]),
        Route("/v1/users/{id}", user, methods=["GET"]),
        Route("/v1/training/enrollments", enrollments, methods=["GET"]),
    ]
    return ServiceApp("KnowBe4", routes, authorized=authorized, error=error_response, state=state)
