"""Why a secret could not be read, classified for Temporal's retry policy.

Every class carries ``retryable``: an activity turns a non-retryable one into a non-retryable
Temporal failure (a missing secret or a denied read will not fix itself by retrying), and lets a
retryable one (throttling, AWS unreachable) go back to Temporal's retry policy. Messages name the
secret's path and JSON key, never its value.
"""

from __future__ import annotations


class SecretError(Exception):
    """A secret could not be read. ``path`` and ``json_key`` say which one."""

    retryable: bool = False

    def __init__(self, message: str, *, path: str, json_key: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.json_key = json_key


class SecretNotFound(SecretError):
    """No secret by that name (or ARN) exists in the account and region, or it is being deleted."""


class SecretAccessDenied(SecretError):
    """The worker's AWS identity may not read the secret (IAM, resource or KMS key policy)."""


class SecretNotJson(SecretError):
    """A ``json_key`` is set, but the secret's value is not a JSON object."""


class SecretKeyMissing(SecretError):
    """The secret's JSON object has no such key."""


class SecretValueUnusable(SecretError):
    """The secret exists but holds nothing usable: a binary value, or a key that is not text."""


class SecretsManagerUnavailable(SecretError):
    """Secrets Manager throttled, failed internally, or could not be reached. Retry later."""

    retryable = True
