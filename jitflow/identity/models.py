"""What the identity store hands back: plain frozen records, detached from any database session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jitflow.contracts.events import UserRoleName
from jitflow.trust.keys import PublicKey, parse_public_key


@dataclass(frozen=True)
class User:
    """A jitflow user, known by lower-case email."""

    email: str
    role: UserRoleName
    first_name: str | None
    last_name: str | None
    created_at: datetime

    @property
    def display_name(self) -> str:
        """``First Last`` when known, as ``symflow users list`` shows it; empty otherwise."""
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True)
class Identity:
    """``email``'s id (``service_user_id``) in one service at (``service_type``, ``external_id``).

    For Aptible, ``external_id`` is the organization UUID and ``service_user_id`` the user UUID.
    """

    email: str
    service_type: str
    external_id: str
    service_user_id: str
    updated_at: datetime

    @property
    def column(self) -> str:
        """The CSV column that holds this identity: ``service_type:external_id``."""
        return f"{self.service_type}:{self.external_id}"


@dataclass(frozen=True)
class KeyRecord:
    """An OpenSSH Ed25519 public key registered to ``email``: it signs that person's decisions.

    ``public_key`` is the normalised ``ssh-ed25519 <base64>`` (no comment); ``fingerprint`` is
    what ``ssh-keygen -lf`` prints for it; ``comment`` is what followed the key in its ``.pub``.
    """

    email: str
    fingerprint: str
    public_key: str
    comment: str
    added_at: datetime

    def to_public_key(self) -> PublicKey:
        """The key, ready to verify signatures."""
        return parse_public_key(f"{self.public_key} {self.comment}")


@dataclass(frozen=True)
class CsvApplyReport:
    """What ``IdentityStore.apply_csv`` changed, for the CLI to print."""

    created_users: tuple[str, ...] = ()
    updated_users: tuple[str, ...] = ()
    deleted_users: tuple[str, ...] = ()
    set_identities: int = 0
    deleted_identities: int = 0
    unchanged_users: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(
            self.created_users
            or self.updated_users
            or self.deleted_users
            or self.set_identities
            or self.deleted_identities
        )


@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger holds of a membership jitflow created or is about to create."""

    state: str
    """``"intended"`` (written before the POST) or ``"created"``."""
    membership_id: str | None
    """The Aptible id recorded when jitflow created it; None while only intended."""


@dataclass(frozen=True)
class OverdueMembership:
    """A membership the ledger says jitflow created whose every grant has ended: nothing jitflow
    issued allows it any more, so it should already be gone from Aptible."""

    org_id: str
    role_id: str
    user_id: str
    membership_id: str | None
    last_end: datetime
    """When the last of its grants ended (its ticket's ``not_after``, or when it was closed)."""
    tickets: int
    updated_at: datetime
    """When its ledger row was last written: removal forgets the row only if still so."""
