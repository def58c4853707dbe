"""Google helpers: importable so ``impl.py`` files load; calling one raises the integration's error."""

from __future__ import annotations

from typing import Any

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import GoogleError
from jitflow.sdk.user import User

__all__ = ["GoogleError", "is_user_in_group", "list_groups", "users_in_group"]

_WHY = "jitflow does not talk to Google yet"


def is_user_in_group(user: User, *, group_email: str) -> bool:
    raise not_available("google.is_user_in_group", _WHY, GoogleError)


def list_groups(domain: str | None = None) -> list[dict[str, Any]]:
    raise not_available("google.list_groups", _WHY, GoogleError)


def users_in_group(group_email: str, *, include_indirect_members: bool = True) -> list[User]:
    raise not_available("google.users_in_group", _WHY, GoogleError)
