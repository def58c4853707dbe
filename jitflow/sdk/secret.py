"""Secrets (``sym.sdk.secret``): where a credential lives, and reading it as Sym does.

An integration's settings that name a ``sym_secret`` arrive as ``Secret`` objects
(``event.flow.environment.integrations["victorops"].settings["secrets"][0]``), and
``retrieve_value()`` reads the value from Secrets Manager through the worker's secret reader,
as Sym's runtime does. The value is the reducer's to guard: jitflow never logs it.
"""

from __future__ import annotations

from typing import Any

from jitflow.sdk._context import current_hub
from jitflow.sdk.exceptions import SymIntegrationError
from jitflow.sdk.resource import SymResource


class SecretSource(SymResource):
    """A ``sym_secrets`` backend."""

    type: str
    settings: dict[str, Any] = {}


class Secret(SymResource):
    """A ``sym_secret``: ``id`` is its resource name (``sym_secret.<id>``), ``path`` its name in
    Secrets Manager, ``settings`` its ``json_key``."""

    id: str
    path: str
    source: SecretSource
    settings: dict[str, Any] = {}

    def retrieve_value(self) -> str:
        """The secret's value (the text under ``json_key`` when it names one), read now;
        ``SymIntegrationError`` when it cannot be read."""
        return current_hub("Secret.retrieve_value", SymIntegrationError).secret_value(self.id)

    def __repr__(self) -> str:
        return f"Secret(id={self.id!r}, path={self.path!r})"
