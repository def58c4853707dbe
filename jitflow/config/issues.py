"""Structured configuration errors and warnings, and the exception that carries them.

Every problem names where it is (file, line when python-hcl2 knows it, resource address,
attribute) and, when a name was probably mistyped, the nearest existing one. A load collects
all of them before failing, so a user fixes a configuration in one pass.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from jitflow.config.models import SourceLocation

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class ConfigIssue:
    """One configuration problem. ``also_at`` lists further places where the same problem occurs."""

    message: str
    file: str | None = None
    line: int | None = None
    address: str | None = None
    attribute: str | None = None
    suggestion: str | None = None
    severity: Severity = "error"
    also_at: tuple[str, ...] = ()

    @classmethod
    def at(
        cls,
        message: str,
        *,
        location: SourceLocation | None,
        address: str | None = None,
        attribute: str | None = None,
        suggestion: str | None = None,
        severity: Severity = "error",
    ) -> ConfigIssue:
        """Build an issue about a loaded resource, from its ``location`` in the models."""
        return cls(
            message,
            file=location.file if location else None,
            line=location.line if location else None,
            address=address,
            attribute=attribute,
            suggestion=suggestion,
            severity=severity,
        )

    @property
    def place(self) -> str:
        """``file:line: address.attribute`` (the parts that are known)."""
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        subject = ".".join(part for part in (self.address, self.attribute) if part)
        if subject:
            parts.append(subject)
        return ": ".join(parts)

    def __str__(self) -> str:
        text = f"{self.place}: {self.message}" if self.place else self.message
        if self.suggestion:
            text += f" (did you mean {self.suggestion}?)"
        for other in self.also_at:
            text += f"\n    also at {other}"
        return text


class ConfigErrors(Exception):
    """A load failed: ``errors`` holds every error found, ``warnings`` the warnings so far."""

    def __init__(self, errors: Sequence[ConfigIssue], warnings: Sequence[ConfigIssue] = ()) -> None:
        self.errors = sorted(errors, key=lambda issue: (issue.file or "", issue.line or 0))
        self.warnings = list(warnings)
        super().__init__(self.report())

    def report(self) -> str:
        """The readable report: a count, then one entry per error."""
        count = len(self.errors)
        lines = [f"{count} configuration error{'s' if count != 1 else ''}:"]
        lines.extend(f"  - {issue}".replace("\n", "\n  ") for issue in self.errors)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


@dataclass(frozen=True)
class Site:
    """Where a value was written: what an issue about it should name."""

    file: str | None = None
    line: int | None = None
    address: str | None = None
    attribute: str | None = None

    def at(self, attribute: str, line: int | None = None) -> Site:
        """The site of ``attribute`` inside this one (``params`` -> ``params.strategy_id``)."""
        joiner = "" if attribute.startswith("[") else "."
        name = f"{self.attribute}{joiner}{attribute}" if self.attribute else attribute
        return Site(self.file, line if line is not None else self.line, self.address, name)

    def issue(
        self, message: str, *, suggestion: str | None = None, severity: Severity = "error"
    ) -> ConfigIssue:
        return ConfigIssue(
            message,
            file=self.file,
            line=self.line,
            address=self.address,
            attribute=self.attribute,
            suggestion=suggestion,
            severity=severity,
        )


def nearest(wanted: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate closest to ``wanted`` (difflib), or ``None`` when none is close enough."""
    matches = difflib.get_close_matches(wanted, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


@dataclass
class IssueCollector:
    """Collects issues during one load; the same problem seen at several places becomes one issue.

    ``group`` keys identify a problem (for example the undefined reference ``sym_secrets.this``):
    the first occurrence gives the issue its place, later ones are appended to ``also_at``.
    """

    _issues: list[ConfigIssue] = field(default_factory=list)
    _groups: dict[object, int] = field(default_factory=dict)

    def add(self, issue: ConfigIssue, group: object = None) -> None:
        if group is None:
            if issue not in self._issues:
                self._issues.append(issue)
            return
        index = self._groups.get(group)
        if index is None:
            self._groups[group] = len(self._issues)
            self._issues.append(issue)
            return
        first = self._issues[index]
        if issue.place != first.place and issue.place not in first.also_at:
            self._issues[index] = replace(first, also_at=(*first.also_at, issue.place))

    def error(
        self, message: str, site: Site, *, suggestion: str | None = None, group: object = None
    ) -> None:
        self.add(site.issue(message, suggestion=suggestion), group)

    def warning(self, message: str, site: Site, *, suggestion: str | None = None) -> None:
        self.add(site.issue(message, suggestion=suggestion, severity="warning"))

    @property
    def errors(self) -> list[ConfigIssue]:
        return [issue for issue in self._issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[ConfigIssue]:
        return [issue for issue in self._issues if issue.severity == "warning"]
