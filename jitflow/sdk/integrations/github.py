"""GitHub helpers: importable so ``impl.py`` files load; calling one raises the integration's error."""

from __future__ import annotations

from collections.abc import Iterable

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import GitHubError
from jitflow.sdk.user import User

__all__ = ["GitHubError", "get_repo_collaborators"]

_WHY = "jitflow does not talk to GitHub yet"


def get_repo_collaborators(*, repo_name: str, roles: Iterable[str]) -> list[User]:
    raise not_available("github.get_repo_collaborators", _WHY, GitHubError)
