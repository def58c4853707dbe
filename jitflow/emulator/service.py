"""What every small service emulator shares (PagerDuty, Okta, KnowBe4, Lambda): routes behind
a token check, a request counter per route, and an outage switch.

The Aptible emulator (``app.py``) is the full model with scripted faults; these emulators serve
only the endpoints reducers' SDK calls use, with each service's own status codes and error
bodies. An outage (``app.outage = 503``) answers every request with that status and the
service's error body, which is how tests show a hook falling back when the service is down;
stopping the server shows an unreachable one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Builds the service's error response for a status (its own JSON body and headers).
ErrorResponder = Callable[[int, str], Response]
#: Whether a request carries the credentials the emulator accepts.
Authorizer = Callable[[Request], bool]


class ServiceApp:
    """ASGI app of one emulated service.

    ``counters`` counts requests per ``"GET /users/{id}"`` route key (unknown paths count under
    ``"(unknown)"``); ``outage`` set to a status makes every request fail with it; ``state`` is
    the data the routes serve.
    """

    def __init__(
        self,
        name: str,
        routes: list[Route],
        *,
        authorized: Authorizer,
        error: ErrorResponder,
        state: Any = None,
    ) -> None:
        self.name = name
        self.state = state
        """What the routes serve (``PagerDutyState``...): tests change it in place."""
        self.routes = routes
        self.counters: Counter[str] = Counter()
        self.outage: int | None = None
        self._authorized = authorized
        self._error = error
        self._starlette = Starlette(routes=routes)

    def route_key(self, scope: Scope) -> str:
        method = str(scope.get("method", "GET"))
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return f"{method} {route.path}"
        return f"{method} (unknown)"

    def count(self, key: str) -> int:
        return self.counters[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._starlette(scope, receive, send)
            return
        key = self.route_key(scope)
        self.counters[key] += 1
        request = Request(scope, receive)
        if self.outage is not None:
            response = self._error(self.outage, f"{self.name} is unavailable (emulated outage)")
        elif not self._authorized(request):
            response = self._error(401, "invalid or missing credentials")
        elif key.endswith("(unknown)"):
            response = self._error(404, f"no such endpoint {request.url.path}")
        else:
            await self._starlette(scope, receive, send)
            return
        await response(scope, receive, send)


def json_error(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


def query_list(request: Request, name: str) -> list[str]:
    """Every value of a repeated query key, accepting both ``name[]`` and ``name``."""
    return [*request.query_params.getlist(f"{name}[]"), *request.query_params.getlist(name)]


def query_int(request: Request, name: str, default: int, *, low: int = 0, high: int = 10**6) -> int:
    """An integer query parameter, clamped to ``[low, high]``; ``ValueError`` when not a number."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    return max(low, min(high, int(raw)))
