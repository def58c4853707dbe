"""The Slack front door's Ed25519 key, kept in Secrets Manager: how a click becomes a proof.

``jitflow slack serve`` checks Slack's request signature (which only Slack and the front door can
make, with the app's signing secret), maps the Slack user to a jitflow user, and then signs the
``DecisionProof`` itself with this key, for that person. Workers accept a proof signed by this key
for any decider, so the key is as powerful as every approver's together: it lives in one secret
(default ``jitflow/slack-front-door-key``, or ``$JITFLOW_SLACK_FRONT_DOOR_KEY_SECRET``) in the
same JSON layout as the worker key (``{"private_key": ..., "previous_public_keys": [...]}``),
created by the front door on its first start. Workers learn its public keys from that secret
only: never from a proof, a workflow or anything a requester can write. Rotate it as the worker
key (a new ``private_key``, the old public key into ``previous_public_keys``).

Workers need ``secretsmanager:GetSecretValue`` on the secret; a deployment without Slack has no
such secret, and its workers trust no front door.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from botocore import exceptions as boto_errors

from jitflow.contracts.names import SLACK_FRONT_DOOR_KEY_SECRET, SLACK_FRONT_DOOR_KEY_SECRET_ENV
from jitflow.trust.directory import TrustDirectory
from jitflow.trust.keys import PublicKey
from jitflow.trust.worker_key import WorkerKeyError, WorkerKeyring

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

log = logging.getLogger("jitflow.trust")

#: How long a worker reuses the front door's public keys before reading the secret again.
CACHE_SECONDS = 30.0


def front_door_key_secret_name(environ: Mapping[str, str] | None = None) -> str:
    """``$JITFLOW_SLACK_FRONT_DOOR_KEY_SECRET`` when set, else ``jitflow/slack-front-door-key``."""
    env = environ if environ is not None else os.environ
    return env.get(SLACK_FRONT_DOOR_KEY_SECRET_ENV, "").strip() or SLACK_FRONT_DOOR_KEY_SECRET


def load_front_door_keyring(
    client: SecretsManagerClient, secret_name: str | None = None
) -> WorkerKeyring:
    """The front door's signing key, created in Secrets Manager on first start (race-safe)."""
    return WorkerKeyring.load_or_create(client, secret_name or front_door_key_secret_name())


class FrontDoorKeys:
    """A worker's view of the front door's public keys: read from Secrets Manager, cached.

    ``public_keys`` blocks (boto3); callers on an event loop run it in a thread. A missing
    secret means no front door (an empty list); an unreadable one is logged and trusted as
    nothing until it can be read, so a Secrets Manager hiccup refuses Slack decisions instead of
    accepting them.
    """

    def __init__(
        self,
        client: Callable[[], SecretsManagerClient],
        secret_name: str | None = None,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self._client = client
        self.secret_name = secret_name or front_door_key_secret_name()
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._keys: list[PublicKey] = []
        self._read_at: float | None = None

    def public_keys(self) -> list[PublicKey]:
        """The front door's current and previous public keys (none when it has no secret)."""
        with self._lock:
            fresh = self._read_at is not None and time.monotonic() - self._read_at < (
                self._cache_seconds
            )
            if not fresh:
                self._keys = self._read()
                self._read_at = time.monotonic()
            return list(self._keys)

    def load_into(self, directory: TrustDirectory) -> int:
        """Put the current keys into ``directory`` (for the update validators); how many."""
        keys = self.public_keys()
        directory.set_front_door_keys(keys)
        return len(keys)

    def _read(self) -> list[PublicKey]:
        try:
            response = self._client().get_secret_value(SecretId=self.secret_name)
        except boto_errors.ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code != "ResourceNotFoundException":
                log.warning("cannot read the Slack front door key %r: %s", self.secret_name, code)
            return []
        except boto_errors.BotoCoreError as error:
            log.warning(
                "cannot read the Slack front door key %r: %s",
                self.secret_name,
                type(error).__name__,
            )
            return []
        value = response.get("SecretString")
        if value is None:
            log.warning("the Slack front door key %r is not a JSON string", self.secret_name)
            return []
        try:
            return WorkerKeyring.from_secret_string(value, self.secret_name).public_keys()
        except WorkerKeyError as error:
            log.warning("%s", error)
            return []


async def keep_front_doors_fresh(
    directory: TrustDirectory, keys: FrontDoorKeys, interval: float = CACHE_SECONDS
) -> None:
    """Reload the front door's public keys into ``directory`` every ``interval`` seconds, so a
    front door started (or rotated) after the worker is trusted within that time."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(keys.load_into, directory)
        except Exception as error:  # never stop the worker over a refresh
            log.warning("could not refresh the Slack front door key: %s", error)
