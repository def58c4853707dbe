"""HTTP to Aptible's auth API: one ``httpx.AsyncClient``, the bot tokens, authorized calls with
Aptible's retry policy, and lists read through ``_links.next``.

GET and DELETE are retried in place as Aptible's own clients do (after 0.2 s, 0.8 s, 2 s); a POST
never is. A 401 on a stale token leads to one new login and one more attempt. Links are followed
only on the auth root's own host, so the bearer token goes nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from activities.aptible.credentials import AptibleCredentials
from activities.aptible.errors import (
    AptibleConnectionDropped,
    AptibleError,
    AptibleInvalidInput,
    AptibleProtocolError,
    AptibleRateLimited,
    AptibleTimeout,
)
from activities.aptible.hal import Body, embedded, link_href
from activities.aptible.login import request_token
from activities.aptible.responses import (
    Subject,
    error_fields,
    is_sso_refusal,
    json_object,
    raise_for_status,
    transient_error,
)
from activities.aptible.token import BotToken, TokenCache

#: Aptible's own variable for the auth API root.
AUTH_ROOT_ENV = "APTIBLE_AUTH_ROOT_URL"
DEFAULT_AUTH_ROOT = "https://auth.aptible.com"

#: Aptible's own retry policy for idempotent requests.
DEFAULT_RETRY_DELAYS = (0.2, 0.8, 2.0)

_IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE"})
_TOKEN_ERRORS = frozenset({"expired_token", "invalid_token"})

log = logging.getLogger("jitflow.aptible")


def auth_root_from_env() -> str:
    """``APTIBLE_AUTH_ROOT_URL`` (without a trailing slash), defaulting to Aptible's host."""
    return validate_root(os.environ.get(AUTH_ROOT_ENV) or DEFAULT_AUTH_ROOT)


def validate_root(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AptibleInvalidInput(f"Aptible auth root {url!r} is not an http(s) URL")
    return url.strip().rstrip("/")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


@dataclass
class CallTally:
    """Aptible requests made by one operation (token requests excluded)."""

    calls: int = 0


class AptibleTransport:
    """The HTTP side of :class:`~activities.aptible.client.AptibleClient` (see the module doc)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        token_lifetime: int,
        renew_margin: float,
        retry_delays: Sequence[float],
        max_retry_after: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if token_lifetime < 1 or timeout <= 0:
            raise AptibleInvalidInput(
                f"token_lifetime {token_lifetime!r} and timeout {timeout!r} must be positive"
            )
        self.base_url = validate_root(base_url)
        self._origin = _origin(self.base_url)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/hal+json"},
            transport=transport,
            follow_redirects=False,
        )
        self._token_lifetime = token_lifetime
        self._retry_delays = tuple(retry_delays)
        self._max_retry_after = max_retry_after
        self.tokens = TokenCache(self._login, renew_margin=renew_margin)

    async def _login(self, credentials: AptibleCredentials) -> BotToken:
        return await request_token(self._http, credentials, self._token_lifetime)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def revoke_tokens(self) -> None:
        """Revoke every cached token (``DELETE /tokens/{id}``), e.g. when a worker stops."""
        for username, token in self.tokens.cached():
            self.tokens.forget(username)
            if token.token_id is None:
                continue
            try:
                await self._http.delete(
                    f"/tokens/{token.token_id}",
                    headers={"Authorization": f"Bearer {token.access_token}"},
                )
            except httpx.HTTPError as exc:
                log.warning("Aptible: could not revoke the token of bot %s: %s", username, exc)

    async def call(
        self,
        credentials: AptibleCredentials,
        method: str,
        url: str,
        subject: Subject,
        tally: CallTally,
        *,
        json: Body | None = None,
    ) -> httpx.Response:
        """One authorized request. Transient failures raise (after in-place retries for idempotent
        methods); every other answer is returned for the caller to read. A 401 on the token leads
        to one new login and one more attempt."""
        token = await self.tokens.get(credentials)
        response = await self._send(method, url, token, subject, tally, json)
        if response.status_code == 401:
            key, message = error_fields(response)
            if not is_sso_refusal(key, message) and (key in _TOKEN_ERRORS or key is None):
                log.info(
                    "Aptible: token of bot %s refused (%s); logging in again",
                    credentials.username,
                    key or "401",
                )
                token = await self.tokens.refresh(credentials, token)
                response = await self._send(method, url, token, subject, tally, json)
        return response

    async def _send(
        self,
        method: str,
        url: str,
        token: BotToken,
        subject: Subject,
        tally: CallTally,
        json: Body | None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token.access_token}"}
        retry_in_place = method in _IDEMPOTENT
        delays = list(self._retry_delays) if retry_in_place else []
        while True:
            tally.calls += 1
            failure: AptibleError
            try:
                response = await self._http.request(method, url, headers=headers, json=json)
            except httpx.TimeoutException:
                failure = AptibleTimeout(
                    f"Aptible did not answer in time while {subject.doing}{subject.where()}"
                )
            except httpx.TransportError as exc:
                failure = AptibleConnectionDropped(
                    f"connection to Aptible failed while {subject.doing}{subject.where()}: "
                    f"{type(exc).__name__}"
                )
            else:
                transient = transient_error(response, subject)
                if transient is None:
                    return response
                failure = transient
            wait = self._wait_before_retry(failure, delays)
            if wait is None:
                raise failure
            log.info("Aptible: %s; retrying in %.1fs", failure.message, wait)
            await asyncio.sleep(wait)

    def _wait_before_retry(self, failure: AptibleError, delays: list[float]) -> float | None:
        if not delays:
            return None
        delay = delays.pop(0)
        if isinstance(failure, AptibleRateLimited) and failure.retry_after is not None:
            if failure.retry_after > self._max_retry_after:
                return None
            return max(delay, failure.retry_after)
        return delay

    async def read_list(
        self,
        credentials: AptibleCredentials,
        path: str,
        plural: str,
        subject: Subject,
        tally: CallTally,
        *,
        until: Callable[[Body], bool] | None = None,
    ) -> list[Body]:
        """The items of a list, following ``_links.next`` until it is absent, or until a page
        holds an item for which ``until`` is true (the caller found what it looked for)."""
        items: list[Body] = []
        url = path
        seen = {url}
        while True:
            response = await self.call(credentials, "GET", url, subject, tally)
            if not response.is_success:
                raise_for_status(response, subject)
            body = json_object(response, subject)
            page = embedded(body, plural)
            items.extend(page)
            next_href = link_href(body, "next")
            if next_href is None or (until is not None and any(until(item) for item in page)):
                return items
            url = self._same_origin(next_href, subject)
            if url in seen:
                raise AptibleProtocolError(f"Aptible's pages loop while {subject.doing}")
            seen.add(url)

    def _same_origin(self, href: str, subject: Subject) -> str:
        """Follow a link only on the auth root's own host: the bearer token goes nowhere else."""
        if _origin(href) != self._origin:
            raise AptibleProtocolError(
                f"Aptible linked to another host ({urlsplit(href).netloc}) while {subject.doing}"
            )
        return href
