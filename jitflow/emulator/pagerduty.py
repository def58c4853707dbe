"""A local stand-in for PagerDuty's REST API (v2): the endpoints Sym's ``pagerduty`` helpers use.

``GET /users`` (``query``), ``/users/{id}``, ``/schedules`` (``query``), ``/schedules/{id}``,
``/escalation_policies`` (``query``), ``/oncalls`` (``user_ids[]``, ``schedule_ids[]``,
``escalation_policy_ids[]``, ``include[]=users``) and ``/incidents`` (``statuses[]``,
``urgencies[]``, ``user_ids[]``, ``service_ids[]``, ``since``, ``until``). Lists page by
``limit``/``offset`` with ``more``; requests need ``Authorization: Token token=<token>``; errors
are PagerDuty's ``{"error": {"message", "code", "errors"}}`` bodies.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jitflow.emulator.service import ServiceApp, json_error, query_int, query_list

DEFAULT_TOKEN = "pd-emulator-token"
_CODES = {400: 2001, 401: 2006, 403: 2010, 404: 2100, 429: 2020}
_MESSAGES = {
    400: "Invalid Input Provided",
    401: "Unauthorized",
    403: "Access Denied",
    404: "Not Found",
    429: "Rate Limit Exceeded",
}


class PdUser(BaseModel):
    id: str
    name: str
    email: str


class PdSchedule(BaseModel):
    id: str
    name: str
    user_ids: list[str] = Field(default_factory=list)


class PdEscalationPolicy(BaseModel):
    id: str
    name: str


class PdOnCall(BaseModel):
    """Who is on call now: a user, for a policy (and the schedule that put them there)."""

    user_id: str
    escalation_policy_id: str
    schedule_id: str | None = None
    escalation_level: int = 1


class PdIncident(BaseModel):
    id: str
    title: str
    status: str = "triggered"
    urgency: str = "high"
    service_id: str = "PSERVICE"
    assignee_ids: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class PagerDutyState(BaseModel):
    """The emulated account; tests change it in place between calls."""

    users: list[PdUser] = Field(default_factory=list)
    schedules: list[PdSchedule] = Field(default_factory=list)
    escalation_policies: list[PdEscalationPolicy] = Field(default_factory=list)
    oncalls: list[PdOnCall] = Field(default_factory=list)
    incidents: list[PdIncident] = Field(default_factory=list)

    def user(self, user_id: str) -> PdUser | None:
        return next((u for u in self.users if u.id == user_id), None)


def error_response(status: int, detail: str = "") -> Response:
    code = _CODES.get(status, 2000 if status < 500 else 5000)
    message = _MESSAGES.get(status, "Internal Server Error" if status >= 500 else "Error")
    body: dict[str, Any] = {"message": message, "code": code}
    if detail:
        body["errors"] = [detail]
    headers = {"Retry-After": "1"} if status == 429 else None
    return json_error(status, {"error": body}, headers)


def _user_body(user: PdUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "type": "user",
        "name": user.name,
        "summary": user.name,
        "email": user.email,
        "self": f"https://api.pagerduty.com/users/{user.id}",
    }


def _reference(kind: str, ident: str, summary: str) -> dict[str, Any]:
    return {"id": ident, "type": f"{kind}_reference", "summary": summary}


def _page(request: Request, key: str, items: list[dict[str, Any]]) -> Response:
    try:
        limit = query_int(request, "limit", 25, low=1, high=100)
        offset = query_int(request, "offset", 0)
    except ValueError:
        return error_response(400, "limit and offset must be integers")
    chosen = items[offset : offset + limit]
    return JSONResponse(
        {
            key: chosen,
            "limit": limit,
            "offset": offset,
            "more": offset + limit < len(items),
            "total": None,
        }
    )


def _matches(query: str | None, *values: str) -> bool:
    return not query or any(query.lower() in value.lower() for value in values)


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def create_pagerduty_app(state: PagerDutyState, token: str = DEFAULT_TOKEN) -> ServiceApp:
    """The emulator over ``state``, accepting the API token ``token``."""

    async def users(request: Request) -> Response:
        query = request.query_params.get("query")
        found = [_user_body(u) for u in state.users if _matches(query, u.name, u.email)]
        return _page(request, "users", found)

    async def user(request: Request) -> Response:
        found = state.user(request.path_params["id"])
        return JSONResponse({"user": _user_body(found)}) if found else error_response(404)

    async def schedules(request: Request) -> Response:
        query = request.query_params.get("query")
        found = [
            {"id": s.id, "type": "schedule", "name": s.name, "summary": s.name}
            for s in state.schedules
            if _matches(query, s.name)
        ]
        return _page(request, "schedules", found)

    async def schedule(request: Request) -> Response:
        found = next((s for s in state.schedules if s.id == request.path_params["id"]), None)
        if found is None:
            return error_response(404)
        members = [state.user(i) for i in found.user_ids]
        return JSONResponse(
            {
                "schedule": {
                    "id": found.id,
                    "type": "schedule",
                    "name": found.name,
                    "summary": found.name,
                    "users": [_reference("user", u.id, u.name) for u in members if u],
                }
            }
        )

    async def policies(request: Request) -> Response:
        query = request.query_params.get("query")
        found = [
            {"id": p.id, "type": "escalation_policy", "name": p.name, "summary": p.name}
            for p in state.escalation_policies
            if _matches(query, p.name)
        ]
        return _page(request, "escalation_policies", found)

    async def oncalls(request: Request) -> Response:
        user_ids = set(query_list(request, "user_ids"))
        schedule_ids = set(query_list(request, "schedule_ids"))
        policy_ids = set(query_list(request, "escalation_policy_ids"))
        full_users = "users" in query_list(request, "include")
        found = []
        for entry in state.oncalls:
            if user_ids and entry.user_id not in user_ids:
                continue
            if schedule_ids and entry.schedule_id not in schedule_ids:
                continue
            if policy_ids and entry.escalation_policy_id not in policy_ids:
                continue
            person = state.user(entry.user_id)
            if person is None:
                continue
            found.append(
                {
                    "user": _user_body(person)
                    if full_users
                    else _reference("user", person.id, person.name),
                    "schedule": _reference("schedule", entry.schedule_id, entry.schedule_id)
                    if entry.schedule_id
                    else None,
                    "escalation_policy": _reference(
                        "escalation_policy", entry.escalation_policy_id, entry.escalation_policy_id
                    ),
                    "escalation_level": entry.escalation_level,
                    "start": None,
                    "end": None,
                }
            )
        return _page(request, "oncalls", found)

    async def incidents(request: Request) -> Response:
        try:
            since = _instant(request.query_params.get("since"))
            until = _instant(request.query_params.get("until"))
        except ValueError:
            return error_response(400, "since and until must be ISO-8601 times")
        statuses = set(query_list(request, "statuses")) or {"triggered", "acknowledged"}
        urgencies = set(query_list(request, "urgencies"))
        user_ids = set(query_list(request, "user_ids"))
        service_ids = set(query_list(request, "service_ids"))
        found = [
            {
                "id": i.id,
                "type": "incident",
                "title": i.title,
                "summary": i.title,
                "status": i.status,
                "urgency": i.urgency,
                "created_at": i.created_at.isoformat(),
                "service": _reference("service", i.service_id, i.service_id),
                "assignments": [{"assignee": _reference("user", a, a)} for a in i.assignee_ids],
            }
            for i in state.incidents
            if i.status in statuses
            and (not urgencies or i.urgency in urgencies)
            and (not user_ids or user_ids & set(i.assignee_ids))
            and (not service_ids or i.service_id in service_ids)
            and (since is None or i.created_at >= since)
            and (until is None or i.created_at < until)
        ]
        return _page(request, "incidents", found)

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization") == f"Token token={token}"

    routes = [
        Route("/users", users, methods=["GET"]),
        Route("/users/{id}", user, methods=["GET"]),
        Route("/schedules", schedules, methods=["GET"]),
        Route("/schedules/{id}", schedule, methods=["GET"]),
        Route("/escalation_policies", policies, methods=["GET"]),
        Route("/oncalls", oncalls, methods=["GET"]),
        Route("/incidents", incidents, methods=["GET"]),
    ]
    return ServiceApp("PagerDuty", routes, authorized=authorized, error=error_response, state=state)
