"""Okta helpers: importable so ``impl.py`` files load; calling one raises NotImplementedError."""

from __future__ import annotations

from typing import Any

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import OktaError
from jitflow.sdk.user import User

__all__ = ["OktaError", "get_user_info", "is_user_in_group", "list_groups", "users_in_group"]

_WHY = "jitflow does not talk to Okta yet"


def is_user_in_group(user: User, *, group_id: str) -> bool:
    raise not_available("okta.is_user_in_group", _WHY)


def users_in_group(*, group_id: str) -> list[User]:
    raise not_available("okta.users_in_group", _WHY)


def get_user_info(user: User) -> dict[str, Any]:
    raise not_available("okta.get_user_info", _WHY)


def list_groups(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    raise not_available("okta.list_groups", _WHY)
