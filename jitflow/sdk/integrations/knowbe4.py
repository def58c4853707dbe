"""Sym's KnowBe4 helpers, answered by KnowBe4's Reporting API.

They use the flow's ``knowbe4`` integration (``sym_integration`` of type ``knowbe4``: its
``region`` and ``api_token_secret`` settings). Anything that goes wrong raises ``KnowBe4Error``;
a user KnowBe4 does not know (matched by email) is ``KnowBe4Error("USER_NOT_FOUND")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jitflow.sdk._context import current_hub
from jitflow.sdk.exceptions import KnowBe4Error
from jitflow.sdk.user import User

if TYPE_CHECKING:
    from jitflow.integrations.knowbe4 import KnowBe4Client

__all__ = ["KnowBe4Error", "get_training_enrollments_for_user", "is_user_in_group"]


def _client(function: str) -> KnowBe4Client:
    """The flow's knowbe4 client for SDK function ``function``, or ``KnowBe4Error`` saying why not."""
    return current_hub(function, KnowBe4Error).knowbe4()


def get_training_enrollments_for_user(
    user: User, store_purchase_id: int | None = None, campaign_id: int | None = None
) -> list[dict[str, Any]]:
    """The user's training enrollments (``status`` is ``"Passed"`` once done), optionally of one
    store purchase and one training campaign."""
    client = _client("knowbe4.get_training_enrollments_for_user")
    return client.get_training_enrollments_for_user(
        user, store_purchase_id=store_purchase_id, campaign_id=campaign_id
    )


def is_user_in_group(user: User, group_id: int) -> bool:
    """Whether the user belongs to the KnowBe4 group ``group_id``."""
    return _client("knowbe4.is_user_in_group").is_user_in_group(user, group_id)
