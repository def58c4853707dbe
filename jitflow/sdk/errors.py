"""Sym's legacy error classes (``sym.sdk.errors``), kept so old ``impl.py`` files import."""

from __future__ import annotations

from enum import Enum
from typing import Any


class SymSDKError(Exception):
    """An error raised by SDK code, with a hint for the user."""

    def __init__(self, message: str, hint: str, doc_url: str, **kwargs: Any) -> None:
        self.message = message
        self.hint = hint
        self.doc_url = doc_url
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message

    def format_slack(self) -> str:
        return f"*{self.message}*\n_Hint: {self.hint}_" if self.hint else f"*{self.message}*"


class SymIntegrationError(SymSDKError):
    """An error raised while talking to an integrated service."""

    def __init__(
        self,
        message: str = "",
        hint: str | None = None,
        doc_url: str | None = None,
        *,
        error_code: Enum | None = None,
        params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.error_code = error_code
        self.params = params or {}
        super().__init__(message, hint or "", doc_url or "")

    def __repr__(self) -> str:
        return f"SymIntegrationError({self.message!r})"
