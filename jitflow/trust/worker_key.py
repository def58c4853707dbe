"""The worker's own Ed25519 signing key, kept in AWS Secrets Manager and shared by every worker.

The worker signs what it authorised (``GrantTicket``) so that the code which adds a membership
can tell a grant this deployment decided from one a caller made up. Every worker of a deployment
must sign with the same key and accept each other's signatures, so the key lives in one secret
(default ``jitflow/worker-signing-key``, or ``$JITFLOW_WORKER_KEY_SECRET``) whose value is JSON:

    {"private_key": "<OpenSSH private key text>", "previous_public_keys": ["ssh-ed25519 ...", ...]}

The first worker to start on a deployment finds no secret, generates a key and creates it; a
worker starting at the same moment loses the CreateSecret race and reads the winner's key, so
both end with the same one. To rotate, put a new private key and move the old public key into
``previous_public_keys``: tickets signed before the rotation still verify (``rotated`` builds
that value). The worker needs ``secretsmanager:GetSecretValue`` on the secret, and
``secretsmanager:CreateSecret`` once if it is to create it.

No error message or log line holds the secret's value: they name the secret and AWS's error
code only. boto3 blocks, so async callers run ``load_or_create`` in a thread.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore import exceptions as boto_errors
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from jitflow.trust.keys import (
    InvalidKey,
    PublicKey,
    generate_private_key,
    parse_public_key,
    private_key_from_openssh,
    private_key_openssh,
    public_key_of,
    sign,
)

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

DEFAULT_WORKER_KEY_SECRET = "jitflow/worker-signing-key"
WORKER_KEY_SECRET_ENV = "JITFLOW_WORKER_KEY_SECRET"

_COMMENT = "jitflow-worker"
#: After losing the CreateSecret race, how often to read the winner's value before giving up:
#: Secrets Manager is eventually consistent, so a just-created secret may read as missing.
_READ_AFTER_RACE_ATTEMPTS = 5
_READ_AFTER_RACE_DELAY_SECONDS = 0.2

_ACCESS_DENIED_CODES = frozenset(
    {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "DecryptionFailure"}
)
_ACCESS_ADVICE = {
    "read": "allow the worker's AWS identity secretsmanager:GetSecretValue on it, and "
    "kms:Decrypt on its KMS key",
    "create": "allow the worker's AWS identity secretsmanager:CreateSecret on it, or create the "
    "secret beforehand",
}
_ADVICE = {
    "InvalidRequestException": "is it scheduled for deletion? restore it or pick another name "
    f"with {WORKER_KEY_SECRET_ENV}",
    "ResourceNotFoundException": "the secret exists but has no current value (AWSCURRENT); "
    "delete it or give it one",
}
#: An error code inside an XML body that reached a JSON-protocol client (moto, some proxies).
_XML_CODE = re.compile(r"<Code>([A-Za-z0-9.]{1,100})</Code>")

logger = logging.getLogger(__name__)


class WorkerKeyError(Exception):
    """The worker key could not be read, created or used; the message names the secret only."""

    def __init__(self, message: str, secret_name: str, aws_code: str | None = None) -> None:
        super().__init__(message)
        self.secret_name = secret_name
        self.aws_code = aws_code


def worker_key_secret_name() -> str:
    """``$JITFLOW_WORKER_KEY_SECRET`` when set, else ``jitflow/worker-signing-key``."""
    return os.environ.get(WORKER_KEY_SECRET_ENV, "").strip() or DEFAULT_WORKER_KEY_SECRET


def _code(error: boto_errors.ClientError) -> str:
    """AWS's error code; from the XML body when botocore could only read the HTTP status."""
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    if not code or code.isdigit():
        match = _XML_CODE.search(str(details.get("Message", "")))
        if match:
            return match.group(1)
    if code:
        return code
    return f"HTTP {error.response.get('ResponseMetadata', {}).get('HTTPStatusCode', '?')}"


def _aws_error(action: str, secret_name: str, error: Exception) -> WorkerKeyError:
    """A WorkerKeyError naming the secret and AWS's error code, never AWS's message or the value."""
    denied = False
    if isinstance(error, boto_errors.ClientError):
        code = _code(error)
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        denied = code in _ACCESS_DENIED_CODES or status == 403
    else:
        code = type(error).__name__
        denied = isinstance(error, boto_errors.NoCredentialsError)
    advice = _ACCESS_ADVICE[action] if denied else _ADVICE.get(code)
    return WorkerKeyError(
        f"could not {action} the worker signing key secret {secret_name!r}: {code}"
        + (f"; {advice}" if advice else ""),
        secret_name=secret_name,
        aws_code=code,
    )


class WorkerKeyring:
    """The worker's current signing key and the public keys it replaced.

    ``sign`` uses the current key; ``verify`` accepts the current key and every previous one,
    matched by fingerprint (``key_id``). Immutable, so one instance serves every thread.
    """

    def __init__(
        self,
        private_key: Ed25519PrivateKey,
        previous_public_keys: Sequence[PublicKey] = (),
        secret_name: str | None = None,
    ) -> None:
        self._private_key = private_key
        self._current = public_key_of(private_key, _COMMENT)
        self._previous = tuple(
            key for key in previous_public_keys if key.fingerprint != self._current.fingerprint
        )
        self._by_id = {key.fingerprint: key for key in (*reversed(self._previous), self._current)}
        self.secret_name = secret_name or worker_key_secret_name()

    def __repr__(self) -> str:
        return (
            f"WorkerKeyring(secret_name={self.secret_name!r}, key_id={self.key_id!r}, "
            f"previous_keys={len(self._previous)})"
        )

    @property
    def key_id(self) -> str:
        """Fingerprint of the current key (``SHA256:...``): what ``GrantTicket.key_id`` holds."""
        return self._current.fingerprint

    def sign(self, data: bytes) -> str:
        """The base64 Ed25519 signature of ``data`` with the current key."""
        return sign(self._private_key, data)

    def verify(self, data: bytes, signature_b64: str, key_id: str) -> bool:
        """Whether the key ``key_id`` (current or previous) signed ``data``; False if unknown."""
        key = self._by_id.get(key_id)
        return key is not None and key.verify(data, signature_b64)

    def public_keys(self) -> list[PublicKey]:
        """The current public key first, then the previous ones."""
        return [self._current, *self._previous]

    # The secret's value ------------------------------------------------------------------

    def secret_string(self) -> str:
        """This keyring as the secret's JSON value (holds the private key: handle with care)."""
        return json.dumps(
            {
                "private_key": private_key_openssh(self._private_key).decode("ascii"),
                "previous_public_keys": [key.openssh for key in self._previous],
            }
        )

    def rotated(self) -> WorkerKeyring:
        """A keyring with a new current key that still accepts this one's signatures.

        Put its ``secret_string()`` as the secret's new value to rotate; workers pick it up when
        they next load the key.
        """
        return WorkerKeyring(
            generate_private_key(), [self._current, *self._previous], self.secret_name
        )

    @classmethod
    def from_secret_string(cls, value: str, secret_name: str) -> WorkerKeyring:
        """Parse the secret's JSON value; WorkerKeyError saying what is wrong, never quoting it."""

        def refuse(problem: str) -> WorkerKeyError:
            return WorkerKeyError(
                f"secret {secret_name!r} does not hold a jitflow worker key: {problem}",
                secret_name=secret_name,
            )

        try:
            document = json.loads(value)
        except ValueError:
            raise refuse("its value is not JSON") from None
        if not isinstance(document, dict):
            raise refuse("its value is not a JSON object")
        private_text = document.get("private_key")
        if not isinstance(private_text, str):
            raise refuse('it has no "private_key" text')
        try:
            private_key = private_key_from_openssh(
                private_text.encode("utf-8"), f'the "private_key" of secret {secret_name!r}'
            )
        except InvalidKey as error:
            raise WorkerKeyError(str(error), secret_name=secret_name) from None
        previous_texts = document.get("previous_public_keys", [])
        if not isinstance(previous_texts, list):
            raise refuse('its "previous_public_keys" is not a list')
        previous: list[PublicKey] = []
        for index, text in enumerate(previous_texts):
            if not isinstance(text, str):
                raise refuse(f'"previous_public_keys"[{index}] is not text')
            try:
                previous.append(parse_public_key(text))
            except InvalidKey as error:
                raise refuse(f'"previous_public_keys"[{index}]: {error}') from None
        return cls(private_key, previous, secret_name)

    # Secrets Manager ---------------------------------------------------------------------

    @classmethod
    def load_or_create(
        cls, client: SecretsManagerClient, secret_name: str | None = None
    ) -> WorkerKeyring:
        """The keyring in ``secret_name`` (default ``worker_key_secret_name()``), creating the
        secret with a new key when it does not exist.

        ``client`` is a boto3 Secrets Manager client built the worker's way (endpoint, region and
        credentials from the environment). When two workers create the secret at once, the one
        whose CreateSecret fails with ResourceExistsException reads and uses the winner's key.
        """
        name = secret_name or worker_key_secret_name()
        value = cls._read(client, name, missing_ok=True)
        if value is not None:
            return cls.from_secret_string(value, name)
        created = cls(generate_private_key(), (), name)
        try:
            client.create_secret(
                Name=name,
                SecretString=created.secret_string(),
                Description="jitflow worker signing key (Ed25519): signs grant tickets",
            )
        except boto_errors.ClientError as error:
            if _code(error) != "ResourceExistsException":
                raise _aws_error("create", name, error) from None
            logger.info("another worker created the signing key secret %r first; using it", name)
            return cls.from_secret_string(cls._read_after_race(client, name), name)
        except boto_errors.BotoCoreError as error:
            raise _aws_error("create", name, error) from None
        logger.info("created the worker signing key secret %r (key %s)", name, created.key_id)
        return created

    @classmethod
    def _read_after_race(cls, client: SecretsManagerClient, name: str) -> str:
        for _ in range(_READ_AFTER_RACE_ATTEMPTS - 1):
            value = cls._read(client, name, missing_ok=True)
            if value is not None:
                return value
            time.sleep(_READ_AFTER_RACE_DELAY_SECONDS)
        value = cls._read(client, name, missing_ok=False)
        assert value is not None
        return value

    @staticmethod
    def _read(client: SecretsManagerClient, name: str, *, missing_ok: bool) -> str | None:
        """The secret's current string; None when it does not exist and ``missing_ok``."""
        try:
            response = client.get_secret_value(SecretId=name)
        except boto_errors.ClientError as error:
            if missing_ok and _code(error) == "ResourceNotFoundException":
                return None
            raise _aws_error("read", name, error) from None
        except boto_errors.BotoCoreError as error:
            raise _aws_error("read", name, error) from None
        if "SecretString" not in response:
            raise WorkerKeyError(
                f"secret {name!r} holds a binary value; the worker key is a JSON string",
                secret_name=name,
            )
        return response["SecretString"]
