"""SecretReader against moto in server mode: values, JSON keys, endpoints, regions, errors."""

from __future__ import annotations

import pytest
from secret_test_support import assert_reveals_nothing, ref

from activities.secrets import SecretReader
from activities.secrets_errors import (
    SecretError,
    SecretKeyMissing,
    SecretNotFound,
    SecretNotJson,
    SecretValueUnusable,
)
from jitflow.devstack.ports import free_port
from jitflow.testing.moto_server import create_secret, secrets_manager_client

BOT = {"username": "bot@example.com", "password": "hunter2-correct-horse"}


async def test_plain_string_secret_is_returned_whole(reader: SecretReader, moto_url: str) -> None:
    create_secret(moto_url, "plain/one", "just-a-token-value")
    assert await reader.read(ref("plain/one")) == "just-a-token-value"


async def test_json_secret_without_key_is_returned_as_stored(
    reader: SecretReader, moto_url: str, secret_name: str
) -> None:
    create_secret(moto_url, secret_name, BOT)
    assert await reader.read(ref(secret_name)) == '{"username": "bot@example.com", ' + (
        '"password": "hunter2-correct-horse"}'
    )


async def test_json_key_selects_one_value(
    reader: SecretReader, moto_url: str, secret_name: str
) -> None:
    create_secret(moto_url, secret_name, BOT)
    assert await reader.read(ref(secret_name, "username")) == "bot@example.com"
    assert await reader.read(ref(secret_name, "password")) == "hunter2-correct-horse"


async def test_secret_found_by_arn(reader: SecretReader, moto_url: str, secret_name: str) -> None:
    arn = create_secret(moto_url, secret_name, BOT)
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:")
    assert await reader.read(ref(arn, "username")) == "bot@example.com"


async def test_numeric_json_value_is_read_as_text(
    reader: SecretReader, moto_url: str, secret_name: str
) -> None:
    create_secret(moto_url, secret_name, {"username": "bot", "password": 20240117})
    assert await reader.read(ref(secret_name, "password")) == "20240117"


async def test_endpoint_comes_from_aws_endpoint_url(
    moto_url: str, secret_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_secret(moto_url, secret_name, BOT)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    assert await SecretReader().read(ref(secret_name, "username")) == "bot@example.com"


async def test_service_specific_endpoint_wins_over_the_global_one(
    moto_url: str, secret_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_secret(moto_url, secret_name, BOT)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nobody there
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_url)
    assert await SecretReader().read(ref(secret_name, "password")) == "hunter2-correct-horse"


async def test_region_comes_from_aws_region_before_aws_default_region(
    moto_url: str, secret_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_secret(moto_url, secret_name, {"username": "in-ireland"}, region_name="eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    with pytest.raises(SecretNotFound):
        await SecretReader().read(ref(secret_name, "username"))
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert await SecretReader().read(ref(secret_name, "username")) == "in-ireland"


async def test_region_from_aws_default_region_alone(
    moto_url: str, secret_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_secret(moto_url, secret_name, {"username": "in-ireland"}, region_name="eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert await SecretReader().read(ref(secret_name, "username")) == "in-ireland"


async def test_region_defaults_to_us_east_1_when_none_is_set(
    moto_url: str, secret_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_secret(moto_url, secret_name, {"username": "in-virginia"}, region_name="us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    assert await SecretReader().read(ref(secret_name, "username")) == "in-virginia"


async def test_missing_secret_is_a_non_retryable_error_naming_the_path(
    reader: SecretReader,
) -> None:
    with pytest.raises(SecretNotFound) as caught:
        await reader.read(ref("sym/main/no-such-secret", "username"))
    assert caught.value.retryable is False
    assert caught.value.path == "sym/main/no-such-secret"
    assert "'sym/main/no-such-secret'" in str(caught.value)
    assert "ResourceNotFoundException" in str(caught.value)


async def test_value_that_is_not_json_with_a_json_key_names_key_and_path(
    reader: SecretReader, moto_url: str, secret_name: str
) -> None:
    create_secret(moto_url, secret_name, "plain-password-not-json")
    with pytest.raises(SecretNotJson) as caught:
        await reader.read(ref(secret_name, "password"))
    error = caught.value
    assert error.retryable is False
    assert (error.path, error.json_key) == (secret_name, "password")
    assert f"{secret_name!r}" in str(error) and "'password'" in str(error)
    assert_reveals_nothing(error, "plain-password-not-json")


async def test_json_that_is_not_an_object_is_not_json_for_a_key(
    reader: SecretReader, moto_url: str, secret_name: str
) -> None:
    create_secret(moto_url, secret_name, '["s3cr3t-in-a-list"]')
    with pytest.raises(SecretNotJson) as caught:
        await reader.read(ref(secret_name, "password"))
    assert_reveals_nothing(caught.value, "s3cr3t-in-a-list")


async def test_missing_key_names_key_path_and_the_keys_there_but_no_value(
    reader: SecretReader, moto_url: str, secret_name: str
) -> None:
    create_secret(moto_url, secret_name, BOT)
    with pytest.raises(SecretKeyMissing) as caught:
        await reader.read(ref(secret_name, "passwd"))
    error = caught.value
    assert error.retryable is False
    assert (error.path, error.json_key) == (secret_name, "passwd")
    message = str(error)
    assert "'passwd'" in message and f"{secret_name!r}" in message
    assert "'password', 'username'" in message
    assert_reveals_nothing(error, BOT["password"], BOT["username"])


async def test_key_holding_an_object_is_unusable(
    reader: SecretReader, moto_url: str, secret_name: str
) -> None:
    create_secret(moto_url, secret_name, {"password": {"nested": "deep-s3cret"}})
    with pytest.raises(SecretValueUnusable, match="holds a JSON object, not text") as caught:
        await reader.read(ref(secret_name, "password"))
    assert caught.value.retryable is False
    assert_reveals_nothing(caught.value, "deep-s3cret")


async def test_binary_secret_is_unusable(
    reader: SecretReader, moto_url: str, secret_name: str
) -> None:
    secrets_manager_client(moto_url).create_secret(Name=secret_name, SecretBinary=b"\x00\x01")
    with pytest.raises(SecretValueUnusable, match="binary value"):
        await reader.read(ref(secret_name))


def test_every_error_class_is_a_secret_error_with_retryable() -> None:
    for cls in (SecretNotFound, SecretNotJson, SecretKeyMissing, SecretValueUnusable):
        assert issubclass(cls, SecretError) and cls.retryable is False


def test_bad_settings_are_refused_naming_the_value() -> None:
    with pytest.raises(ValueError, match="-1"):
        SecretReader(ttl_seconds=-1)
    with pytest.raises(ValueError, match="0"):
        SecretReader(max_attempts=0)
