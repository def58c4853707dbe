"""Sym's key-value store (private beta there): importable, not offered by jitflow yet."""

from __future__ import annotations

from typing import Any

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import SymIntegrationError

__all__ = ["fetch", "put"]

_WHY = "jitflow has no reducer key-value store yet"


def fetch(path: str) -> Any:
    raise not_available("store.fetch", _WHY, SymIntegrationError)


def put(path: str, value: Any) -> None:
    raise not_available("store.put", _WHY, SymIntegrationError)
