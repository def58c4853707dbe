"""Sym's ``aws_lambda.invoke`` and ``invoke_async`` through boto3's Lambda ``Invoke``.

Sym reaches Lambda through the environment's ``aws_lambda_id`` integration (a
``permission_context`` whose ``settings`` carry ``region`` and the role Sym's runtime assumes).
jitflow invokes with the worker's own AWS identity (the standard credential chain, as for
Secrets Manager), in the integration's ``region`` when it names one; the endpoint is boto3's
(``AWS_ENDPOINT_URL_LAMBDA``, ``AWS_ENDPOINT_URL``) unless the worker overrides it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from botocore import exceptions as boto_errors
from botocore.exceptions import ClientError
from pydantic import BaseModel

from jitflow.sdk.exceptions import AWSLambdaError

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient as BotoLambda

_ERROR_NAMES: dict[str, str] = {
    "ResourceNotFoundException": "FUNCTION_NOT_FOUND",
    "AccessDeniedException": "ACCESS_DENIED",
    "UnrecognizedClientException": "ACCESS_DENIED",
    "InvalidSignatureException": "ACCESS_DENIED",
    "ExpiredTokenException": "ACCESS_DENIED",
    "TooManyRequestsException": "THROTTLED",
    "InvalidRequestContentException": "INVALID_PAYLOAD",
    "RequestTooLargeException": "INVALID_PAYLOAD",
    "ServiceException": "SERVICE_ERROR",
}
_MAX_MESSAGE = 300


class LambdaInvoker:
    """Invokes functions for one reducer call, through a client the worker shares."""

    def __init__(self, client: BotoLambda) -> None:
        self._client = client

    def invoke(self, arn: str, payload: Any = None) -> Any:
        """Run the function and return its JSON-decoded result; a function that raised is
        ``AWSLambdaError("FATAL_FUNCTION_ERROR")`` with its own error message."""
        response = self._call(arn, payload, "RequestResponse")
        raw = response["Payload"].read() if "Payload" in response else b""
        body = _decode(raw, arn)
        if response.get("FunctionError"):
            detail = body.get("errorMessage") if isinstance(body, dict) else None
            kind = body.get("errorType") if isinstance(body, dict) else None
            raise AWSLambdaError(
                "FATAL_FUNCTION_ERROR",
                f"Lambda function {arn} failed"
                + (f" with {kind}" if kind else "")
                + (f": {_short(str(detail))}" if detail else ""),
            )
        return body

    def invoke_async(self, arn: str, payload: Any = None) -> bool:
        """Queue the function's run (``Event`` invocation); True once Lambda accepted it."""
        response = self._call(arn, payload, "Event")
        return int(response.get("StatusCode", 0)) == 202

    def _call(self, arn: str, payload: Any, kind: str) -> Any:
        if not isinstance(arn, str) or not arn.strip():
            raise AWSLambdaError("INVALID_ARGUMENT", f"aws_lambda: {arn!r} is no function ARN")
        body = _encode(payload)
        try:
            if kind == "Event":
                return self._client.invoke(FunctionName=arn, InvocationType="Event", Payload=body)
            return self._client.invoke(
                FunctionName=arn, InvocationType="RequestResponse", Payload=body
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            message = str(error.response.get("Error", {}).get("Message", "")).strip()
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            name = _ERROR_NAMES.get(code) or (
                "ACCESS_DENIED"
                if status == 403
                else "SERVICE_ERROR"
                if status >= 500
                else "INVOKE_FAILED"
            )
            raise AWSLambdaError(
                name,
                f"AWS Lambda refused to invoke {arn}: {code or f'HTTP {status}'}"
                + (f": {_short(message)}" if message else ""),
            ) from None
        except (boto_errors.NoCredentialsError, boto_errors.PartialCredentialsError) as error:
            raise AWSLambdaError(
                "NO_CREDENTIALS",
                f"the worker has no usable AWS credentials to invoke {arn} ({type(error).__name__})",
            ) from None
        except (boto_errors.ConnectionError, boto_errors.HTTPClientError) as error:
            raise AWSLambdaError(
                "UNREACHABLE",
                f"could not reach AWS Lambda to invoke {arn} ({type(error).__name__})",
            ) from None
        except boto_errors.BotoCoreError as error:
            raise AWSLambdaError(
                "INVOKE_FAILED", f"invoking {arn} failed ({type(error).__name__})"
            ) from None


def _encode(payload: Any) -> bytes:
    """The payload as JSON: a dict as it is, an ``Event`` (any model) as its data."""
    if payload is None:
        payload = {}
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    try:
        return json.dumps(payload, default=_fallback).encode()
    except (TypeError, ValueError) as error:
        raise AWSLambdaError(
            "INVALID_PAYLOAD", f"aws_lambda: the payload is not JSON-serializable ({error})"
        ) from None


def _fallback(value: Any) -> Any:
    """What JSON lacks but SDK objects hold: models (``User``...), times, ids, enums."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON data")


def _decode(raw: bytes, arn: str) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise AWSLambdaError(
            "INVALID_RESPONSE", f"Lambda function {arn} returned something that is not JSON"
        ) from None


def _short(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "..."
