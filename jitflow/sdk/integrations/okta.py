"""Sym's Okta helpers, answered by Okta's management API.

They use the flow's ``okta`` integration (``sym_integration`` of type ``okta``: ``external_id`` the
Okta domain, ``api_token_secret`` an API token). Anything that goes wrong raises ``OktaError``
(``GROUP_NOT_FOUND``, ``USER_NOT_FOUND``, ``UNREACHABLE``...). A user is matched to an Okta user
by the identity stored for it, else by login (the email), else by profile email.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jitflow.sdk._context import current_hub
from jitflow.sdk.exceptions import OktaError
from jitflow.sdk.user import User

if TYPE_CHECKING:
    from jitflow.integrations.okta import OktaClient

__all__ = ["OktaError", "get_user_info", "is_user_in_group", "list_groups", "users_in_group"]


def _client(function: str) -> OktaClient:
    """The flow's okta client for SDK function ``function``, or ``OktaError`` saying why not."""
    return current_hub(function, OktaError).okta()


def is_user_in_group(user: User, *, group_id: str) -> bool:
    """Whether ``user`` is a member of the Okta group ``group_id`` (which must exist)."""
    return _client("okta.is_user_in_group").is_user_in_group(user, group_id=group_id)


def users_in_group(*, group_id: str) -> list[User]:
    """The members of the Okta group ``group_id`` who can act (not deprovisioned or suspended)."""
    return _client("okta.users_in_group").users_in_group(group_id=group_id)


def get_user_info(user: User) -> dict[str, Any]:
    """The user's Okta record, as Okta's Users API returns it (``profile``, ``status``...)."""
    return _client("okta.get_user_info").get_user_info(user)


def list_groups(
    *,
    name_filter: str | None = None,
    filter: str | None = None,
    expand: list[str] | None = None,
    only_native_groups: bool = True,
) -> list[dict[str, Any]]:
    """Okta's groups (``q``, ``filter``, ``expand`` as in Okta's List Groups API); only those
    Okta manages itself unless ``only_native_groups=False``."""
    return _client("okta.list_groups").list_groups(
        name_filter=name_filter,
        filter=filter,
        expand=expand,
        only_native_groups=only_native_groups,
    )
