"""The emulator's ASGI application: the Aptible routes and the admin routes, behind the layer that
counts requests per route and injects faults.

That layer is the outermost ASGI callable so that a "dropped connection" really closes the socket
with no response at all: it reaches uvicorn's connection through the ``send`` callable it is given
(uvicorn's h11 request cycle, which holds the transport). Run the app with ``http="h11"``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from jitflow.emulator.admin_routes import (
    ADMIN_PREFIX,
    AdminError,
    admin_error_response,
    admin_routes,
)
from jitflow.emulator.aptible_routes import aptible_routes
from jitflow.emulator.faults import FaultConfig, FaultPlan
from jitflow.emulator.hal import ApiError, error_response
from jitflow.emulator.runtime import EmulatorRuntime
from jitflow.emulator.settings import EmulatorSettings
from jitflow.emulator.state import EmulatorState

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

__all__ = ["ADMIN_PREFIX", "EmulatorApp", "create_app"]


def route_key(method: str, template: str) -> str:
    """The counter and fault key of a route: ``"POST /roles/{role}/memberships"``."""
    return f"{method.upper()} {template}"


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _admin_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AdminError)
    return admin_error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    key = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
    return error_response(ApiError(exc.status_code, key, str(exc.detail)))


async def _drop_connection(send: Send) -> None:
    """Close the client's socket without writing a byte of response."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError(
            "cannot drop the connection: run the emulator on uvicorn with http='h11'"
        )
    transport.close()
    for _ in range(3):  # let uvicorn see the connection is lost before the app returns
        await asyncio.sleep(0)


async def _send_error(send: Send, status: int, error: str, headers: dict[str, str]) -> None:
    response = error_response(
        ApiError(status, error, f"Injected fault: {error.replace('_', ' ')}", headers)
    )
    await response({"type": "http"}, _no_receive, send)


async def _buffered(receive: Receive) -> Receive:
    """Read the whole request body now; the returned callable replays it."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return replay


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


class EmulatorApp:
    """ASGI callable: counts and faults Aptible requests, then hands every request to Starlette."""

    def __init__(self, runtime: EmulatorRuntime) -> None:
        self.runtime = runtime
        self._aptible_routes = aptible_routes(runtime)
        keys = frozenset(
            route_key(method, route.path)
            for route in self._aptible_routes
            for method in (route.methods or ())
            if method != "HEAD"
        )
        self.route_keys = keys
        self.starlette = Starlette(
            routes=[*self._aptible_routes, *admin_routes(runtime, keys)],
            exception_handlers={
                ApiError: _api_error,
                AdminError: _admin_error,
                HTTPException: _http_error,
            },
        )

    def key_of(self, scope: Scope) -> str:
        method = str(scope["method"])
        partial: Route | None = None
        for route in self._aptible_routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route_key(method, route.path)
            if match is Match.PARTIAL and partial is None:
                partial = route
        return route_key(method, partial.path if partial else "(unknown)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith(ADMIN_PREFIX):
            await self.starlette(scope, receive, send)
            return
        key = self.key_of(scope)
        self.runtime.counters[key] += 1
        plan = self.runtime.faults.plan(key)
        if plan.delay_before:
            # The request has reached "Aptible": read it now, so that it is still acted on when
            # the client gives up waiting, as a real server would.
            receive = await _buffered(receive)
            await asyncio.sleep(plan.delay_before)
        if plan.phase == "before" and plan.action is not None:
            await self._fail(plan, send)
            return
        if plan.action is None and not plan.delay_after:
            await self.starlette(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.starlette(scope, receive, hold)
        if plan.delay_after:
            await asyncio.sleep(plan.delay_after)
        if plan.action is not None:
            await self._fail(plan, send)
            return
        for message in held:
            await send(message)

    async def _fail(self, plan: FaultPlan, send: Send) -> None:
        if plan.action == "drop":
            await _drop_connection(send)
        elif plan.action == "unauthorized":
            await _send_error(send, 401, "invalid_token", {})
        elif plan.action == "rate_limit":
            await _send_error(send, 429, "rate_limited", {"Retry-After": str(plan.retry_after)})
        else:
            await _send_error(send, plan.status, "internal_server_error", {})


def create_app(
    state: EmulatorState | None = None,
    *,
    settings: EmulatorSettings | None = None,
    faults: FaultConfig | None = None,
    state_path: Path | None = None,
) -> EmulatorApp:
    """Build the emulator; with ``state_path``, each change is saved to that file atomically."""
    runtime = EmulatorRuntime(
        state or EmulatorState(), settings=settings, faults=faults, state_path=state_path
    )
    app = EmulatorApp(runtime)
    unknown = sorted(runtime.faults.config.route_keys() - app.route_keys)
    if unknown:
        raise ValueError(f"fault configuration names unknown route {unknown[0]!r}")
    return app
