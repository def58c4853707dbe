"""The Aptible auth API client of jitflow activities: one per worker, shared by its activities.

It follows ``aptible-api.md``: escalation is "make sure the membership exists" (list first, POST
only when absent, never re-POST blindly), de-escalation "make sure it does not" (DELETE by id,
404 is success). Tokens, retries and paging live in :mod:`activities.aptible.transport`; anything
transient that is left is raised as a retryable :class:`~activities.aptible.errors.AptibleError`
for the activity's retry policy.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self

import httpx

from activities.aptible.credentials import AptibleCredentials
from activities.aptible.errors import (
    AptibleError,
    AptibleInvalidInput,
    AptibleNotFound,
    AptibleProtocolError,
    AptibleRateLimited,
    AptibleTransientError,
    AptibleUnprocessable,
)
from activities.aptible.hal import (
    Body,
    id_from_href,
    link_href,
    normalize_id,
    parse_membership,
    parse_role,
    parse_user,
)
from activities.aptible.models import (
    AptibleMembership,
    AptibleRole,
    AptibleUser,
    MembershipGrant,
    MembershipRemoval,
    RolePreflight,
)
from activities.aptible.preflight import check_role
from activities.aptible.responses import Subject, error_fields, json_object, raise_for_status
from activities.aptible.token import BotToken
from activities.aptible.transport import (
    AUTH_ROOT_ENV,
    DEFAULT_AUTH_ROOT,
    DEFAULT_RETRY_DELAYS,
    AptibleTransport,
    CallTally,
    auth_root_from_env,
)
from activities.aptible.user_directory import DEFAULT_TTL_SECONDS, UserDirectory
from jitflow.contracts.base import normalize_email

__all__ = ["AUTH_ROOT_ENV", "DEFAULT_AUTH_ROOT", "AptibleClient"]

log = logging.getLogger("jitflow.aptible")


def _user_phrase(user_id: str, email: str | None = None) -> str:
    return f"user {email} ({user_id})" if email else f"user {user_id}"


class AptibleClient:
    """Calls Aptible's auth API on behalf of bot users; safe to share by concurrent activities.

    ``base_url`` defaults to ``APTIBLE_AUTH_ROOT_URL`` (else ``https://auth.aptible.com``).
    ``timeout`` bounds each request. ``token_lifetime`` is the ``expires_in`` asked for (seconds);
    a token is renewed ``renew_margin`` seconds before it expires. ``retry_delays`` are the waits
    between in-place retries of GET and DELETE; a 429 on those is retried in place when its
    ``Retry-After`` is at most ``max_retry_after`` seconds. ``users_ttl`` is how long one
    listing of an organization's users serves later lookups by email.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 10.0,
        token_lifetime: int = 3600,
        renew_margin: float = 120.0,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        max_retry_after: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        users_ttl: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        self._transport = AptibleTransport(
            base_url or auth_root_from_env(),
            timeout=timeout,
            token_lifetime=token_lifetime,
            renew_margin=renew_margin,
            retry_delays=retry_delays,
            max_retry_after=max_retry_after,
            transport=transport,
        )
        self.base_url = self._transport.base_url
        self.tokens = self._transport.tokens
        self._call = self._transport.call
        self._read_list = self._transport.read_list
        self.users = UserDirectory(ttl=users_ttl)

    @classmethod
    def from_env(cls, **options: Any) -> AptibleClient:
        """A client for ``APTIBLE_AUTH_ROOT_URL`` (default ``https://auth.aptible.com``)."""
        return cls(auth_root_from_env(), **options)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def revoke_tokens(self) -> None:
        """Revoke every cached token (``DELETE /tokens/{id}``), e.g. when a worker stops."""
        await self._transport.revoke_tokens()

    def __repr__(self) -> str:
        return f"AptibleClient({self.base_url!r})"

    async def login_check(self, credentials: AptibleCredentials, *, fresh: bool = False) -> str:
        """Make sure the bot can log in; returns the bot's Aptible user id.

        Uses the cached token unless ``fresh``; a refused login raises an ``AptibleAuthError``.
        """
        if fresh:
            self.tokens.forget(credentials.username)
        token = await self.tokens.get(credentials)
        if token.user_id is None:
            token = await self._current_token_user(credentials, token)
        assert token.user_id is not None
        return token.user_id

    async def _current_token_user(
        self, credentials: AptibleCredentials, token: BotToken
    ) -> BotToken:
        subject = Subject(f"reading the token of bot {credentials.username}")
        response = await self._call(credentials, "GET", "/current_token", subject, CallTally())
        if not response.is_success:
            raise_for_status(response, subject)
        href = link_href(response.json(), "user")
        if href is None:
            raise AptibleProtocolError("Aptible's current_token names no user")
        return BotToken(
            token.access_token,
            token.token_id,
            id_from_href(href),
            token.expires_at,
            token.obtained_at,
        )

    # -- operations -----------------------------------------------------------------------------

    async def find_user_by_email(
        self, credentials: AptibleCredentials, org_id: str, email: str
    ) -> AptibleUser | None:
        """The organization's user with this email (trimmed, case-insensitive), or None.

        Aptible has no search by email, so this reads the organization's whole user list; the
        listing is shared by concurrent and successive lookups for a short while
        (``users_ttl``, see :mod:`activities.aptible.user_directory`), so discovering many new
        requesters costs one listing, not one per requester.
        """
        org = normalize_id(org_id, "organization id")
        wanted = normalize_email(email)
        if "@" not in wanted:
            raise AptibleInvalidInput(f"email {email!r} is not an email address")
        subject = Subject(f"listing the users of organization {org}", organization_id=org)

        async def list_users() -> list[AptibleUser]:
            items = await self._read_list(
                credentials, f"/organizations/{org}/users", "users", subject, CallTally()
            )
            return [parse_user(item) for item in items]

        return await self.users.find((credentials.username, org), wanted, list_users)

    async def get_user(self, credentials: AptibleCredentials, user_id: str) -> AptibleUser | None:
        """The user with this id, or None when Aptible does not know it (404)."""
        user = normalize_id(user_id, "user id")
        subject = Subject(f"reading user {user}")
        response = await self._call(credentials, "GET", f"/users/{user}", subject, CallTally())
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise_for_status(response, subject)
        return parse_user(json_object(response, subject))

    async def get_role(self, credentials: AptibleCredentials, role_id: str) -> AptibleRole | None:
        """The role with this id, or None when Aptible does not know it (404)."""
        role = normalize_id(role_id, "role id")
        subject = Subject(f"reading role {role}", role_id=None)
        response = await self._call(credentials, "GET", f"/roles/{role}", subject, CallTally())
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise_for_status(response, subject)
        return parse_role(json_object(response, subject))

    async def list_organization_roles(
        self, credentials: AptibleCredentials, org_id: str
    ) -> list[AptibleRole]:
        org = normalize_id(org_id, "organization id")
        subject = Subject("listing the roles", organization_id=org)
        items = await self._read_list(
            credentials, f"/organizations/{org}/roles", "roles", subject, CallTally()
        )
        return [parse_role(item) for item in items]

    async def list_role_memberships(
        self, credentials: AptibleCredentials, role_id: str
    ) -> list[AptibleMembership]:
        """Every membership of the role (all pages); a 404 raises ``AptibleNotFound``."""
        role = normalize_id(role_id, "role id")
        return await self._memberships(credentials, role, Subject(f"listing role {role}"), None)

    async def _memberships(
        self,
        credentials: AptibleCredentials,
        role: str,
        subject: Subject,
        tally: CallTally | None,
        *,
        stop_at_user: str | None = None,
    ) -> list[AptibleMembership]:
        def is_wanted(item: Body) -> bool:
            return parse_membership(item, role).user_id == stop_at_user

        items = await self._read_list(
            credentials,
            f"/roles/{role}/memberships",
            "memberships",
            subject,
            tally or CallTally(),
            until=is_wanted if stop_at_user is not None else None,
        )
        return [parse_membership(item, role) for item in items]

    async def _membership_of(
        self,
        credentials: AptibleCredentials,
        role: str,
        user: str,
        subject: Subject,
        tally: CallTally,
    ) -> AptibleMembership | None:
        try:
            members = await self._memberships(credentials, role, subject, tally, stop_at_user=user)
        except AptibleNotFound:
            raise AptibleNotFound(
                f"Aptible has no role {role} (while {subject.doing}{subject.where()})",
                status=404,
                error="not_found",
            ) from None
        return next((m for m in members if m.user_id == user), None)

    async def ensure_membership(
        self,
        credentials: AptibleCredentials,
        role_id: str,
        user_id: str,
        *,
        org_id: str | None = None,
        user_email: str | None = None,
        may_have_posted_before: bool = False,
        before_post: Callable[[], Awaitable[None]] | None = None,
    ) -> MembershipGrant:
        """Make sure ``user_id`` holds ``role_id``: escalation.

        Lists the role first; a user already in it is reported ``preexisting`` and nothing else is
        called. Otherwise POSTs once. When the POST fails in a way that may hide a success (timeout,
        dropped connection, 5xx, 422), lists again and takes an existing membership as success;
        otherwise the error is raised (retryable or not) and never re-POSTed here.

        ``org_id`` and ``user_email`` only enrich messages. ``before_post`` is awaited just before
        the POST (the activity records its intent in the ledger there); ``may_have_posted_before``
        says the ledger holds this membership, so a membership found now is jitflow's own, not
        pre-existing.
        """
        role = normalize_id(role_id, "role id")
        user = normalize_id(user_id, "user id")
        org = normalize_id(org_id, "organization id") if org_id else None
        who = _user_phrase(user, user_email)
        subject = Subject(f"adding {who} to role {role}", role_id=role, organization_id=org)
        tally = CallTally()
        existing = await self._membership_of(credentials, role, user, subject, tally)
        if existing is not None:
            standing = not may_have_posted_before
            log.info(
                "Aptible: %s already holds role %s%s (membership %s, %s)",
                who,
                role,
                subject.where(),
                existing.id,
                "standing access, left alone" if standing else "added by an earlier attempt",
            )
            return MembershipGrant(role, user, existing.id, standing, tally.calls)
        if before_post is not None:
            await before_post()
        try:
            response = await self._call(
                credentials,
                "POST",
                f"/roles/{role}/memberships",
                subject,
                tally,
                json={"user_url": f"{self.base_url}/users/{user}"},
            )
        except AptibleRateLimited:
            raise  # a 429 was not acted on: nothing to confirm
        except AptibleTransientError as failure:
            return await self._confirm_after_failed_post(
                credentials, role, user, subject, tally, failure
            )
        if response.status_code == 422:
            _, message = error_fields(response)
            failure_422 = AptibleUnprocessable(
                f"Aptible refused {subject.doing}{subject.where()}"
                + (f" (Aptible said: {message})" if message else ""),
                status=422,
                error="unprocessable_entity",
            )
            return await self._confirm_after_failed_post(
                credentials, role, user, subject, tally, failure_422
            )
        if not response.is_success:
            raise_for_status(response, subject)
        try:
            created = parse_membership(json_object(response, subject), role)
        except AptibleProtocolError as unreadable:
            # A 2xx whose body is not the membership resource: the change was made, so the
            # membership id is read from the role instead.
            return await self._confirm_after_failed_post(
                credentials, role, user, subject, tally, unreadable
            )
        log.info(
            "Aptible: added %s to role %s%s (membership %s)", who, role, subject.where(), created.id
        )
        return MembershipGrant(role, user, created.id, False, tally.calls)

    async def _confirm_after_failed_post(
        self,
        credentials: AptibleCredentials,
        role: str,
        user: str,
        subject: Subject,
        tally: CallTally,
        failure: AptibleError,
    ) -> MembershipGrant:
        log.info("Aptible: %s; listing role %s again before deciding", failure.message, role)
        found = await self._membership_of(credentials, role, user, subject, tally)
        if found is None:
            raise failure
        log.info(
            "Aptible: %s succeeded despite the failed answer (membership %s)",
            subject.doing,
            found.id,
        )
        return MembershipGrant(role, user, found.id, False, tally.calls)

    async def remove_membership(
        self,
        credentials: AptibleCredentials,
        role_id: str,
        user_id: str,
        membership_id: str | None = None,
        *,
        org_id: str | None = None,
        user_email: str | None = None,
    ) -> MembershipRemoval:
        """Make sure ``user_id`` no longer holds ``role_id``: de-escalation.

        With the ``membership_id`` kept from the escalation this is one DELETE; without it the role
        is listed to find the user's membership. A 404 or no membership is success
        (``already_absent``). ``org_id`` only enriches messages.
        """
        role = normalize_id(role_id, "role id")
        user = normalize_id(user_id, "user id")
        org = normalize_id(org_id, "organization id") if org_id else None
        who = _user_phrase(user, user_email)
        subject = Subject(f"removing {who} from role {role}", role_id=role, organization_id=org)
        await self._refuse_bot_itself(credentials, user, subject)
        tally = CallTally()
        target = normalize_id(membership_id, "membership id") if membership_id else None
        if target is None:
            found = await self._membership_of(credentials, role, user, subject, tally)
            target = found.id if found else None
        removed = False
        if target is not None:
            response = await self._call(
                credentials, "DELETE", f"/memberships/{target}", subject, tally
            )
            if response.is_success:
                removed = True
            elif response.status_code != 404:
                raise_for_status(response, subject)
        if removed:
            log.info("Aptible: removed %s from role %s%s", who, role, subject.where())
        else:
            log.info(
                "Aptible: %s did not hold role %s%s; nothing to remove", who, role, subject.where()
            )
        return MembershipRemoval(role, user, target, removed, not removed, tally.calls)

    async def _refuse_bot_itself(
        self, credentials: AptibleCredentials, user: str, subject: Subject
    ) -> None:
        """jitflow never removes the bot's own membership: it would lose its Role Admin right."""
        token = await self.tokens.get(credentials)
        if token.user_id == user:
            raise AptibleInvalidInput(
                f"refusing {subject.doing}: that is the bot user {credentials.username} itself"
            )

    async def preflight_role(
        self, credentials: AptibleCredentials, org_id: str, role_id: str
    ) -> RolePreflight:
        """Check a target role before use: it exists, is in ``org_id``, is neither owner-type nor
        SCIM-managed, and the bot may manage its memberships. Problems become ``warnings``."""
        return await check_role(self, credentials, org_id, role_id)

    async def still_in_organization(
        self, credentials: AptibleCredentials, org_id: str, user_id: str
    ) -> bool:
        """Whether the user still holds a role in the organization (their last role's removal
        made Aptible drop them); a user found gone is forgotten by the shared user listing, so
        a new request does not "find" them there."""
        org = normalize_id(org_id, "organization id")
        user = normalize_id(user_id, "user id")
        present = await self._in_organization(credentials, org, user, CallTally())
        if not present:
            # A cached listing would still "find" them for a new request.
            self.users.forget((credentials.username, org))
            log.warning(
                "Aptible: user %s left organization %s with their last role there (Aptible "
                "evicts such users; they need a new invitation to return)",
                user,
                org,
            )
        return present

    async def _in_organization(
        self, credentials: AptibleCredentials, org: str, user: str, tally: CallTally
    ) -> bool:
        subject = Subject(f"checking whether user {user} is still a member", organization_id=org)

        def is_user(item: Body) -> bool:
            return parse_user(item).id == user

        items = await self._read_list(
            credentials, f"/organizations/{org}/users", "users", subject, tally, until=is_user
        )
        return any(is_user(item) for item in items)
