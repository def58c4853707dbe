"""AWS Lambda calls from reducers: importable, not offered by jitflow yet."""

from __future__ import annotations

from typing import Any

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import AWSLambdaError

__all__ = ["AWSLambdaError", "invoke", "invoke_async"]

_WHY = "jitflow does not invoke AWS Lambda functions yet"


def invoke(arn: str, payload: Any = None) -> Any:
    raise not_available("aws_lambda.invoke", _WHY)


def invoke_async(arn: str, payload: Any = None) -> bool:
    raise not_available("aws_lambda.invoke_async", _WHY)
