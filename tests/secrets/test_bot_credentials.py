"""BotCredentials: the Aptible bot's login for an integration, from the secrets it names."""

from __future__ import annotations

import pytest
from secret_test_support import assert_reveals_nothing, ref

from activities.bot_credentials import BotCredentials, UnknownIntegration
from activities.secrets import SecretReader
from activities.secrets_errors import SecretKeyMissing
from jitflow.config.models import AptibleIntegration, JitflowConfig, SecretRef
from jitflow.testing.moto_server import create_secret

ORG_ID = "3b2d8a0e-4c3f-4a43-9d27-6f0e2a1c5b11"


def _config(username: SecretRef, password: SecretRef) -> JitflowConfig:
    integration = AptibleIntegration(
        key="aptible_main",
        name="aptible-main",
        org_id=ORG_ID,
        username_secret=username,
        password_secret=password,
    )
    return JitflowConfig(integrations={"aptible_main": integration})


async def test_json_secret_gives_username_and_password_in_one_aws_call(
    reader: SecretReader, moto_url: str, secret_name: str
) -> None:
    create_secret(moto_url, secret_name, {"username": "bot@example.com", "password": "pw-json"})
    bot = BotCredentials(
        reader, _config(ref(secret_name, "username"), ref(secret_name, "password"))
    )
    credentials = await bot.for_integration("aptible_main")
    assert (credentials.username, credentials.password) == ("bot@example.com", "pw-json")
    assert reader.aws_calls == 1
    assert "pw-json" not in repr(credentials)
    assert "pw-json" not in repr(bot)


async def test_two_plain_secrets(reader: SecretReader, moto_url: str, secret_name: str) -> None:
    create_secret(moto_url, f"{secret_name}/user", "bot@example.com")
    create_secret(moto_url, f"{secret_name}/pass", "pw-plain")
    bot = BotCredentials(reader, _config(ref(f"{secret_name}/user"), ref(f"{secret_name}/pass")))
    credentials = await bot.for_integration("aptible_main")
    assert (credentials.username, credentials.password) == ("bot@example.com", "pw-plain")


async def test_secret_errors_pass_through(
    reader: SecretReader, moto_url: str, secret_name: str
) -> None:
    create_secret(moto_url, secret_name, {"username": "bot@example.com", "pass": "pw-typo"})
    bot = BotCredentials(
        reader, _config(ref(secret_name, "username"), ref(secret_name, "password"))
    )
    with pytest.raises(SecretKeyMissing, match="'password'") as caught:
        await bot.for_integration("aptible_main")
    assert_reveals_nothing(caught.value, "pw-typo")


async def test_unknown_integration_names_it_and_the_known_ones(reader: SecretReader) -> None:
    bot = BotCredentials(reader, _config(ref("a", "username"), ref("a", "password")))
    with pytest.raises(UnknownIntegration, match=r"'aptible_other'.*'aptible_main'") as caught:
        await bot.for_integration("aptible_other")
    assert caught.value.retryable is False


async def test_forget_rereads_a_rotated_password(moto_url: str, secret_name: str) -> None:
    reader = SecretReader(endpoint_url=moto_url)
    create_secret(moto_url, secret_name, {"username": "bot@example.com", "password": "old-pw"})
    bot = BotCredentials(
        reader, _config(ref(secret_name, "username"), ref(secret_name, "password"))
    )
    assert (await bot.for_integration("aptible_main")).password == "old-pw"
    create_secret(moto_url, secret_name, {"username": "bot@example.com", "password": "new-pw"})
    assert (await bot.for_integration("aptible_main")).password == "old-pw"
    bot.forget("aptible_main")
    assert (await bot.for_integration("aptible_main")).password == "new-pw"
