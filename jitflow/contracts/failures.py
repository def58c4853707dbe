"""The one place that reads an activity or update failure back into a message.

Temporal wraps what an activity raised (``ActivityError`` → ``ApplicationError``); callers want
the innermost application message and type. Activities build their messages from ids and names
only, so the text is safe to record.
"""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError


def root_cause(error: BaseException) -> BaseException:
    """The innermost cause below any ``ActivityError`` wrappers."""
    cause: BaseException = error
    while isinstance(cause, ActivityError) and cause.cause is not None:
        cause = cause.cause
    return cause


def failure_message(error: BaseException) -> str:
    """The innermost application message of a failure."""
    cause = root_cause(error)
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause)


def failure_type(error: BaseException) -> str | None:
    """The ``ApplicationError.type`` at the root of a failure, when there is one."""
    cause = root_cause(error)
    return cause.type if isinstance(cause, ApplicationError) else None
