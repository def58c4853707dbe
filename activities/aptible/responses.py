"""Turning Aptible error answers into the classified errors of :mod:`activities.aptible.errors`."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx

from activities.aptible.errors import (
    AptibleAuthError,
    AptibleError,
    AptibleForbidden,
    AptibleNotFound,
    AptibleProtocolError,
    AptibleRateLimited,
    AptibleServerError,
    AptibleSsoRequired,
    AptibleUnprocessable,
)

#: Longest server message quoted in an error (Aptible's are one sentence).
_MESSAGE_LIMIT = 200


@dataclass(frozen=True)
class Subject:
    """What a call was about, for error messages: ``doing`` is a phrase such as
    ``"adding user alice@example.com to role 2446..."``; ids are named, secrets never."""

    doing: str
    role_id: str | None = None
    organization_id: str | None = None

    def where(self) -> str:
        return f" in organization {self.organization_id}" if self.organization_id else ""


def error_fields(response: httpx.Response) -> tuple[str | None, str]:
    """Aptible's ``error`` key and ``message`` (``{"code", "error", "message"}``), if present."""
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    key = body.get("error")
    message = body.get("message")
    return (
        key if isinstance(key, str) else None,
        message[:_MESSAGE_LIMIT] if isinstance(message, str) else "",
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def is_sso_refusal(key: str | None, message: str) -> bool:
    """SSO refusals have no documented key or status; recognise them by their words."""
    text = f"{key or ''} {message}".lower()
    return "sso" in text or "single sign-on" in text or "saml" in text


def transient_error(response: httpx.Response, subject: Subject) -> AptibleError | None:
    """The retryable error this answer means (429, 5xx), or None."""
    status = response.status_code
    if status == 429:
        wait = retry_after_seconds(response)
        hint = f"; retry after {wait:g}s" if wait is not None else ""
        return AptibleRateLimited(
            f"Aptible rate-limited {subject.doing}{subject.where()}{hint}", retry_after=wait
        )
    if status >= 500:
        key, _ = error_fields(response)
        return AptibleServerError(
            f"Aptible failed with {status} while {subject.doing}{subject.where()}",
            status=status,
            error=key,
        )
    return None


def raise_for_status(response: httpx.Response, subject: Subject) -> NoReturn:
    """Raise the classified error for a non-2xx answer the caller has no special meaning for."""
    transient = transient_error(response, subject)
    if transient is not None:
        raise transient
    status = response.status_code
    key, message = error_fields(response)
    said = f" (Aptible said: {message})" if message else ""
    where = subject.where()
    if status in (401, 403) and is_sso_refusal(key, message):
        raise AptibleSsoRequired(
            f"Aptible refused {subject.doing}{where}: the organization enforces SSO and refuses "
            "password logins unless the bot is an Account Owner or on its SSO allowlist"
            f"{said}",
            status=status,
            error=key,
        )
    if status == 401:
        raise AptibleAuthError(
            f"Aptible refused the bot's token (even after logging in again) while "
            f"{subject.doing}{where}{said}",
            status=status,
            error=key,
        )
    if status == 403:
        permission = (
            f"Role Admin permission on role {subject.role_id} (or Account Owner / Deploy Owner)"
            if subject.role_id
            else "permission to read it"
        )
        raise AptibleForbidden(
            f"Aptible refused {subject.doing}{where}: the bot lacks {permission}{said}",
            status=status,
            error=key,
        )
    if status == 404:
        raise AptibleNotFound(
            f"Aptible found nothing while {subject.doing}{where}{said}", status=status, error=key
        )
    if status == 422:
        raise AptibleUnprocessable(
            f"Aptible refused {subject.doing}{where}{said}", status=status, error=key
        )
    raise AptibleProtocolError(
        f"unexpected answer {status} from Aptible while {subject.doing}{where}{said}",
        status=status,
        error=key,
    )


def json_object(response: httpx.Response, subject: Subject) -> dict[str, Any]:
    """The answer's JSON object body, or a protocol error naming the call."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise AptibleProtocolError(
            f"Aptible answered {response.status_code} without a JSON object while {subject.doing}"
        )
    return body
