"""Errors of loading and running user reducers: each names the file, line and function at fault."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImplementationProblem:
    """One thing wrong with a flow's implementation, found when it was loaded."""

    file: str
    line: int | None
    function: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.function}: {self.message}"
            if self.function
            else f"{where}: {self.message}"
        )


class ImplementationError(Exception):
    """A flow's implementation cannot be used: a configuration error, reported before any grant."""

    def __init__(self, problems: list[ImplementationProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ReducerFailed(Exception):
    """A reducer or hook raised, or returned something jitflow cannot act on."""

    def __init__(self, function: str, where: str, message: str) -> None:
        self.function = function
        self.where = where
        self.message = message
        super().__init__(f"{function} ({where}): {message}")
