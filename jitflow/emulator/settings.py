"""Knobs of the emulator that are not data: page size, token lifetimes, and the [open] points.

``aptible-api.md`` marks some answers as unknown (the status of a token creation, of a 2FA refusal,
of an SSO refusal, the error key of a 403). The emulator answers with the documented assumption by
default; these settings switch it to the other plausible answer so tests prove the client copes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EmulatorSettings(BaseModel):
    """Behaviour settings, changeable at run time through ``PUT /_emulator/settings``."""

    model_config = ConfigDict(extra="forbid")

    per_page: int = Field(default=5, ge=1, le=1000)
    """Default page size of every list; small so that clients must follow ``_links.next``."""
    default_token_lifetime: int = Field(default=12 * 3600, ge=1)
    """Seconds a token lives when ``POST /tokens`` names no ``expires_in``."""
    max_token_lifetime: int = Field(default=7 * 24 * 3600, ge=1)
    """Longest lifetime granted; a longer ``expires_in`` is cut down to this."""
    token_status: Literal[200, 201] = 201
    """Status of a successful ``POST /tokens`` ([open]: 200 or 201)."""
    otp_status: Literal[400, 401] = 401
    """Status of ``otp_token_required`` ([open]: 400 or 401)."""
    sso_status: Literal[401, 403] = 401
    """Status when an SSO-enforcing organization refuses a password token ([open])."""
    forbidden_error: Literal["forbidden", "access_denied"] = "forbidden"
    """Error key of a 403 (Aptible's test suites disagree)."""
