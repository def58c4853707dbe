"""Denied, throttled and unreachable Secrets Manager: which errors are retryable, and what they say.

Access denial is real: a moto server with IAM authorization switched on, an IAM user without a
policy and one allowed to read. Throttling and AWS-side failures come from a loopback server that
answers with AWS's own JSON error bodies, since moto does not throttle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from secret_test_support import CannedAws, assert_reveals_nothing, ref

from activities.secrets import SecretReader
from activities.secrets_errors import (
    SecretAccessDenied,
    SecretError,
    SecretNotFound,
    SecretsManagerUnavailable,
)
from jitflow.devstack.ports import free_port
from jitflow.testing.moto_server import (
    DUMMY_ACCESS_KEY_ID,
    DUMMY_SECRET_ACCESS_KEY,
    MotoServer,
    create_secret,
    enforce_iam_authorization,
)

GUARDED_SECRET = "sym/main/aptible-bot-credentials"
GUARDED_VALUE = {"username": "bot@example.com", "password": "guarded-password-value"}


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    secret_access_key: str

    def session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name="us-east-1",
        )


@dataclass(frozen=True)
class GuardedMoto:
    url: str
    outsider: AccessKey
    reader_user: AccessKey


@pytest.fixture(scope="module")
def guarded_moto() -> Iterator[GuardedMoto]:
    """A moto of its own that checks IAM: one user may read the secret, another may not."""
    with MotoServer() as server:
        create_secret(server.url, GUARDED_SECRET, GUARDED_VALUE)
        iam = boto3.client(
            "iam",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id=DUMMY_ACCESS_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        )
        keys = {}
        for user in ("outsider", "jitflow-worker"):
            iam.create_user(UserName=user)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = AccessKey(key["AccessKeyId"], key["SecretAccessKey"])
        iam.put_user_policy(
            UserName="jitflow-worker",
            PolicyName="read-bot-secret",
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
        yield GuardedMoto(server.url, keys["outsider"], keys["jitflow-worker"])


async def test_access_denied_by_iam_is_non_retryable_and_names_the_path(
    guarded_moto: GuardedMoto,
) -> None:
    reader = SecretReader(
        endpoint_url=guarded_moto.url,
        region_name="us-east-1",
        session=guarded_moto.outsider.session(),
    )
    with pytest.raises(SecretAccessDenied) as caught:
        await reader.read(ref(GUARDED_SECRET, "password"))
    error = caught.value
    assert error.retryable is False
    assert f"{GUARDED_SECRET!r}" in str(error)
    assert "not authorized to perform: secretsmanager:GetSecretValue" in str(error)
    assert_reveals_nothing(
        error, GUARDED_VALUE["password"], guarded_moto.outsider.secret_access_key
    )


async def test_the_same_secret_is_read_by_a_user_allowed_to(guarded_moto: GuardedMoto) -> None:
    reader = SecretReader(
        endpoint_url=guarded_moto.url,
        region_name="us-east-1",
        session=guarded_moto.reader_user.session(),
    )
    assert await reader.read(ref(GUARDED_SECRET, "password")) == GUARDED_VALUE["password"]


async def test_unknown_access_key_is_access_denied(guarded_moto: GuardedMoto) -> None:
    stranger = AccessKey("AKIAUNKNOWNUNKNOWN00", "not-a-key-moto-knows-of")
    reader = SecretReader(
        endpoint_url=guarded_moto.url, region_name="us-east-1", session=stranger.session()
    )
    with pytest.raises(SecretAccessDenied) as caught:
        await reader.read(ref(GUARDED_SECRET))
    assert_reveals_nothing(caught.value, stranger.secret_access_key)


def _canned_reader(canned: CannedAws) -> SecretReader:
    return SecretReader(endpoint_url=canned.url, region_name="us-east-1", max_attempts=1)


@pytest.mark.parametrize(
    ("status", "aws_type", "expected"),
    [
        (400, "ThrottlingException", SecretsManagerUnavailable),
        (400, "TooManyRequestsException", SecretsManagerUnavailable),
        (500, "InternalServiceError", SecretsManagerUnavailable),
        (503, "SomethingNewAndUnknown", SecretsManagerUnavailable),
        (400, "AccessDeniedException", SecretAccessDenied),
        (400, "DecryptionFailure", SecretAccessDenied),
        (400, "ResourceNotFoundException", SecretNotFound),
        (400, "InvalidRequestException", SecretError),
    ],
)
async def test_aws_error_codes_are_classified(
    canned_aws: CannedAws, status: int, aws_type: str, expected: type[SecretError]
) -> None:
    canned_aws.answer(status, {"__type": aws_type, "Message": f"aws says {aws_type}"})
    with pytest.raises(SecretError) as caught:
        await _canned_reader(canned_aws).read(ref("sym/main/bot", "username"))
    assert type(caught.value) is expected
    assert caught.value.retryable is (expected is SecretsManagerUnavailable)
    assert aws_type in str(caught.value) and "'sym/main/bot'" in str(caught.value)


async def test_throttling_is_retried_by_boto3_up_to_max_attempts(canned_aws: CannedAws) -> None:
    canned_aws.answer(400, {"__type": "ThrottlingException", "Message": "Rate exceeded"})
    reader = SecretReader(endpoint_url=canned_aws.url, region_name="us-east-1", max_attempts=2)
    with pytest.raises(SecretsManagerUnavailable):
        await reader.read(ref("sym/main/bot"))
    assert canned_aws.requests == 2


async def test_unreachable_endpoint_is_retryable(secret_name: str) -> None:
    reader = SecretReader(
        endpoint_url=f"http://127.0.0.1:{free_port()}", region_name="us-east-1", max_attempts=1
    )
    with pytest.raises(SecretsManagerUnavailable) as caught:
        await reader.read(ref(secret_name))
    assert caught.value.retryable is True
    assert "could not reach AWS Secrets Manager" in str(caught.value)
    assert f"{secret_name!r}" in str(caught.value)
