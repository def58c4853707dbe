"""Sym's ``aws_lambda`` helpers through boto3 against the Lambda emulator (moto's Lambda runs
functions in Docker, which the tests do not have)."""

from __future__ import annotations

from typing import Any

import pytest
from integration_support import config_with, integration, sdk_call
from reducers.exceptions import AWSLambdaError

from jitflow.config.models import JitflowConfig
from jitflow.emulator.lambda_api import LambdaState
from jitflow.integrations import IntegrationServices
from jitflow.testing.service_emulators import RunningService
from reducers import aws_lambda

ARN = "arn:aws:lambda:us-east-1:123456789012:function:decider"


@pytest.fixture
def config() -> JitflowConfig:
    context = integration(
        "lambda_context", "permission_context", "123456789012", settings={"region": "us-east-1"}
    )
    return config_with(None, [context], environment={"aws_lambda": "lambda_context"})


def failing(event: Any, context: dict[str, Any]) -> Any:
    raise ValueError("cannot decide today")


def test_invoke_returns_the_functions_json_and_invoke_async_queues(
    config: JitflowConfig,
    services: IntegrationServices,
    lambda_service: RunningService,
    lambda_state: LambdaState,
) -> None:
    with sdk_call(config, services):
        assert aws_lambda.invoke(ARN, {"reason": "JIRA-1", "email": "a@x.com"}) == {
            "decision": "approve",
            "why": "ticket in reason for a@x.com",
        }
        assert aws_lambda.invoke("decider", {"reason": "none"})["decision"] == "deny"
        assert aws_lambda.invoke_async(ARN, {"reason": "later"}) is True
    kinds = [(i.function, i.kind) for i in lambda_state.invocations]
    assert kinds == [("decider", "RequestResponse")] * 2 + [("decider", "Event")]


def test_function_errors_missing_functions_and_bad_payloads(
    config: JitflowConfig,
    services: IntegrationServices,
    lambda_service: RunningService,
    lambda_state: LambdaState,
) -> None:
    lambda_state.functions["failing"] = failing
    with sdk_call(config, services):
        with pytest.raises(AWSLambdaError) as raised:
            aws_lambda.invoke("failing", {})
        with pytest.raises(AWSLambdaError) as missing:
            aws_lambda.invoke("arn:aws:lambda:us-east-1:123456789012:function:nope")
        with pytest.raises(AWSLambdaError) as payload:
            aws_lambda.invoke(ARN, {"when": object()})
    assert raised.value.error_code == "AWSLambda:FATAL_FUNCTION_ERROR"
    assert "ValueError: cannot decide today" in str(raised.value)
    assert missing.value.error_code == "AWSLambda:FUNCTION_NOT_FOUND"
    assert "ResourceNotFoundException: Function not found" in str(missing.value)
    assert payload.value.error_code == "AWSLambda:INVALID_PAYLOAD"


def test_unreachable_and_unconfigured_lambda(
    config: JitflowConfig, services: IntegrationServices, lambda_service: RunningService
) -> None:
    lambda_service.stop()
    with sdk_call(config, services), pytest.raises(AWSLambdaError) as down:
        aws_lambda.invoke(ARN, {})
    assert down.value.error_code == "AWSLambda:UNREACHABLE"
    with sdk_call(config_with(None, []), services), pytest.raises(AWSLambdaError) as missing:
        aws_lambda.invoke(ARN, {})
    assert missing.value.error_code == "AWSLambda:NOT_CONFIGURED"
    assert "aws_lambda_id = sym_integration" in str(missing.value)


def test_an_aws_lambda_integration_needs_no_environment_entry(
    services: IntegrationServices, lambda_service: RunningService
) -> None:
    direct = config_with(None, [integration("fn", "aws_lambda", "123456789012")])
    with sdk_call(direct, services):
        assert aws_lambda.invoke(ARN, {"reason": "JIRA-9"})["decision"] == "approve"
