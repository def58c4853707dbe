"""The worker's signing key in Secrets Manager, against moto's server over real HTTP.

Created when missing, reused when present, one key when two workers start at once, old
signatures still valid after a rotation, and errors that name the secret and AWS's error code
but never its value.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from secret_test_support import CannedAws, assert_reveals_nothing
from ssh_tools import keygen, keygen_fingerprint

from jitflow.devstack.ports import free_port
from jitflow.testing.moto_server import (
    DUMMY_ACCESS_KEY_ID,
    DUMMY_SECRET_ACCESS_KEY,
    MotoServer,
    create_secret,
    enforce_iam_authorization,
    secrets_manager_client,
)
from jitflow.trust.keys import generate_private_key, parse_public_key
from jitflow.trust.worker_key import (
    DEFAULT_WORKER_KEY_SECRET,
    WORKER_KEY_SECRET_ENV,
    WorkerKeyError,
    WorkerKeyring,
    worker_key_secret_name,
)

DATA = b"jitflow-grant-v1\n{}"


def stored(moto_url: str, name: str) -> dict[str, Any]:
    value = secrets_manager_client(moto_url).get_secret_value(SecretId=name)["SecretString"]
    document: dict[str, Any] = json.loads(value)
    return document


def test_the_secret_name_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WORKER_KEY_SECRET_ENV, raising=False)
    assert worker_key_secret_name() == DEFAULT_WORKER_KEY_SECRET == "jitflow/worker-signing-key"
    monkeypatch.setenv(WORKER_KEY_SECRET_ENV, " prod/jitflow-key ")
    assert worker_key_secret_name() == "prod/jitflow-key"
    monkeypatch.setenv(WORKER_KEY_SECRET_ENV, "")
    assert worker_key_secret_name() == DEFAULT_WORKER_KEY_SECRET


def test_a_missing_secret_is_created_then_reused(
    moto_url: str, secret_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = secrets_manager_client(moto_url)
    with caplog.at_level(logging.INFO, logger="jitflow.trust.worker_key"):
        created = WorkerKeyring.load_or_create(client, secret_name)
    value = stored(moto_url, secret_name)
    assert set(value) == {"private_key", "previous_public_keys"}
    assert value["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert value["previous_public_keys"] == []
    assert f"{secret_name!r}" in caplog.text and created.key_id in caplog.text
    assert value["private_key"].splitlines()[1] not in caplog.text + repr(created)

    again = WorkerKeyring.load_or_create(secrets_manager_client(moto_url), secret_name)
    assert again.key_id == created.key_id
    assert again.verify(DATA, created.sign(DATA), created.key_id)
    assert not again.verify(DATA + b"x", created.sign(DATA), created.key_id)
    assert not again.verify(DATA, created.sign(DATA), "SHA256:someone-else")
    assert [key.fingerprint for key in again.public_keys()] == [created.key_id]


def test_the_secret_name_defaults_to_the_environment_s(
    moto_url: str, secret_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WORKER_KEY_SECRET_ENV, secret_name)
    keyring = WorkerKeyring.load_or_create(secrets_manager_client(moto_url))
    assert keyring.secret_name == secret_name
    assert "private_key" in stored(moto_url, secret_name)


def test_an_existing_key_made_by_ssh_keygen_is_used(
    moto_url: str, secret_name: str, tmp_path: Path, ssh_keygen: str
) -> None:
    path = keygen(tmp_path, "worker")
    create_secret(moto_url, secret_name, {"private_key": path.read_text()})
    keyring = WorkerKeyring.load_or_create(secrets_manager_client(moto_url), secret_name)
    assert keyring.key_id == keygen_fingerprint(path.with_suffix(".pub"))
    public = parse_public_key(path.with_suffix(".pub").read_text())
    assert public.verify(DATA, keyring.sign(DATA))


class RacingClient:
    """A real client whose CreateSecret waits until every racer has found the secret missing.

    The creates then reach moto one at a time: AWS decides a name clash atomically, moto's
    threaded server does not promise to.
    """

    def __init__(self, client: Any, barrier: threading.Barrier, lock: threading.Lock) -> None:
        self._client = client
        self._barrier = barrier
        self._lock = lock
        self.outcome = ""

    def get_secret_value(self, **kwargs: Any) -> Any:
        return self._client.get_secret_value(**kwargs)

    def create_secret(self, **kwargs: Any) -> Any:
        self._barrier.wait(timeout=30)
        with self._lock:
            try:
                response = self._client.create_secret(**kwargs)
            except ClientError as error:
                self.outcome = error.response["Error"]["Code"]
                raise
            self.outcome = "created"
            return response


def test_two_workers_creating_the_key_at_once_end_with_the_same_key(
    moto_url: str, secret_name: str
) -> None:
    barrier, lock = threading.Barrier(2), threading.Lock()
    clients = [RacingClient(secrets_manager_client(moto_url), barrier, lock) for _ in range(2)]
    results: dict[int, WorkerKeyring | BaseException] = {}

    def start(index: int) -> None:
        try:
            results[index] = WorkerKeyring.load_or_create(clients[index], secret_name)  # type: ignore[arg-type]
        except BaseException as error:
            results[index] = error

    threads = [threading.Thread(target=start, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    first, second = results.get(0), results.get(1)
    assert isinstance(first, WorkerKeyring) and isinstance(second, WorkerKeyring), results
    assert sorted(client.outcome for client in clients) == ["ResourceExistsException", "created"]
    assert first.key_id == second.key_id
    on_disk = WorkerKeyring.from_secret_string(
        json.dumps(stored(moto_url, secret_name)), secret_name
    )
    assert on_disk.key_id == first.key_id
    assert second.verify(DATA, first.sign(DATA), first.key_id)


def test_after_a_rotation_old_signatures_still_verify(moto_url: str, secret_name: str) -> None:
    client = secrets_manager_client(moto_url)
    original = WorkerKeyring.load_or_create(client, secret_name)
    old_signature = original.sign(DATA)

    client.put_secret_value(SecretId=secret_name, SecretString=original.rotated().secret_string())
    rotated = WorkerKeyring.load_or_create(client, secret_name)
    assert rotated.key_id != original.key_id
    assert stored(moto_url, secret_name)["previous_public_keys"] == [
        original.public_keys()[0].openssh
    ]
    assert [key.fingerprint for key in rotated.public_keys()] == [
        rotated.key_id,
        original.key_id,
    ]
    assert rotated.verify(DATA, old_signature, original.key_id)
    assert not rotated.verify(DATA, old_signature, rotated.key_id)
    new_signature = rotated.sign(DATA)
    assert rotated.verify(DATA, new_signature, rotated.key_id)
    assert not original.verify(DATA, new_signature, rotated.key_id)  # not yet reloaded

    client.put_secret_value(SecretId=secret_name, SecretString=rotated.rotated().secret_string())
    twice = WorkerKeyring.load_or_create(client, secret_name)
    assert twice.verify(DATA, old_signature, original.key_id)
    assert twice.verify(DATA, new_signature, rotated.key_id)
    assert len(twice.public_keys()) == 3


def test_a_hand_rotated_secret_is_read(
    moto_url: str, secret_name: str, tmp_path: Path, ssh_keygen: str
) -> None:
    """What an operator writes by hand: the new key from ssh-keygen, the old public key kept."""
    old, new = keygen(tmp_path, "old"), keygen(tmp_path, "new")
    old_keyring = WorkerKeyring.from_secret_string(
        json.dumps({"private_key": old.read_text()}), secret_name
    )
    signature = old_keyring.sign(DATA)
    create_secret(
        moto_url,
        secret_name,
        {
            "private_key": new.read_text(),
            "previous_public_keys": [old.with_suffix(".pub").read_text().strip()],
        },
    )
    keyring = WorkerKeyring.load_or_create(secrets_manager_client(moto_url), secret_name)
    assert keyring.key_id == keygen_fingerprint(new.with_suffix(".pub"))
    assert keyring.verify(DATA, signature, keygen_fingerprint(old.with_suffix(".pub")))


def _unusable_values(tmp_path: Path) -> list[tuple[str, str, str]]:
    """(secret value, expected message part, private text that must not show)."""
    ed25519 = keygen(tmp_path, "ed").read_text()
    encrypted = keygen(tmp_path, "enc", passphrase="pass-phrase").read_text()
    rsa = keygen(tmp_path, "rsa", key_type="rsa", extra=("-b", "2048")).read_text()
    secret_line = "do-not-print-me-0123456789"
    return [
        (f"{secret_line} not json", "its value is not JSON", secret_line),
        (json.dumps([secret_line]), "its value is not a JSON object", secret_line),
        (json.dumps({"password": secret_line}), 'it has no "private_key" text', secret_line),
        (
            json.dumps({"private_key": secret_line}),
            'the "private_key" of secret .* is not an OpenSSH private key',
            secret_line,
        ),
        (json.dumps({"private_key": rsa}), "holds an RSA key", rsa.splitlines()[1]),
        (json.dumps({"private_key": encrypted}), "is encrypted", encrypted.splitlines()[1]),
        (
            json.dumps({"private_key": ed25519, "previous_public_keys": "ssh-ed25519 AAAA"}),
            '"previous_public_keys" is not a list',
            ed25519.splitlines()[1],
        ),
        (
            json.dumps({"private_key": ed25519, "previous_public_keys": ["ssh-rsa AAAA"]}),
            r'"previous_public_keys"\[0\]: ssh-rsa keys are not accepted',
            ed25519.splitlines()[1],
        ),
    ]


def test_a_secret_that_is_not_a_worker_key_is_refused_without_quoting_it(
    moto_url: str, tmp_path: Path, ssh_keygen: str
) -> None:
    client = secrets_manager_client(moto_url)
    for index, (value, message, hidden) in enumerate(_unusable_values(tmp_path)):
        name = f"jitflow/test/unusable-{tmp_path.name}-{index}"
        create_secret(moto_url, name, value)
        with pytest.raises(WorkerKeyError, match=message) as caught:
            WorkerKeyring.load_or_create(client, name)
        assert f"{name!r}" in str(caught.value)
        assert_reveals_nothing(caught.value, hidden)
        assert stored_string(moto_url, name) == value  # never overwritten


def stored_string(moto_url: str, name: str) -> str:
    return secrets_manager_client(moto_url).get_secret_value(SecretId=name)["SecretString"]


def test_a_binary_secret_is_refused(moto_url: str, secret_name: str) -> None:
    secrets_manager_client(moto_url).create_secret(Name=secret_name, SecretBinary=b"\x00key")
    with pytest.raises(WorkerKeyError, match="holds a binary value"):
        WorkerKeyring.load_or_create(secrets_manager_client(moto_url), secret_name)


def test_an_unreachable_secrets_manager_is_named(secret_name: str) -> None:
    client = boto3.session.Session(region_name="us-east-1").client(
        "secretsmanager",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(WorkerKeyError) as caught:
        WorkerKeyring.load_or_create(client, secret_name)
    assert str(caught.value) == (
        f"could not read the worker signing key secret {secret_name!r}: EndpointConnectionError"
    )
    assert caught.value.aws_code == "EndpointConnectionError"


def test_a_secret_without_a_current_value_is_not_overwritten(
    moto_url: str, secret_name: str
) -> None:
    """It exists (CreateSecret says so) but has no value to read: say so, change nothing."""
    client = secrets_manager_client(moto_url)
    client.create_secret(Name=secret_name)
    with pytest.raises(WorkerKeyError) as caught:
        WorkerKeyring.load_or_create(client, secret_name)
    assert str(caught.value) == (
        f"could not read the worker signing key secret {secret_name!r}: "
        "ResourceNotFoundException; the secret exists but has no current value (AWSCURRENT); "
        "delete it or give it one"
    )
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_secret_value(SecretId=secret_name)  # still without a value


def test_a_secret_scheduled_for_deletion_is_named(moto_url: str, secret_name: str) -> None:
    client = secrets_manager_client(moto_url)
    create_secret(moto_url, secret_name, WorkerKeyring(generate_private_key()).secret_string())
    client.delete_secret(SecretId=secret_name)
    with pytest.raises(WorkerKeyError) as caught:
        WorkerKeyring.load_or_create(client, secret_name)
    assert str(caught.value) == (
        f"could not read the worker signing key secret {secret_name!r}: InvalidRequestException; "
        "is it scheduled for deletion? restore it or pick another name with "
        "JITFLOW_WORKER_KEY_SECRET"
    )


@pytest.mark.parametrize(
    ("status", "aws_type", "expected"),
    [
        (400, "AccessDeniedException", "AccessDeniedException; allow the worker's AWS identity"),
        (400, "DecryptionFailure", "DecryptionFailure; allow the worker's AWS identity"),
        (400, "ThrottlingException", "ThrottlingException"),
        (500, "InternalServiceError", "InternalServiceError"),
    ],
)
def test_aws_error_codes_are_named_without_aws_s_message(
    canned_aws: CannedAws, secret_name: str, status: int, aws_type: str, expected: str
) -> None:
    """What AWS itself answers (JSON ``__type``); its message is left out of ours."""
    canned_aws.answer(status, {"__type": aws_type, "Message": "aws-said-this-private-detail"})
    client = boto3.session.Session(region_name="us-east-1").client(
        "secretsmanager",
        endpoint_url=canned_aws.url,
        config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(WorkerKeyError) as caught:
        WorkerKeyring.load_or_create(client, secret_name)
    assert str(caught.value).startswith(
        f"could not read the worker signing key secret {secret_name!r}: {expected}"
    )
    assert caught.value.aws_code == aws_type
    assert_reveals_nothing(caught.value, "aws-said-this-private-detail")


# IAM ----------------------------------------------------------------------------------------

GUARDED_SECRET = "jitflow/worker-signing-key"


@dataclass(frozen=True)
class GuardedMoto:
    url: str
    private_key_text: str
    clients: dict[str, Any]


@pytest.fixture(scope="module")
def guarded_moto() -> Iterator[GuardedMoto]:
    """A moto of its own that checks IAM: an outsider may do nothing, a reader may only read."""
    with MotoServer() as server:
        keyring = WorkerKeyring(generate_private_key(), secret_name=GUARDED_SECRET)
        create_secret(server.url, GUARDED_SECRET, keyring.secret_string())
        iam = boto3.client(
            "iam",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id=DUMMY_ACCESS_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        )
        clients: dict[str, Any] = {}
        for user in ("outsider", "reader"):
            iam.create_user(UserName=user)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            clients[user] = secrets_manager_client(
                server.url,
                access_key_id=key["AccessKeyId"],
                secret_access_key=key["SecretAccessKey"],
            )
        iam.put_user_policy(
            UserName="reader",
            PolicyName="read-only",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "secretsmanager:GetSecretValue",
                            "Resource": "*",
                        }
                    ],
                }
            ),
        )
        enforce_iam_authorization(server.url)
        private_text = json.loads(keyring.secret_string())["private_key"]
        yield GuardedMoto(server.url, private_text, clients)


def test_access_denied_is_named_without_the_value(guarded_moto: GuardedMoto) -> None:
    with pytest.raises(WorkerKeyError) as caught:
        WorkerKeyring.load_or_create(guarded_moto.clients["outsider"], GUARDED_SECRET)
    error = caught.value
    # moto says AccessDenied where AWS says AccessDeniedException; both read as a denial.
    assert str(error) == (
        f"could not read the worker signing key secret {GUARDED_SECRET!r}: AccessDenied; "
        "allow the worker's AWS identity secretsmanager:GetSecretValue on it, and kms:Decrypt "
        "on its KMS key"
    )
    assert (error.secret_name, error.aws_code) == (GUARDED_SECRET, "AccessDenied")
    for line in guarded_moto.private_key_text.splitlines()[1:-1]:
        assert_reveals_nothing(error, line)


def test_a_reader_uses_the_key_but_may_not_create_one(guarded_moto: GuardedMoto) -> None:
    reader = guarded_moto.clients["reader"]
    keyring = WorkerKeyring.load_or_create(reader, GUARDED_SECRET)
    assert keyring.verify(DATA, keyring.sign(DATA), keyring.key_id)
    with pytest.raises(WorkerKeyError) as caught:
        WorkerKeyring.load_or_create(reader, "jitflow/missing-worker-key")
    assert str(caught.value) == (
        "could not create the worker signing key secret 'jitflow/missing-worker-key': "
        "AccessDenied; allow the worker's AWS identity secretsmanager:CreateSecret on it, or "
        "create the secret beforehand"
    )
