"""Boundary helpers: importable so ``impl.py`` files load; calling one fails clearly."""

from __future__ import annotations

from typing import Any

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import BoundaryError

__all__ = ["BoundaryError", "get_group", "list_groups"]

_WHY = "jitflow does not talk to Boundary yet"


def list_groups(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    raise not_available("boundary.list_groups", _WHY, BoundaryError)


def get_group(group_id: str) -> dict[str, Any]:
    raise not_available("boundary.get_group", _WHY, BoundaryError)
