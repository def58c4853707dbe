"""Jira helpers: importable so ``impl.py`` files load; calling one raises the integration's error."""

from __future__ import annotations

from typing import Any

from jitflow.sdk._context import not_available
from jitflow.sdk.exceptions import JiraError

__all__ = ["JiraError", "add_comment_to_issue", "create_issue", "search_issues"]

_WHY = "jitflow does not talk to Jira yet"


def search_issues(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    raise not_available("jira.search_issues", _WHY, JiraError)


def add_comment_to_issue(*args: Any, **kwargs: Any) -> dict[str, Any]:
    raise not_available("jira.add_comment_to_issue", _WHY, JiraError)


def create_issue(*args: Any, **kwargs: Any) -> dict[str, Any]:
    raise not_available("jira.create_issue", _WHY, JiraError)
