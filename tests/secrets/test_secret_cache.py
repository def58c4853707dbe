"""The reader's per-worker cache: reuse within the TTL, rotation after it, one call per secret."""

from __future__ import annotations

import asyncio

import pytest
from secret_test_support import ref

from activities.secrets import SecretReader
from activities.secrets_errors import SecretNotFound
from jitflow.testing.moto_server import create_secret


async def test_value_is_reused_within_the_ttl_even_after_rotation(
    moto_url: str, secret_name: str
) -> None:
    reader = SecretReader(endpoint_url=moto_url, ttl_seconds=60)
    create_secret(moto_url, secret_name, {"password": "before-rotation"})
    assert await reader.read(ref(secret_name, "password")) == "before-rotation"
    create_secret(moto_url, secret_name, {"password": "after-rotation"})
    assert await reader.read(ref(secret_name, "password")) == "before-rotation"
    assert reader.aws_calls == 1


async def test_rotation_takes_effect_once_the_ttl_expires(moto_url: str, secret_name: str) -> None:
    reader = SecretReader(endpoint_url=moto_url, ttl_seconds=0.2)
    create_secret(moto_url, secret_name, {"password": "before-rotation"})
    assert await reader.read(ref(secret_name, "password")) == "before-rotation"
    create_secret(moto_url, secret_name, {"password": "after-rotation"})
    await asyncio.sleep(0.25)
    assert await reader.read(ref(secret_name, "password")) == "after-rotation"
    assert reader.aws_calls == 2


async def test_zero_ttl_reads_aws_every_time(moto_url: str, secret_name: str) -> None:
    reader = SecretReader(endpoint_url=moto_url, ttl_seconds=0)
    create_secret(moto_url, secret_name, "v1")
    assert await reader.read(ref(secret_name)) == "v1"
    create_secret(moto_url, secret_name, "v2")
    assert await reader.read(ref(secret_name)) == "v2"
    assert reader.aws_calls == 2


async def test_concurrent_reads_of_one_secret_make_one_aws_call(
    moto_url: str, secret_name: str
) -> None:
    reader = SecretReader(endpoint_url=moto_url)
    create_secret(moto_url, secret_name, {"username": "bot", "password": "pw"})
    refs = [ref(secret_name, "username"), ref(secret_name, "password"), ref(secret_name)] * 10
    values = await asyncio.gather(*(reader.read(r) for r in refs))
    assert values[:2] == ["bot", "pw"]
    assert set(values) == {"bot", "pw", '{"username": "bot", "password": "pw"}'}
    assert reader.aws_calls == 1


async def test_different_secrets_are_cached_separately(moto_url: str, secret_name: str) -> None:
    reader = SecretReader(endpoint_url=moto_url)
    create_secret(moto_url, f"{secret_name}/a", "value-a")
    create_secret(moto_url, f"{secret_name}/b", "value-b")
    for _ in range(3):
        assert await reader.read(ref(f"{secret_name}/a")) == "value-a"
        assert await reader.read(ref(f"{secret_name}/b")) == "value-b"
    assert reader.aws_calls == 2


async def test_errors_are_not_cached(moto_url: str, secret_name: str) -> None:
    reader = SecretReader(endpoint_url=moto_url)
    with pytest.raises(SecretNotFound):
        await reader.read(ref(secret_name))
    create_secret(moto_url, secret_name, "created-since")
    assert await reader.read(ref(secret_name)) == "created-since"


async def test_forget_makes_the_next_read_go_to_aws(moto_url: str, secret_name: str) -> None:
    reader = SecretReader(endpoint_url=moto_url)
    create_secret(moto_url, secret_name, "old")
    assert await reader.read(ref(secret_name)) == "old"
    create_secret(moto_url, secret_name, "new")
    reader.forget(secret_name)
    assert await reader.read(ref(secret_name)) == "new"
    create_secret(moto_url, secret_name, "newer")
    reader.forget()
    assert await reader.read(ref(secret_name)) == "newer"
    assert reader.aws_calls == 3


async def test_repr_of_a_reader_holding_values_shows_none(moto_url: str, secret_name: str) -> None:
    reader = SecretReader(endpoint_url=moto_url)
    create_secret(moto_url, secret_name, {"password": "cached-but-hidden"})
    await reader.read(ref(secret_name, "password"))
    assert "cached-but-hidden" not in repr(reader)
    assert "cached_secrets=1" in repr(reader)
    assert "cached-but-hidden" not in repr(reader.__dict__)
