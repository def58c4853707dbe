"""Read ``sym_secret`` values from AWS Secrets Manager, with a short per-worker cache.

A ``SecretRef`` names a secret (``path``, its name or ARN) and, optionally, one ``json_key``
inside a JSON value, the layout Sym recommends for the Aptible bot (one secret holding
``{"username": ..., "password": ...}``). The endpoint and credentials come from boto3's own
environment handling (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_SECRETS_MANAGER``, the credential
chain); the region from ``AWS_REGION``, then ``AWS_DEFAULT_REGION``/the AWS config, then us-east-1.

boto3 blocks, so every call runs in a worker thread. The cache holds each secret's string for
``ttl_seconds`` (rotation takes effect once it expires) and is keyed by the secret's path, so the
username and password kept in one JSON secret cost one AWS call, and concurrent reads of a
secret wait for the one call in flight instead of making their own. Values never appear in an
error, log line or repr.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore import exceptions as boto_errors
from botocore.config import Config
from botocore.exceptions import ClientError

from activities.secrets_errors import (
    SecretAccessDenied,
    SecretError,
    SecretKeyMissing,
    SecretNotFound,
    SecretNotJson,
    SecretsManagerUnavailable,
    SecretValueUnusable,
)
from jitflow.config.models import SecretRef

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

#: The region when neither the caller, AWS_REGION, AWS_DEFAULT_REGION nor the AWS config has one.
FALLBACK_REGION = "us-east-1"
DEFAULT_TTL_SECONDS = 60.0

_ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredTokenException",
        "DecryptionFailure",
    }
)
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalServiceError",
        "InternalFailure",
        "ServiceUnavailable",
    }
)
_XML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.DOTALL)
_MAX_AWS_MESSAGE = 300
_MAX_KEYS_LISTED = 10


@dataclass(frozen=True)
class _CachedSecret:
    value: str
    expires_at: float

    def __repr__(self) -> str:
        return f"_CachedSecret(expires_at={self.expires_at!r})"


class SecretReader:
    """Reads secrets for one worker; share one instance between activities.

    ``ttl_seconds`` is how long a value is reused (0 turns the cache off). ``endpoint_url``,
    ``region_name`` and ``session`` override boto3's environment handling, for callers that must
    not depend on it (tests with several emulators, a CLI flag). ``max_attempts`` bounds boto3's
    own retries of throttling and connection errors before a retryable error is raised.
    """

    def __init__(
        self,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        session: boto3.session.Session | None = None,
        max_attempts: int = 3,
        connect_timeout_seconds: float = 5.0,
        read_timeout_seconds: float = 10.0,
        executor: Executor | None = None,
    ) -> None:
        self.executor = executor
        """Where the blocking AWS calls run (the worker sets its I/O pool; None: asyncio's)."""
        if not ttl_seconds >= 0:
            raise ValueError(f"ttl_seconds must be zero or more, got {ttl_seconds!r}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts!r}")
        self.ttl_seconds = float(ttl_seconds)
        self._endpoint_url = endpoint_url
        self._region_name = region_name
        self._session = session
        self._boto_config = Config(
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout_seconds,
            read_timeout=read_timeout_seconds,
        )
        self._client: SecretsManagerClient | None = None
        self._client_lock = threading.Lock()
        self._cache: dict[str, _CachedSecret] = {}
        self._path_locks: dict[str, threading.Lock] = {}
        self._path_locks_guard = threading.Lock()
        self._aws_calls = 0

    def __repr__(self) -> str:
        return (
            f"SecretReader(ttl_seconds={self.ttl_seconds!r}, cached_secrets={len(self._cache)}, "
            f"aws_calls={self._aws_calls})"
        )

    @property
    def aws_calls(self) -> int:
        """How many GetSecretValue calls this reader made: a measure of what the cache saves."""
        return self._aws_calls

    async def read(self, ref: SecretRef) -> str:
        """The secret's value, or the text under ``ref.json_key`` in its JSON object.

        Raises a ``SecretError`` subclass; its ``retryable`` says whether trying again may help.
        """
        loop = asyncio.get_running_loop()
        secret_string = await loop.run_in_executor(self.executor, self._secret_string, ref.path)
        if ref.json_key is None:
            return secret_string
        return _value_under_key(secret_string, ref.path, ref.json_key)

    def read_now(self, ref: SecretRef) -> str:
        """``read`` on the calling thread, for synchronous callers that already run on a worker
        thread (reducers calling integrations). Same cache, same errors."""
        secret_string = self._secret_string(ref.path)
        if ref.json_key is None:
            return secret_string
        return _value_under_key(secret_string, ref.path, ref.json_key)

    def forget(self, path: str | None = None) -> None:
        """Drop one secret (or all) from the cache, e.g. after AWS says its value was rotated."""
        if path is None:
            self._cache.clear()
        else:
            self._cache.pop(path, None)

    def _fresh(self, path: str) -> str | None:
        cached = self._cache.get(path)
        if cached is not None and time.monotonic() < cached.expires_at:
            return cached.value
        return None

    def _lock_for(self, path: str) -> threading.Lock:
        with self._path_locks_guard:
            return self._path_locks.setdefault(path, threading.Lock())

    def _secret_string(self, path: str) -> str:
        """Runs in a worker thread: the cached value, or one AWS call per path at a time."""
        value = self._fresh(path)
        if value is not None:
            return value
        with self._lock_for(path):
            value = self._fresh(path)  # another thread may have fetched it while we waited
            if value is not None:
                return value
            value = self._fetch(path)
            if self.ttl_seconds > 0:
                self._cache[path] = _CachedSecret(value, time.monotonic() + self.ttl_seconds)
            return value

    def _fetch(self, path: str) -> str:
        client = self.boto_client()
        with self._client_lock:
            self._aws_calls += 1
        try:
            response = client.get_secret_value(SecretId=path)
        except ClientError as error:
            raise _classify_client_error(error, path) from None
        except (boto_errors.HTTPClientError, boto_errors.ConnectionError) as error:
            raise SecretsManagerUnavailable(
                f"could not reach AWS Secrets Manager to read secret {path!r}: "
                f"{type(error).__name__}",
                path=path,
            ) from None
        except (boto_errors.NoCredentialsError, boto_errors.PartialCredentialsError) as error:
            raise SecretAccessDenied(
                f"no usable AWS credentials to read secret {path!r} ({type(error).__name__}); "
                "give the worker an AWS identity (instance role, AWS_PROFILE or AWS_ACCESS_KEY_ID)",
                path=path,
            ) from None
        except boto_errors.BotoCoreError as error:
            raise SecretError(
                f"reading secret {path!r} failed: {type(error).__name__}", path=path
            ) from None
        if "SecretString" not in response:
            raise SecretValueUnusable(
                f"secret {path!r} holds a binary value; jitflow reads string secrets only",
                path=path,
            )
        return response["SecretString"]

    def boto_client(self) -> SecretsManagerClient:
        with self._client_lock:  # creating clients is not thread-safe; using one is
            if self._client is None:
                session = self._session or boto3.session.Session()
                region = (
                    self._region_name
                    or os.environ.get("AWS_REGION")
                    or session.region_name
                    or FALLBACK_REGION
                )
                self._client = session.client(
                    "secretsmanager",
                    region_name=region,
                    endpoint_url=self._endpoint_url,
                    config=self._boto_config,
                )
            return self._client


def _aws_message(error: ClientError) -> str:
    """AWS's own explanation (never the value: the call failed), unwrapped from an XML body."""
    message = str(error.response.get("Error", {}).get("Message", "")).strip()
    match = _XML_MESSAGE.search(message)
    if match:
        message = match.group(1).strip()
    if len(message) > _MAX_AWS_MESSAGE:
        message = message[:_MAX_AWS_MESSAGE] + "..."
    return message


def _classify_client_error(error: ClientError, path: str) -> SecretError:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    detail = f"{code or 'HTTP ' + str(status)}: {_aws_message(error)}".rstrip(": ")
    if code == "ResourceNotFoundException":
        return SecretNotFound(
            f"secret {path!r} does not exist in this AWS account and region ({detail})", path=path
        )
    if code in _ACCESS_DENIED_CODES or status == 403:
        return SecretAccessDenied(
            f"the worker's AWS identity may not read secret {path!r} ({detail}); "
            "allow secretsmanager:GetSecretValue on it (and kms:Decrypt on its key)",
            path=path,
        )
    if code in _TRANSIENT_CODES or status == 429 or status >= 500:
        return SecretsManagerUnavailable(
            f"AWS Secrets Manager could not serve secret {path!r} right now ({detail})", path=path
        )
    return SecretError(f"reading secret {path!r} failed ({detail})", path=path)


def _value_under_key(secret_string: str, path: str, json_key: str) -> str:
    try:
        document = json.loads(secret_string)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise SecretNotJson(
            f"secret {path!r} is not a JSON object, so its json_key {json_key!r} cannot be read",
            path=path,
            json_key=json_key,
        )
    if json_key not in document:
        keys = sorted(str(key) for key in document)
        shown = ", ".join(repr(key) for key in keys[:_MAX_KEYS_LISTED])
        more = ", ..." if len(keys) > _MAX_KEYS_LISTED else ""
        raise SecretKeyMissing(
            f"secret {path!r} has no key {json_key!r} (its keys: {shown or 'none'}{more})",
            path=path,
            json_key=json_key,
        )
    value = document[json_key]
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise SecretValueUnusable(
        f"key {json_key!r} of secret {path!r} holds a JSON {_json_type(value)}, not text",
        path=path,
        json_key=json_key,
    )


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "object" if isinstance(value, dict) else "array"
