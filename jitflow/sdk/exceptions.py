"""Sym's exception classes (``sym.sdk.exceptions``): ``error_code`` is ``"<ErrorType>:<NAME>"``."""

from __future__ import annotations


class SymException(Exception):
    """Base of every error the runtime raises; ``to_dict()`` is what lands in the audit trail."""

    def __init__(self, error_type: str, name: str, message: str) -> None:
        self.message = message
        self.error_code = f"{error_type}:{name}"
        super().__init__(message)

    def to_dict(self) -> dict[str, object]:
        return {"error": True, "message": self.message, "code": self.error_code}


class ExceptionWithHint(SymException):
    """An exception whose text ends with a ``*Hint:*`` line."""

    @property
    def hint(self) -> str:
        return ""

    def __str__(self) -> str:
        return f"{self.message}\n\n*Hint:* {self.hint}" if self.hint else self.message


class AccessStrategyError(SymException):
    """An access strategy failed."""

    def __init__(self, name: str, message: str, error_type: str = "AccessStrategy") -> None:
        super().__init__(error_type, name, message)


class AptibleError(SymException):
    """An Aptible call failed (``Aptible:<NAME>``, e.g. ``Aptible:ALREADY_IN_ROLE``)."""

    def __init__(self, name: str, message: str, error_type: str = "Aptible") -> None:
        super().__init__(error_type, name, message)


class BoundaryError(SymException):
    """A Boundary call failed."""

    def __init__(self, name: str, message: str, error_type: str = "Boundary") -> None:
        super().__init__(error_type, name, message)


class GitHubError(SymException):
    """A GitHub call failed."""

    def __init__(self, name: str, message: str, error_type: str = "GitHub") -> None:
        super().__init__(error_type, name, message)


class GoogleError(SymException):
    """A Google call failed."""

    def __init__(self, name: str, message: str, error_type: str = "Google") -> None:
        super().__init__(error_type, name, message)


class HTTPError(SymException):
    """An HTTP call failed."""

    def __init__(self, name: str, message: str, error_type: str = "HTTP") -> None:
        super().__init__(error_type, name, message)


class JiraError(SymException):
    """A Jira call failed."""

    def __init__(self, name: str, message: str, error_type: str = "Jira") -> None:
        super().__init__(error_type, name, message)


class KnowBe4Error(SymException):
    """A KnowBe4 call failed."""

    def __init__(self, name: str, message: str, error_type: str = "KnowBe4") -> None:
        super().__init__(error_type, name, message)


class OktaError(SymException):
    """An Okta call failed."""

    def __init__(self, name: str, message: str, error_type: str = "Okta") -> None:
        super().__init__(error_type, name, message)


class OneLoginError(SymException):
    """A OneLogin call failed."""

    def __init__(self, name: str, message: str, error_type: str = "OneLogin") -> None:
        super().__init__(error_type, name, message)


class PagerDutyError(SymException):
    """A PagerDuty call failed."""

    def __init__(self, name: str, message: str, error_type: str = "PagerDuty") -> None:
        super().__init__(error_type, name, message)


class SlackError(SymException):
    """A Slack call failed."""

    def __init__(self, name: str, message: str, error_type: str = "Slack") -> None:
        super().__init__(error_type, name, message)


class SymIntegrationError(SymException):
    """A call to the platform itself failed."""

    def __init__(self, name: str, message: str, error_type: str = "SymIntegration") -> None:
        super().__init__(error_type, name, message)


class AWSError(SymException):
    """An AWS call failed."""

    def __init__(self, name: str, message: str, error_type: str = "AWS") -> None:
        super().__init__(error_type, name, message)


class AWSLambdaError(AWSError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(name, message, "AWSLambda")


class AWSIAMError(AWSError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(name, message, "AWSIAM")


class AWSSSOError(AWSError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(name, message, "AWSSSO")


class IdentityError(SymException):
    """A user identity could not be found or saved."""

    def __init__(self, name: str, message: str, error_type: str = "Identity") -> None:
        super().__init__(error_type, name, message)


class CouldNotSaveError(IdentityError):
    def __init__(self, message: str) -> None:
        super().__init__("COULD_NOT_SAVE", message)


class IdentityNotFound(IdentityError, ExceptionWithHint):
    """No identity of ``email`` in the service ``service_id``."""

    def __init__(self, email: str, service_id: str) -> None:
        self.email = email
        self.service_id = service_id
        super().__init__("NOT_FOUND", f"No identity found for {email} in {service_id}")

    @property
    def hint(self) -> str:
        return "Map the identity by hand with the `jitflow users` commands."


class SDKError(SymException):
    """The SDK was called wrongly."""

    def __init__(self, name: str, message: str, error_type: str = "SymSDK") -> None:
        super().__init__(error_type, name, message)


class MissingArgument(SDKError):
    def __init__(self, arg: str, method: str) -> None:
        super().__init__("MISSING_ARGUMENT", f"{method} needs the argument {arg!r}")
