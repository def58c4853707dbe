"""OneLogin helpers: importable so ``impl.py`` files load; calling one fails clearly."""

from __future__ import annotations

from typing import Any

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import OneLoginError
from jitflow.sdk.user import User

__all__ = ["OneLoginError", "get_user_info", "is_user_in_role", "list_roles", "users_in_role"]

_WHY = "jitflow does not talk to OneLogin yet"


def list_roles(name_filter: str | None = None) -> list[dict[str, Any]]:
    raise not_available("onelogin.list_roles", _WHY, OneLoginError)


def get_user_info(user: User) -> dict[str, Any]:
    raise not_available("onelogin.get_user_info", _WHY, OneLoginError)


def users_in_role(role_id: int) -> list[User]:
    raise not_available("onelogin.users_in_role", _WHY, OneLoginError)


def is_user_in_role(user: User, *, role_id: int) -> bool:
    raise not_available("onelogin.is_user_in_role", _WHY, OneLoginError)
