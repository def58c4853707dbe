"""Classified failures of Aptible calls.

Every error carries ``retryable`` (transient: a Temporal retry may succeed), the HTTP ``status``
when there was one, and a ``code`` in Sym's ``Aptible:<NAME>`` style. Messages name the role id,
the user and the organization, never a password, a token or an ``Authorization`` header.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError


class AptibleError(Exception):
    """Base of every Aptible failure."""

    code = "Aptible:ERROR"
    retryable = False

    def __init__(self, message: str, *, status: int | None = None, error: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.error = error
        """Aptible's ``error`` key (``invalid_credentials``, ``forbidden``...) when it sent one."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status}, code={self.code!r})"

    def as_application_error(self) -> ApplicationError:
        """The Temporal form: ``type`` is :attr:`code`; transient errors stay retryable."""
        delay = getattr(self, "retry_after", None)
        return ApplicationError(
            self.message,
            type=self.code,
            non_retryable=not self.retryable,
            next_retry_delay=timedelta(seconds=delay) if delay else None,
        )


class AptibleInvalidInput(AptibleError, ValueError):
    """A caller passed a malformed id or email; nothing was sent."""

    code = "Aptible:INVALID_INPUT"


class AptibleTransientError(AptibleError):
    """Worth retrying later: the request may not have reached Aptible, or Aptible failed."""

    code = "Aptible:UNAVAILABLE"
    retryable = True


class AptibleServerError(AptibleTransientError):
    """A 5xx answer."""

    code = "Aptible:SERVER_ERROR"


class AptibleRateLimited(AptibleTransientError):
    """A 429 answer; ``retry_after`` holds the seconds of its ``Retry-After`` header, if any."""

    code = "Aptible:RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: float | None, status: int | None = 429):
        super().__init__(message, status=status, error="rate_limited")
        self.retry_after = retry_after


class AptibleTimeout(AptibleTransientError):
    """No answer in time; a write may or may not have been applied."""

    code = "Aptible:TIMEOUT"


class AptibleConnectionDropped(AptibleTransientError):
    """The connection failed or closed without an answer; a write may or may not have applied."""

    code = "Aptible:CONNECTION_DROPPED"


class AptibleAuthError(AptibleError):
    """The bot could not authenticate; retrying will not help (and could lock the account)."""

    code = "Aptible:AUTHENTICATION_FAILED"


class AptibleInvalidCredentials(AptibleAuthError):
    """Wrong bot email or password."""

    code = "Aptible:INVALID_CREDENTIALS"


class AptibleOtpRequired(AptibleAuthError):
    """The bot user has two-factor authentication on; jitflow needs it off."""

    code = "Aptible:OTP_REQUIRED"


class AptibleSsoRequired(AptibleAuthError):
    """The organization enforces SSO and the bot is neither an Account Owner nor allowlisted."""

    code = "Aptible:SSO_REQUIRED"


class AptibleForbidden(AptibleError):
    """403: the bot lacks the permission (Role Admin of the role) the call needs."""

    code = "Aptible:FORBIDDEN"


class AptibleNotFound(AptibleError):
    """404 on a role or user the call needed."""

    code = "Aptible:NOT_FOUND"


class AptibleUnprocessable(AptibleError):
    """422: Aptible refused the change (unknown user, user not in the organization...)."""

    code = "Aptible:UNPROCESSABLE"


class AptibleProtocolError(AptibleError):
    """An answer jitflow does not understand (unexpected status or body, a link to another host)."""

    code = "Aptible:BAD_RESPONSE"
