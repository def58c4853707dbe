"""The requested access target (``sym.sdk.target``): an Aptible role in jitflow."""

from __future__ import annotations

from typing import Any

from jitflow.sdk.resource import SymResource


class AccessTarget(SymResource):
    """A ``sym_target``: ``settings["role_id"]`` holds the Aptible role id."""

    label: str | None = None
    type: str
    settings: dict[str, Any] = {}
