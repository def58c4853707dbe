"""Fixtures of the integration tests: moto for the tokens in Secrets Manager, an emulator per
service on loopback, and the worker's ``IntegrationServices`` pointed at them."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # reducer_test_support

from integration_support import (
    RunningSlack,
    decider,
    knowbe4_state,
    okta_state,
    pagerduty_state,
    running_slack,
    secret,
    slack_state,
)

from activities.secrets import SecretReader
from jitflow.config.models import SecretRef
from jitflow.emulator.knowbe4 import create_knowbe4_app
from jitflow.emulator.lambda_api import LambdaState, create_lambda_app
from jitflow.emulator.okta import create_okta_app
from jitflow.emulator.pagerduty import create_pagerduty_app
from jitflow.emulator.slack_state import DEFAULT_BOT_TOKEN
from jitflow.integrations import IntegrationServices
from jitflow.integrations.slack import ACCOUNTS
from jitflow.testing.moto_server import (
    DUMMY_ACCESS_KEY_ID,
    DUMMY_SECRET_ACCESS_KEY,
    MotoServer,
    create_secret,
)
from jitflow.testing.service_emulators import (
    KNOWBE4_TOKEN,
    OKTA_TOKEN,
    PAGERDUTY_TOKEN,
    RunningService,
    start,
    stop_all,
)

_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "JITFLOW_PAGERDUTY_URL",
    "JITFLOW_OKTA_URL",
    "JITFLOW_KNOWBE4_URL",
    "JITFLOW_LAMBDA_URL",
    "JITFLOW_SLACK_API_URL",
)


@pytest.fixture(autouse=True)
def aws_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Dummy keys, no endpoints, no AWS config files: each test says where AWS is."""
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path_factory.mktemp("aws")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with MotoServer() as server:
        yield server.url


@pytest.fixture(scope="session")
def tokens(moto_url: str) -> dict[str, SecretRef]:
    """Each service's API token in Secrets Manager, as the ``sym_secret`` naming it."""
    base = f"sym/test/{uuid.uuid4().hex[:10]}"
    create_secret(moto_url, f"{base}/pagerduty", PAGERDUTY_TOKEN)
    create_secret(moto_url, f"{base}/okta", {"token": OKTA_TOKEN})
    create_secret(moto_url, f"{base}/knowbe4", KNOWBE4_TOKEN)
    create_secret(moto_url, f"{base}/victorops", "victorops-api-key")
    create_secret(moto_url, f"{base}/slack", DEFAULT_BOT_TOKEN)
    create_secret(moto_url, f"{base}/slack-revoked", "xoxb-revoked-0000-token")
    return {
        "pagerduty": secret("pagerduty_token", f"{base}/pagerduty"),
        "okta": secret("okta_token", f"{base}/okta", json_key="token"),
        "knowbe4": secret("knowbe4_token", f"{base}/knowbe4"),
        "victorops": secret("victorops_key", f"{base}/victorops"),
        "slack": secret("slack_bot_token", f"{base}/slack"),
        "slack_revoked": secret("slack_revoked_token", f"{base}/slack-revoked"),
        "missing": secret("missing_token", f"{base}/not-there"),
    }


@pytest.fixture
def lambda_state() -> LambdaState:
    return LambdaState(functions={"decider": decider})


@pytest.fixture
def emulators(lambda_state: LambdaState) -> Iterator[dict[str, RunningService]]:
    """Every service's emulator, each with its example state, stopped together afterwards."""
    running = {
        "pagerduty": start(create_pagerduty_app(pagerduty_state())),
        "okta": start(create_okta_app(okta_state())),
        "knowbe4": start(create_knowbe4_app(knowbe4_state())),
        "aws_lambda": start(create_lambda_app(lambda_state)),
    }
    yield running
    stop_all(running.values())


@pytest.fixture
def pd_service(emulators: dict[str, RunningService]) -> RunningService:
    return emulators["pagerduty"]


@pytest.fixture
def okta_service(emulators: dict[str, RunningService]) -> RunningService:
    return emulators["okta"]


@pytest.fixture
def kb4_service(emulators: dict[str, RunningService]) -> RunningService:
    return emulators["knowbe4"]


@pytest.fixture
def lambda_service(emulators: dict[str, RunningService]) -> RunningService:
    return emulators["aws_lambda"]


@pytest.fixture(scope="session")
def secret_reader(moto_url: str) -> SecretReader:
    """One reader for the session: its cache is what a worker's is, and making a boto3 client
    per test would cost more than the tests."""
    return SecretReader(endpoint_url=moto_url, region_name="us-east-1")


@pytest.fixture
def services(
    secret_reader: SecretReader,
    emulators: dict[str, RunningService],
) -> Iterator[IntegrationServices]:
    """The worker's integration services, every service pointed at its emulator."""
    made = IntegrationServices(
        secrets=secret_reader,
        endpoints={name: service.base_url for name, service in emulators.items()},
        aws_session=boto3.session.Session(region_name="us-east-1"),
        read_timeout_seconds=5.0,
    )
    yield made
    made.close()


@pytest.fixture(autouse=True)
def fresh_slack_accounts() -> Iterator[None]:
    """The Slack accounts the process keeps (``jitflow.integrations.slack.ACCOUNTS``) are
    forgotten around each test: each test's workspace is its own, whatever its URL."""
    ACCOUNTS.clear()
    yield
    ACCOUNTS.clear()


@pytest.fixture
def workspace() -> Iterator[RunningSlack]:
    """The Slack emulator with ``slack_state()``'s workspace; its bot token is ``tokens["slack"]``."""
    with running_slack(slack_state()) as running:
        yield running


@pytest.fixture
def slack_services(
    secret_reader: SecretReader, workspace: RunningSlack
) -> Iterator[IntegrationServices]:
    """The worker's integration services with Slack pointed at the emulator."""
    made = IntegrationServices(secrets=secret_reader, endpoints={"slack": workspace.api_url})
    yield made
    made.close()
