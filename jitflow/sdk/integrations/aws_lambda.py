"""Sym's AWS Lambda helpers, through boto3's ``Invoke``.

They need the flow's ``aws_lambda`` integration (Sym's ``aws_lambda_id`` in the
``sym_environment``, usually a ``permission_context``; or a ``sym_integration`` of type
``aws_lambda``), whose ``region`` setting they follow. The worker's own AWS identity invokes the
function. Anything that goes wrong raises ``AWSLambdaError`` (``FUNCTION_NOT_FOUND``,
``FATAL_FUNCTION_ERROR`` when the function raised, ``UNREACHABLE``...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jitflow.sdk._context import current_hub
from jitflow.sdk.exceptions import AWSLambdaError

if TYPE_CHECKING:
    from jitflow.integrations.aws_lambda import LambdaInvoker

__all__ = ["AWSLambdaError", "invoke", "invoke_async"]


def _client(function: str) -> LambdaInvoker:
    """The flow's aws_lambda client for SDK function ``function``, or ``AWSLambdaError`` saying why not."""
    return current_hub(function, AWSLambdaError).aws_lambda()


def invoke(arn: str, payload: Any = None) -> Any:
    """Run the function now and return what it returned (JSON-decoded). ``payload`` is a dict
    of JSON data or an ``Event``."""
    return _client("aws_lambda.invoke").invoke(arn, payload)


def invoke_async(arn: str, payload: Any = None) -> bool:
    """Queue a run of the function; True once Lambda accepted it."""
    return _client("aws_lambda.invoke_async").invoke_async(arn, payload)
