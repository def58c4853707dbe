"""KnowBe4 helpers: importable so ``impl.py`` files load; calling one raises NotImplementedError."""

from __future__ import annotations

from typing import Any

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import KnowBe4Error
from jitflow.sdk.user import User

__all__ = ["KnowBe4Error", "get_training_enrollments_for_user", "is_user_in_group"]

_WHY = "jitflow does not talk to KnowBe4 yet"


def get_training_enrollments_for_user(
    user: User, *args: Any, **kwargs: Any
) -> list[dict[str, Any]]:
    raise not_available("knowbe4.get_training_enrollments_for_user", _WHY)


def is_user_in_group(user: User, group_id: int) -> bool:
    raise not_available("knowbe4.is_user_in_group", _WHY)
