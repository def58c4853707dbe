"""The one model base every contract shares, and the one email normaliser.

Contracts cross process boundaries through Temporal's pydantic data converter and are recorded
in histories, so they are frozen: a value read from history is never edited in place.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    """Frozen pydantic model: the shape of every workflow, update and activity message."""

    model_config = ConfigDict(frozen=True)


def normalize_email(email: str) -> str:
    """How jitflow compares emails everywhere: surrounding space removed, lower case."""
    return email.strip().lower()
