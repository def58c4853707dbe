"""Helpers for the Secrets Manager tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field

from jitflow.config.models import SecretRef


def ref(path: str, json_key: str | None = None) -> SecretRef:
    """A ``sym_secret`` as the configuration loader would resolve it."""
    return SecretRef(key=f"ref_{json_key or 'plain'}", source="this", path=path, json_key=json_key)


def assert_reveals_nothing(error: BaseException, *values: str) -> None:
    """No secret value in the error's message, repr or formatted traceback (with its chain)."""
    rendered = "\n".join([str(error), repr(error), "".join(traceback.format_exception(error))])
    for value in values:
        assert value not in rendered, f"secret value leaked into {type(error).__name__}"


@dataclass
class CannedAws:
    """A loopback HTTP server answering every request with one canned AWS JSON-protocol reply."""

    url: str
    status: int = 200
    body: dict[str, object] = field(default_factory=dict)
    requests: int = 0

    def answer(self, status: int, body: dict[str, object]) -> None:
        self.status, self.body = status, body
