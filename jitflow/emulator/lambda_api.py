"""A local stand-in for AWS Lambda's ``Invoke`` API, running Python handlers in-process.

moto emulates Lambda by running functions in Docker, which jitflow's tests and dev stack do not
have, so this serves ``POST /2015-03-31/functions/{FunctionName}/invocations`` itself: boto3 is
pointed at it (``endpoint_url``, ``AWS_ENDPOINT_URL_LAMBDA``) and each function is a Python
callable ``handler(event, context)``. As Lambda does: ``X-Amz-Invocation-Type`` is
``RequestResponse`` (200 with the result), ``Event`` (202, run and forgotten) or ``DryRun``
(204); a handler that raises answers 200 with ``X-Amz-Function-Error: Unhandled`` and an
``errorMessage``/``errorType`` body; an unknown function is 404 ``ResourceNotFoundException``
and a body that is not JSON is 400 ``InvalidRequestContentException``, each named in
``x-amzn-ErrorType``. Requests must be SigV4-signed (any key: this is no IAM).
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jitflow.emulator.service import ServiceApp

#: A function: ``handler(event, context)`` returning JSON data, as a Python Lambda handler does.
Handler = Callable[[Any, dict[str, Any]], Any]

_ERROR_TYPES = {
    400: "InvalidRequestContentException",
    401: "UnrecognizedClientException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    429: "TooManyRequestsException",
}
ACCOUNT_ID = "123456789012"


@dataclass
class Invocation:
    """One call the emulator received, for tests to assert on."""

    function: str
    kind: str
    payload: Any
    error: str | None = None


@dataclass
class LambdaState:
    """The functions by name, and every invocation received."""

    functions: dict[str, Handler] = field(default_factory=dict)
    invocations: list[Invocation] = field(default_factory=list)
    region: str = "us-east-1"

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"


def function_name(identifier: str) -> str:
    """``arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`` or a bare name."""
    parts = identifier.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[5] == "function":
        return parts[6]
    return identifier.split(":")[0]


def error_response(status: int, message: str, kind: str | None = None) -> Response:
    kind = kind or _ERROR_TYPES.get(status, "ServiceException")
    body = {"Type": "User" if status < 500 else "Service", "message": message}
    return JSONResponse(body, status_code=status, headers={"x-amzn-ErrorType": kind})


def create_lambda_app(state: LambdaState) -> ServiceApp:
    """The emulator over ``state``'s functions."""

    async def invoke(request: Request) -> Response:
        identifier = request.path_params["function"]
        name = function_name(identifier)
        handler = state.functions.get(name)
        if handler is None:
            return error_response(404, f"Function not found: {state.arn(name)}")
        raw = await request.body()
        try:
            event = json.loads(raw) if raw else {}
        except ValueError as error:
            return error_response(400, f"Could not parse request body into json: {error}")
        kind = request.headers.get("x-amz-invocation-type", "RequestResponse")
        if kind not in ("RequestResponse", "Event", "DryRun"):
            return error_response(400, f"Invalid invocation type {kind!r}")
        record = Invocation(function=name, kind=kind, payload=event)
        state.invocations.append(record)
        if kind == "DryRun":
            return Response(status_code=204)
        context = {"function_name": name, "invoked_function_arn": state.arn(name)}
        try:
            result = await run_in_threadpool(handler, event, context)
        except Exception as error:
            record.error = f"{type(error).__name__}: {error}"
            if kind == "Event":
                return Response(status_code=202)
            body = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_tb(error.__traceback__),
            }
            return JSONResponse(
                body,
                headers={"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "$LATEST"},
            )
        if kind == "Event":
            return Response(status_code=202)
        return JSONResponse(result, headers={"X-Amz-Executed-Version": "$LATEST"})

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 ")

    routes = [
        Route("/2015-03-31/functions/{function}/invocations", invoke, methods=["POST"]),
    ]
    return ServiceApp("AWS Lambda", routes, authorized=authorized, error=_error, state=state)


def _error(status: int, message: str) -> Response:
    if status == 401:  # what Lambda says to a request without a signature
        return error_response(
            403, "Missing Authentication Token", "MissingAuthenticationTokenException"
        )
    return error_response(status, message)
