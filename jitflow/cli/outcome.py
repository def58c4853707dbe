"""Exit codes of ``jitflow request|approve|deny|revoke|cancel``, and the error that carries one.

A script (or a person reading ``$?``) needs to tell "access granted" from "waiting for an
approver", "refused" and "failed" without parsing text: a request that a hook denied must not
exit 0 like a granted one. The codes are the same for every command; 0 means the command reached
its goal (access granted for ``request`` and ``approve``; denied, removed or withdrawn for
``deny``, ``revoke`` and ``cancel``). README.md lists them.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal

import click

from jitflow.cli.naming import name_commands


class ExitCode(IntEnum):
    """What a request or decision command's exit status means."""

    DONE = 0
    """Granted (``request``, ``approve``), or denied/removed/withdrawn as asked."""
    ERROR = 1
    """Nothing was done: Temporal unreachable, no such request, a bad key, the id in use."""
    USAGE = 2
    """A missing or malformed option (click's own code)."""
    PENDING = 3
    """The request waits for a decision, or access is still being granted or removed."""
    REFUSED = 4
    """The request was denied (by a hook or an approver), or the decision was refused."""
    FAILED = 5
    """The request failed: invalid input, unknown identity, Aptible refused..."""


class CommandError(click.ClickException):
    """A one-line error with its exit code; ``jitflow ...`` hints in it are renamed to the way
    the user ran the command."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(name_commands(message))
        # click exits with the instance's exit_code; its stubs declare it a class variable only.
        self.exit_code = int(code)  # type: ignore[misc]


Command = Literal["request", "approve", "deny", "revoke", "cancel"]

#: The statuses each command aims for: reaching one is success.
_GOALS: dict[Command, frozenset[str]] = {
    "request": frozenset({"escalated"}),
    "approve": frozenset({"escalated"}),
    "deny": frozenset({"denied"}),
    "revoke": frozenset({"deescalated", "cancelled"}),
    "cancel": frozenset({"cancelled"}),
}

#: Statuses that mean "not there yet, nothing went wrong".
_IN_PROGRESS = frozenset({"pending", "approved", "escalated"})


def exit_code(command: Command, status: str, *, accepted: bool = True) -> ExitCode:
    """The exit code of ``command`` that left the request in ``status``.

    ``accepted`` is False when the workflow did not apply the decision (a hook ignored it, or
    another decision came first): that is a refusal whatever the status.
    """
    if not accepted:
        return ExitCode.REFUSED
    if status in _GOALS[command]:
        return ExitCode.DONE
    if status == "failed":
        return ExitCode.FAILED
    if status in _IN_PROGRESS and command in ("request", "approve", "revoke"):
        # Waiting for an approver, access being granted, or (revoke) still being removed.
        return ExitCode.PENDING
    return ExitCode.REFUSED
