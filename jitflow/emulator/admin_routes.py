"""The emulator's own admin API, under ``/_emulator/`` (outside every Aptible path).

Faults (``GET``/``PUT``/``DELETE /faults``, ``POST /faults/scripted``), request counters
(``GET``/``DELETE /counters``), a role's current memberships, the whole state
(``GET``/``PUT /state``), settings (``GET``/``PUT /settings``) and forced token expiry
(``POST /tokens/expire``). Admin requests are neither counted nor subject to faults.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jitflow.emulator.faults import FaultConfig, ScriptedFault
from jitflow.emulator.runtime import EmulatorRuntime
from jitflow.emulator.settings import EmulatorSettings
from jitflow.emulator.state import EmulatorState, StateError

ADMIN_PREFIX = "/_emulator"

_M = TypeVar("_M", bound=BaseModel)


class AdminError(Exception):
    """A bad admin request; answered 422 (or 404) with the message naming the bad value."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def admin_error_response(error: AdminError) -> Response:
    return JSONResponse({"error": "bad_admin_request", "message": error.message}, error.status)


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except json.JSONDecodeError as exc:
        raise AdminError(f"request body is not valid JSON: {exc}") from None


def _validate(model: type[_M], data: Any) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise AdminError(
            f"invalid {model.__name__} at {where}: {first['msg']} (got {first.get('input')!r})"
        ) from None


class AdminHandlers:
    def __init__(self, runtime: EmulatorRuntime, route_keys: frozenset[str]) -> None:
        self.runtime = runtime
        self.route_keys = route_keys

    def _check_routes(self, named: set[str]) -> None:
        unknown = sorted(named - self.route_keys)
        if unknown:
            raise AdminError(
                f"unknown route key {unknown[0]!r}; known: {', '.join(sorted(self.route_keys))}"
            )

    async def get_faults(self, request: Request) -> Response:
        return JSONResponse(self.runtime.faults.config.model_dump(mode="json"))

    async def put_faults(self, request: Request) -> Response:
        config = _validate(FaultConfig, await _json(request))
        self._check_routes(config.route_keys())
        self.runtime.faults.configure(config)
        return JSONResponse(config.model_dump(mode="json"))

    async def add_scripted_fault(self, request: Request) -> Response:
        fault = _validate(ScriptedFault, await _json(request))
        self._check_routes({fault.route} - {"*"})
        self.runtime.faults.add_scripted(fault)
        return JSONResponse(self.runtime.faults.config.model_dump(mode="json"), 201)

    async def clear_faults(self, request: Request) -> Response:
        self.runtime.faults.configure(FaultConfig())
        return Response(status_code=204)

    async def get_counters(self, request: Request) -> Response:
        counts = dict(sorted(self.runtime.counters.items()))
        return JSONResponse({"counts": counts, "total": sum(counts.values())})

    async def reset_counters(self, request: Request) -> Response:
        self.runtime.counters.clear()
        return Response(status_code=204)

    async def role_memberships(self, request: Request) -> Response:
        state = self.runtime.state
        role_id = request.path_params["role"].lower()
        if role_id not in state.roles:
            raise AdminError(f"unknown role {role_id!r}", status=404)
        rows = [
            {
                "id": m.id,
                "user_id": m.user_id,
                "email": state.users[m.user_id].email,
                "privileged": m.privileged,
            }
            for m in state.role_memberships(role_id)
        ]
        return JSONResponse(rows)

    async def get_state(self, request: Request) -> Response:
        return JSONResponse(self.runtime.state.to_dict())

    async def put_state(self, request: Request) -> Response:
        try:
            state = EmulatorState.from_dict(await _json(request), source="state")
        except StateError as exc:
            raise AdminError(str(exc)) from None
        self.runtime.state = state
        self.runtime.changed()
        return Response(status_code=204)

    async def get_settings(self, request: Request) -> Response:
        return JSONResponse(self.runtime.settings.model_dump(mode="json"))

    async def put_settings(self, request: Request) -> Response:
        current = self.runtime.settings.model_dump()
        changes = await _json(request)
        if not isinstance(changes, dict):
            raise AdminError(f"settings must be a JSON object, not {changes!r}")
        self.runtime.settings = _validate(EmulatorSettings, {**current, **changes})
        return JSONResponse(self.runtime.settings.model_dump(mode="json"))

    async def expire_tokens(self, request: Request) -> Response:
        expired = self.runtime.state.expire_all_tokens()
        self.runtime.changed()
        return JSONResponse({"expired": expired})


def admin_routes(runtime: EmulatorRuntime, route_keys: frozenset[str]) -> list[Route]:
    h = AdminHandlers(runtime, route_keys)
    p = ADMIN_PREFIX
    return [
        Route(f"{p}/faults", h.get_faults, methods=["GET"]),
        Route(f"{p}/faults", h.put_faults, methods=["PUT"]),
        Route(f"{p}/faults", h.clear_faults, methods=["DELETE"]),
        Route(f"{p}/faults/scripted", h.add_scripted_fault, methods=["POST"]),
        Route(f"{p}/counters", h.get_counters, methods=["GET"]),
        Route(f"{p}/counters", h.reset_counters, methods=["DELETE"]),
        Route(f"{p}/roles/{{role}}/memberships", h.role_memberships, methods=["GET"]),
        Route(f"{p}/state", h.get_state, methods=["GET"]),
        Route(f"{p}/state", h.put_state, methods=["PUT"]),
        Route(f"{p}/settings", h.get_settings, methods=["GET"]),
        Route(f"{p}/settings", h.put_settings, methods=["PUT"]),
        Route(f"{p}/tokens/expire", h.expire_tokens, methods=["POST"]),
    ]
