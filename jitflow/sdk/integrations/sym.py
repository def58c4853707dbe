"""Users of the platform itself, from jitflow's user store (the roles known when the call began)."""

from __future__ import annotations

from jitflow.sdk._context import current_call
from jitflow.sdk.exceptions import SymIntegrationError
from jitflow.sdk.user import User

__all__ = ["get_or_create_user_by_email", "get_or_create_users_by_emails"]


def get_or_create_user_by_email(email: str) -> User:
    """The jitflow user known by ``email``, with the role the store gives it (default member)."""
    context = current_call("sym.get_or_create_user_by_email")
    try:
        user = User.from_email(email)
    except ValueError as error:
        raise SymIntegrationError("INVALID_EMAIL", str(error)) from None
    context.seen.add(user.username)
    return User.from_email(email, context.roles.get(user.username, "member"))


def get_or_create_users_by_emails(emails: list[str], raise_on_error: bool = False) -> list[User]:
    """Every valid email's user; invalid ones are skipped unless ``raise_on_error``."""
    users: list[User] = []
    for email in emails:
        try:
            users.append(get_or_create_user_by_email(email))
        except SymIntegrationError:
            if raise_on_error:
                raise
    return users
