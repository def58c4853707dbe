"""AWS SSO helpers: importable so ``impl.py`` files load; calling one raises the integration's error."""

from __future__ import annotations

from typing import Any

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import AWSSSOError
from jitflow.sdk.user import User

__all__ = ["AWSSSOError", "is_user_in_group", "list_accounts", "list_groups", "users_in_group"]

_WHY = "jitflow does not talk to AWS SSO yet"


def is_user_in_group(user: User, *, group_name: str) -> bool:
    raise not_available("aws_sso.is_user_in_group", _WHY, AWSSSOError)


def list_groups() -> list[dict[str, Any]]:
    raise not_available("aws_sso.list_groups", _WHY, AWSSSOError)


def users_in_group(group_name: str) -> list[User]:
    raise not_available("aws_sso.users_in_group", _WHY, AWSSSOError)


def list_accounts(organizational_unit_id: str | None = None) -> list[dict[str, Any]]:
    raise not_available("aws_sso.list_accounts", _WHY, AWSSSOError)
