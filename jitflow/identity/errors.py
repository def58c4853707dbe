"""Errors of the identity store. Each names the bad value so that the CLI can print it as is."""

from __future__ import annotations


class IdentityStoreError(Exception):
    """Base class: anything the store refuses, with a message fit for a human."""


class InvalidValue(IdentityStoreError, ValueError):
    """An email, role, service type, external id or service user id that is not acceptable."""


class UserNotFound(IdentityStoreError, LookupError):
    """The store has no user with this email."""

    def __init__(self, email: str) -> None:
        super().__init__(f"no user with email {email!r}")
        self.email = email


class UserExists(IdentityStoreError):
    """A user with this email already exists (``jitflow users create``)."""

    def __init__(self, email: str) -> None:
        super().__init__(f"a user with email {email!r} already exists")
        self.email = email


class IdentityMissing(IdentityStoreError, LookupError):
    """The user has no identity for this (service type, external id)."""

    def __init__(self, email: str, service_type: str, external_id: str) -> None:
        super().__init__(f"user {email!r} has no {service_type}:{external_id} identity")
        self.email = email
        self.service_type = service_type
        self.external_id = external_id


class CsvRejected(IdentityStoreError, ValueError):
    """A users CSV was refused as a whole; ``problems`` lists every reason, with line numbers."""

    def __init__(self, problems: list[str]) -> None:
        summary = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"CSV rejected, nothing was changed: {summary}{more}")
        self.problems = problems


class DatabaseUnavailable(IdentityStoreError):
    """The database could not be opened or migrated; the message never holds a password."""
