"""Who is who: jitflow users (email, name, role), their ids in services such as Aptible, and the
OpenSSH keys that sign their decisions.

``IdentityStore`` is the API; ``jitflow users`` and the identity-resolution activity use it.
"""

from jitflow.identity.database import DATABASE_URL_ENV, DEFAULT_DATABASE_URL
from jitflow.identity.errors import (
    CsvRejected,
    DatabaseUnavailable,
    IdentityMissing,
    IdentityStoreError,
    InvalidValue,
    UserExists,
    UserNotFound,
)
from jitflow.identity.models import CsvApplyReport, Identity, KeyRecord, User
from jitflow.identity.store import KEEP, IdentityStore
from jitflow.identity.validation import ROLES, SERVICE_TYPES

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "KEEP",
    "ROLES",
    "SERVICE_TYPES",
    "CsvApplyReport",
    "CsvRejected",
    "DatabaseUnavailable",
    "Identity",
    "IdentityMissing",
    "IdentityStore",
    "IdentityStoreError",
    "InvalidValue",
    "KeyRecord",
    "User",
    "UserExists",
    "UserNotFound",
]
