"""What the SDK's integration calls need from the worker: built once, shared by every thread.

``IntegrationServices`` holds the secret reader (Secrets Manager, for the integrations' tokens
and ``Secret.retrieve_value``), the identity store (stored service identities and
``persist_user_identity``), one HTTP client with timeouts, the boto3 Lambda clients, and the
base URL overrides that point a service at a local emulator (tests, ``jitflow dev``). Reducers
run on the worker's activity threads: everything here is safe to share between them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

import boto3
import httpx
from botocore.config import Config

from jitflow.config.models import SecretRef
from jitflow.contracts.names import SLACK_API_URL_ENV

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient as BotoLambda

#: Environment variables that point an integration at another base URL (an emulator). AWS
#: Lambda also follows boto3's own ``AWS_ENDPOINT_URL_LAMBDA`` and ``AWS_ENDPOINT_URL``; Slack's
#: is the one Slack delivery reads too, so reducers and delivery talk to the same Slack.
ENDPOINT_ENV: dict[str, str] = {
    "pagerduty": "JITFLOW_PAGERDUTY_URL",
    "okta": "JITFLOW_OKTA_URL",
    "knowbe4": "JITFLOW_KNOWBE4_URL",
    "aws_lambda": "JITFLOW_LAMBDA_URL",
    "slack": SLACK_API_URL_ENV,
}
FALLBACK_REGION = "us-east-1"


class SecretValues(Protocol):
    """Reads a ``sym_secret``'s value now, on the calling thread (``SecretReader.read_now``)."""

    def read_now(self, ref: SecretRef) -> str: ...


class IdentityRecords(Protocol):
    """The identity store's service identities (``IdentityStore`` has these methods)."""

    def get_identity(self, email: str, service_type: str, external_id: str) -> str | None: ...

    def set_identity(
        self, email: str, service_type: str, external_id: str, service_user_id: str
    ) -> object: ...


class IntegrationServices:
    """The worker's means for integration calls. Without ``secrets``, no integration can read
    its token, and calls say so; without ``identities``, no identity is stored or read."""

    def __init__(
        self,
        *,
        secrets: SecretValues | None = None,
        identities: IdentityRecords | None = None,
        endpoints: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        connect_timeout_seconds: float = 5.0,
        read_timeout_seconds: float = 15.0,
        lambda_read_timeout_seconds: float = 60.0,
        aws_session: boto3.session.Session | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        from_env = {name: env[var] for name, var in ENDPOINT_ENV.items() if env.get(var)}
        self.secrets = secrets
        self.identities = identities
        self.endpoints: dict[str, str] = {**from_env, **(endpoints or {})}
        self._region_env = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        self._timeout = httpx.Timeout(read_timeout_seconds, connect=connect_timeout_seconds)
        self._boto_config = Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=connect_timeout_seconds,
            read_timeout=lambda_read_timeout_seconds,
        )
        self._aws_session = aws_session
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._lambda: dict[str, BotoLambda] = {}

    def __repr__(self) -> str:
        return (
            f"IntegrationServices(secrets={'yes' if self.secrets else 'no'}, "
            f"identities={'yes' if self.identities else 'no'}, endpoints={self.endpoints!r})"
        )

    def endpoint(self, name: str) -> str | None:
        """The base URL override of integration ``name``, if any."""
        return self.endpoints.get(name)

    def http(self) -> httpx.Client:
        """The HTTP client every integration shares (connection reuse, timeouts on every call)."""
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(timeout=self._timeout, follow_redirects=False)
            return self._http

    def lambda_client(self, region: str | None) -> BotoLambda:
        """A Lambda client for ``region`` (else the worker's region), made once per region.

        boto3 retries nothing here (one attempt): an invocation that timed out may have run,
        and retrying is the activity's decision, not a hidden second call's.
        """
        chosen = region or self._region_env
        with self._lock:
            client = self._lambda.get(chosen or "")
            if client is None:
                session = self._aws_session or boto3.session.Session()
                client = session.client(
                    "lambda",
                    region_name=chosen or session.region_name or FALLBACK_REGION,
                    endpoint_url=self.endpoints.get("aws_lambda"),
                    config=self._boto_config,
                )
                self._lambda[chosen or ""] = client
            return client

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None
