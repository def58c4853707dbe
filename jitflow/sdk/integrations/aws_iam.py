"""AWS IAM helpers: importable so ``impl.py`` files load; calling one raises the integration's error."""

from __future__ import annotations

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import AWSIAMError
from jitflow.sdk.user import User

__all__ = ["AWSIAMError", "is_user_in_group"]

_WHY = "jitflow does not talk to AWS IAM yet"


def is_user_in_group(user: User, *, group_name: str) -> bool:
    raise not_available("aws_iam.is_user_in_group", _WHY, AWSIAMError)
