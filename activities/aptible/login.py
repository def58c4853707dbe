"""Logging the bot in: ``POST /tokens`` with the password grant, and what its refusals mean.

A login refused on credentials is never retried (Aptible locks an account after repeated failed
logins); a bot with two-factor authentication, or one barred by an SSO-enforcing organization, is
told exactly that. The password is sent in the request body and nowhere else.
"""

from __future__ import annotations

import logging
import time

import httpx

from activities.aptible.credentials import AptibleCredentials
from activities.aptible.errors import (
    AptibleAuthError,
    AptibleConnectionDropped,
    AptibleInvalidCredentials,
    AptibleOtpRequired,
    AptibleProtocolError,
    AptibleSsoRequired,
    AptibleTimeout,
)
from activities.aptible.hal import id_from_href, link_href
from activities.aptible.responses import Subject, error_fields, is_sso_refusal, transient_error
from activities.aptible.token import BotToken

log = logging.getLogger("jitflow.aptible")


async def request_token(
    http: httpx.AsyncClient, credentials: AptibleCredentials, lifetime: int
) -> BotToken:
    """``POST /tokens`` with the password grant. Never retried on refused credentials."""
    bot = credentials.username
    body = {
        "grant_type": "password",
        "username": bot,
        "password": credentials.password,
        "scope": "manage",
        "expires_in": lifetime,
    }
    subject = Subject(f"logging in as bot {bot}")
    started = time.monotonic()
    try:
        response = await http.post("/tokens", json=body)
    except httpx.TimeoutException:
        raise AptibleTimeout(f"Aptible did not answer in time while {subject.doing}") from None
    except httpx.TransportError as exc:
        raise AptibleConnectionDropped(
            f"connection to Aptible failed while {subject.doing}: {type(exc).__name__}"
        ) from None
    if response.is_success:
        return _parse_token(response, started, bot, lifetime)
    key, message = error_fields(response)
    if key == "otp_token_required":
        raise AptibleOtpRequired(
            f"Aptible bot user {bot} has two-factor authentication enabled; jitflow logs in "
            "with a password only, so the bot user must have 2FA turned off (as Aptible "
            "advises for robot accounts)",
            status=response.status_code,
            error=key,
        )
    if key == "invalid_credentials" or (response.status_code == 401 and key is None):
        raise AptibleInvalidCredentials(
            f"Aptible rejected the email or password of bot user {bot}; not retried, since "
            "repeated failed logins lock the account",
            status=response.status_code,
            error=key,
        )
    if response.status_code in (401, 403) and is_sso_refusal(key, message):
        raise AptibleSsoRequired(
            f"Aptible refused a password login for bot user {bot}: the organization enforces "
            "SSO; make the bot an Account Owner or add it to the SSO allowlist",
            status=response.status_code,
            error=key,
        )
    transient = transient_error(response, subject)
    if transient is not None:
        raise transient
    raise AptibleAuthError(
        f"Aptible refused the login of bot user {bot} with {response.status_code} "
        f"({key or 'no error key'})",
        status=response.status_code,
        error=key,
    )


def _parse_token(response: httpx.Response, started: float, bot: str, requested: int) -> BotToken:
    try:
        body = response.json()
    except ValueError:
        body = None
    access = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(access, str) or not access:
        raise AptibleProtocolError(f"Aptible's token answer for bot {bot} has no access_token")
    lifetime = body.get("expires_in")
    seconds = float(lifetime) if isinstance(lifetime, int | float) else requested
    user_href = link_href(body, "user")
    token_id = body.get("id")
    log.info("Aptible: bot %s logged in (token valid %ds)", bot, int(seconds))
    return BotToken(
        access_token=access,
        token_id=str(token_id) if token_id else None,
        user_id=id_from_href(user_href) if user_href else None,
        expires_at=started + seconds,
        obtained_at=started,
    )
