"""Secrets (``sym.sdk.secret``): jitflow keeps credentials inside its activities."""

from __future__ import annotations

from typing import Any

from jitflow.sdk._context import not_available
from jitflow.sdk.resource import SymResource


class SecretSource(SymResource):
    """A ``sym_secrets`` backend."""

    type: str
    settings: dict[str, Any] = {}


class Secret(SymResource):
    """A ``sym_secret``: where a credential lives. ``retrieve_value`` is not offered to reducers."""

    id: str
    path: str
    source: SecretSource
    settings: dict[str, Any] = {}

    def retrieve_value(self) -> str:
        raise not_available("Secret.retrieve_value", "jitflow does not hand secrets to reducers")
