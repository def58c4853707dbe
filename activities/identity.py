"""Identity resolution: which Aptible user is this requester?

The order is Sym's (``sym-semantics.md`` C.2): the stored identity; else the flow's
``get_identity`` reducer (a non-None answer is stored); else discovery by email among the
organization's Aptible users (a hit is stored); else a non-retryable ``IdentityNotFound`` that
tells the admin the exact ``jitflow users update-identity`` command to run.

The reducer runner and the Aptible lookup are injected as async callables so that this module
depends on neither. A worker wires them roughly like this::

    async def discover(call: UserDiscoveryCall) -> str | None:
        creds = await load_credentials(call.integration)
        found = await aptible.find_user_by_email(creds, call.org_id, call.email)
        return found.id if found else None

    IdentityActivities(store, get_identity=reducers.get_identity, discover_user=discover)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import Blocking
from jitflow.contracts.activities import RESOLVE_IDENTITY
from jitflow.contracts.events import UserData
from jitflow.contracts.identity import (
    IDENTITY_NOT_FOUND,
    INVALID_IDENTITY,
    IdentityReducerCall,
    IdentitySource,
    ResolvedIdentity,
    ResolveIdentityInput,
    UserDiscoveryCall,
    update_identity_command,
)
from jitflow.identity import IdentityStore, InvalidValue
from jitflow.identity.validation import (
    checked_email,
    normalize_external_id,
    normalize_service_user_id,
)

logger = logging.getLogger(__name__)

GetIdentityReducer = Callable[[IdentityReducerCall], Awaitable[str | None]]
"""Runs the flow's ``get_identity`` reducer; None when it is absent or returned None."""
DiscoverUser = Callable[[UserDiscoveryCall], Awaitable[str | None]]
"""Looks the email up among the organization's Aptible users; their user id, or None."""


class IdentityNotFound(ApplicationError):
    """No stored, reduced or discovered identity. Non-retryable: only an admin can fix it.

    ``details`` holds ``{"email", "org_id", "command"}`` for the workflow to show.
    """

    def __init__(self, email: str, org_id: str) -> None:
        command = update_identity_command(email, org_id)
        super().__init__(
            f"no Aptible user found for {email} in organization {org_id}: the email matches no "
            f"user of the organization and no identity is stored. Map it by hand with: {command}",
            {"email": email, "org_id": org_id, "command": command},
            type=IDENTITY_NOT_FOUND,
            non_retryable=True,
        )


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=INVALID_IDENTITY, non_retryable=True)


class IdentityActivities:
    """The identity activities, bound to one store and the injected collaborators."""

    def __init__(
        self,
        store: IdentityStore,
        *,
        get_identity: GetIdentityReducer | None = None,
        discover_user: DiscoverUser | None = None,
        blocking: Blocking | None = None,
    ) -> None:
        self._blocking = blocking or Blocking()
        self._store = store
        self._get_identity = get_identity
        self._discover_user = discover_user

    @activity.defn(name=RESOLVE_IDENTITY.name)
    async def resolve_identity(self, request: ResolveIdentityInput) -> ResolvedIdentity:
        """The requester's Aptible user id; raises IdentityNotFound when every step misses."""
        try:
            email = checked_email(request.email)
            org_id = normalize_external_id(request.service_type, request.org_id)
        except InvalidValue as error:
            raise _invalid(str(error)) from None
        kind = request.service_type

        stored = await self._blocking(self._store.get_identity, email, kind, org_id)
        if stored is not None:
            return self._result(email, kind, org_id, stored, "stored")

        if self._get_identity is not None:
            user = await self._blocking(self._store.user_data, email)
            call = IdentityReducerCall(
                flow=request.flow,
                event=request.event,
                service_type=kind,
                external_id=org_id,
                user=user,
            )
            reduced = await self._get_identity(call)
            if reduced is not None:
                return await self._store_found(email, kind, org_id, reduced, "reducer")

        if self._discover_user is not None:
            call_discovery = UserDiscoveryCall(
                integration=request.integration, org_id=org_id, email=email
            )
            discovered = await self._discover_user(call_discovery)
            if discovered is not None:
                return await self._store_found(email, kind, org_id, discovered, "discovered")

        raise IdentityNotFound(email, org_id)

    async def _store_found(
        self, email: str, kind: str, org_id: str, value: str, source: IdentitySource
    ) -> ResolvedIdentity:
        try:
            user_id = normalize_service_user_id(kind, value)
        except InvalidValue as error:
            what = "the get_identity reducer" if source == "reducer" else "discovery"
            raise _invalid(f"{what} returned an unusable id for {email}: {error}") from None
        await self._blocking(self._store.set_identity, email, kind, org_id, user_id)
        logger.info("stored %s identity of %s in %s (from %s)", kind, email, org_id, source)
        return self._result(email, kind, org_id, user_id, source)

    @staticmethod
    def _result(
        email: str, kind: str, org_id: str, value: str, source: IdentitySource
    ) -> ResolvedIdentity:
        return ResolvedIdentity(
            email=email,
            service_type=kind,
            external_id=org_id,
            service_user_id=value,
            source=source,
        )

    @activity.defn(name="load_user")
    async def load_user(self, email: str) -> UserData:
        """The user as reducers see it (role, names, identities); a bare ``member`` if unknown."""
        try:
            return await self._blocking(self._store.user_data, email)
        except InvalidValue as error:
            raise _invalid(str(error)) from None
