"""How the integration clients turn service accounts into jitflow users, and users into ids.

A service answers with its own user records; reducers get jitflow ``User``s (known by email,
with the role the identity store gives them), as Sym's SDK returns Sym users. Going the other
way, a client needs the user's id in the service: the identity stored for it (``jitflow users
update-identity``), else the service's own lookup by email, which is Sym's order too
(sym-semantics C.2).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from jitflow.sdk.user import User

log = logging.getLogger("jitflow.integrations")


@dataclass(frozen=True)
class People:
    """What a client needs to know about people: roles, and stored service identities."""

    roles: Mapping[str, str]
    stored: Callable[[str, str, str], str | None]
    """``(email, service_type, external_id) -> the stored id``, or None."""
    seen: set[str] = field(default_factory=set)
    """Every email this call turned into a user: the runner maps their ids back to emails."""

    def user(self, email: str, first_name: str | None = None, last_name: str | None = None) -> User:
        """The jitflow user of ``email``, with the role the store gives it (default member)."""
        user = User.from_email(email)
        self.seen.add(user.username)
        role = self.roles.get(user.username, "member")
        return User.from_email(email, role, first_name=first_name, last_name=last_name)

    def users(self, emails: list[str]) -> list[User]:
        """One user per distinct valid email, in order; entries that are no email are skipped."""
        found: dict[str, User] = {}
        for email in emails:
            try:
                user = self.user(email)
            except ValueError:
                continue
            found.setdefault(user.username, user)
        return list(found.values())

    def known_id(self, user: User, service_type: str, external_id: str) -> str | None:
        """The user's id in the service if jitflow knows it: on the event, else in the store."""
        identity = user.identity(service_type, external_id)
        if identity is not None:
            return identity.user_id
        if not user.email:
            return None
        try:
            return self.stored(user.email, service_type, external_id)
        except Exception as error:  # the store is a shortcut: the service's lookup still works
            log.warning(
                "could not read the stored %s identity of %s (%s); looking the user up by email",
                service_type,
                user.email,
                type(error).__name__,
            )
            return None


def no_stored_identity(email: str, service_type: str, external_id: str) -> str | None:
    """For workers without an identity store: nothing is stored."""
    return None
