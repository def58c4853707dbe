"""Normalisation and checks of everything a user types: emails, roles, service types and ids.

Kept free of SQLAlchemy so that the CSV parser, the CLI and the store share one set of rules.
The service types are symflow's ``ServiceType`` table (``sym-semantics.md`` C.4), less the two
private ones (``sym`` is the email itself, ``auth0`` is internal to Sym).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import get_args

from jitflow.contracts.base import normalize_email
from jitflow.contracts.events import UserRoleName
from jitflow.identity.errors import InvalidValue

ROLES: tuple[UserRoleName, ...] = get_args(UserRoleName)
DEFAULT_ROLE: UserRoleName = "member"

#: service_type -> what its external id means (symflow's wording).
SERVICE_TYPES: dict[str, str] = {
    "slack": "Workspace ID",
    "aws_sso": "Instance ARN",
    "pagerduty": "PagerDuty subdomain",
    "aws_iam": "12-digit account number",
    "aptible": "Organization ID",
    "boundary": "cluster URL",
    "google": "email domain",
    "okta": "Okta domain",
    "onelogin": "OneLogin domain",
    "github": "GitHub org name",
    "custom": "custom external id",
    "tailscale": "tailnet name",
}

_EMAIL = re.compile(r"^[^@\s,;<>\"'`]+@[^@\s,;<>\"'`]+\.[^@\s,;<>\"'`.]+$")
_MAX_EMAIL = 320
_MAX_ID = 512


def checked_email(value: str) -> str:
    """Trimmed, lower-case email; raise InvalidValue naming the value when it is not one."""
    email = normalize_email(value)
    if len(email) > _MAX_EMAIL or not _EMAIL.match(email):
        raise InvalidValue(f"invalid email {value!r}: expected something like name@example.com")
    return email


def normalize_role(value: str) -> UserRoleName:
    """One of admin/member/guest, case-insensitive."""
    role = value.strip().lower()
    for known in ROLES:
        if role == known:
            return known
    raise InvalidValue(f"invalid role {value!r}: expected one of {', '.join(ROLES)}")


def normalize_service_type(value: str) -> str:
    service_type = value.strip().lower()
    if service_type not in SERVICE_TYPES:
        raise InvalidValue(
            f"unknown service type {value!r}: expected one of {', '.join(sorted(SERVICE_TYPES))}"
        )
    return service_type


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise InvalidValue(f"invalid {what} {value!r}: expected a UUID") from None


def _plain(value: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidValue(f"empty {what}")
    if len(text) > _MAX_ID or any(c.isspace() for c in text):
        raise InvalidValue(f"invalid {what} {value!r}: no spaces, at most {_MAX_ID} characters")
    return text


def _slack_workspace(value: str) -> str:
    text = _plain(value, "Slack workspace ID")
    if not text.startswith("T") or text != text.upper():
        raise InvalidValue(f"invalid Slack workspace ID {value!r}: expected upper case, starting T")
    return text


def _sso_instance(value: str) -> str:
    text = _plain(value, "AWS SSO instance ARN")
    if not text.startswith("arn:aws:sso:::instance/"):
        raise InvalidValue(
            f"invalid AWS SSO instance ARN {value!r}: expected arn:aws:sso:::instance/..."
        )
    return text


def _aws_account(value: str) -> str:
    text = _plain(value, "AWS account number")
    if not (text.isdigit() and len(text) == 12):
        raise InvalidValue(f"invalid AWS account number {value!r}: expected 12 digits")
    return text


_EXTERNAL_ID_CHECKS: dict[str, Callable[[str], str]] = {
    "aptible": lambda v: _uuid(v, "Aptible organization ID"),
    "slack": _slack_workspace,
    "aws_sso": _sso_instance,
    "aws_iam": _aws_account,
}

_USER_ID_CHECKS: dict[str, Callable[[str], str]] = {
    "aptible": lambda v: _uuid(v, "Aptible user ID"),
}


def normalize_external_id(service_type: str, value: str) -> str:
    """The service's external id (for Aptible, the organization UUID, lower case)."""
    check = _EXTERNAL_ID_CHECKS.get(service_type)
    return check(value) if check else _plain(value, f"{service_type} external ID")


def normalize_service_user_id(service_type: str, value: str) -> str:
    """The user's id in the service (for Aptible, the user UUID, lower case)."""
    check = _USER_ID_CHECKS.get(service_type)
    return check(value) if check else _plain(value, f"{service_type} user ID")


def normalize_name(value: str | None) -> str | None:
    """A first or last name: trimmed, ``None`` when blank."""
    if value is None:
        return None
    text = value.strip()
    if len(text) > 200:
        raise InvalidValue(f"name {text[:20]!r}... is longer than 200 characters")
    return text or None
