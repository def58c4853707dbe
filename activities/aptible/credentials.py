"""The bot user's Aptible login. Built inside activities from Secrets Manager and never leaves them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AptibleCredentials:
    """Email and password of the Aptible bot user. ``repr`` hides the password so it never lands in a log."""

    username: str
    password: str = field(repr=False)
