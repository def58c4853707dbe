"""The expiry guard: every jitflow worker process removes memberships that outlived every grant.

Owners remove memberships on their own timers, but an owner is a workflow, and whoever can run
a worker on the namespace can run the owner's code: a worker of their own polling the task
queue, or a "newer build" they made current with ``temporal worker deployment
set-current-version``. Such code can keep an owner running forever, or complete it, without
removing anything, and the reconciler is a workflow too.

So this loop does not go through Temporal at all. It runs inside each worker process, reads
only what no Temporal caller can write (the ledger of memberships jitflow created and the grant
tickets the worker signed, both in the identity store) and calls Aptible with the bot's
credentials from Secrets Manager. A membership in the ledger whose every ticket has ended (past
``not_after``, or closed) more than ``grace`` ago should not exist: it is removed, and the
worker logs an error naming it, because it means an owner did not do its job. Until-released
grants have no end to check; they stay the owner's (and the reconciler's) responsibility.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from activities.aptible.client import AptibleClient
from activities.blocking import Blocking
from activities.bot_credentials import BotCredentials
from jitflow.config.models import JitflowConfig
from jitflow.identity.models import OverdueMembership
from jitflow.scrub import scrub

log = logging.getLogger("jitflow.expiry_guard")

GRACE_ENV = "JITFLOW_EXPIRY_GUARD_GRACE"
#: How long after its last grant ended a membership may still be there before the guard acts:
#: owners normally remove within seconds, under the benchmark's heaviest load within about 70.
DEFAULT_GRACE = timedelta(minutes=5)
#: How often each worker looks (with jitter, so several workers do not call at once).
EVERY = timedelta(minutes=1)


#: The smallest grace the setting accepts: an owner's removal must have time to finish first.
MIN_GRACE = timedelta(seconds=60)


class OverdueLedger(Protocol):
    """What the guard needs from the identity store."""

    def overdue_memberships(self, at: datetime, grace: timedelta) -> list[OverdueMembership]: ...
    def overdue_membership(
        self, org_id: str, role_id: str, user_id: str, at: datetime, grace: timedelta
    ) -> OverdueMembership | None: ...
    def forget_membership_if_unchanged(
        self, org_id: str, role_id: str, user_id: str, updated_at: datetime
    ) -> bool: ...


@dataclass(frozen=True)
class GuardRemoval:
    """One membership the guard removed (or found already gone)."""

    membership: OverdueMembership
    already_absent: bool


def grace_from_env(environ: Mapping[str, str] | None = None) -> timedelta:
    """``$JITFLOW_EXPIRY_GUARD_GRACE`` in seconds (at least 60), else five minutes."""
    value = (environ if environ is not None else os.environ).get(GRACE_ENV, "").strip()
    if not value:
        return DEFAULT_GRACE
    least = int(MIN_GRACE.total_seconds())
    if not value.isdigit() or int(value) < least:
        raise ValueError(f"{GRACE_ENV}={value!r}: give a whole number of seconds, at least {least}")
    return timedelta(seconds=int(value))


class ExpiryGuard:
    """Finds overdue memberships in the ledger and removes them from Aptible."""

    def __init__(
        self,
        config: JitflowConfig,
        ledger: OverdueLedger,
        aptible: AptibleClient,
        credentials: BotCredentials,
        *,
        blocking: Blocking | None = None,
        grace: timedelta = DEFAULT_GRACE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._ledger = ledger
        self._aptible = aptible
        self._credentials = credentials
        self._blocking = blocking or Blocking()
        self._grace = grace
        self._clock = clock

    async def sweep(self) -> list[GuardRemoval]:
        """One look: remove every overdue membership; a failure is logged and tried next time."""
        overdue = await self._blocking(self._ledger.overdue_memberships, self._clock(), self._grace)
        removed: list[GuardRemoval] = []
        for candidate in overdue:
            # Asked again right before acting: a grant may have renewed it since the list was
            # read (by this process or another), and only what was judged may be removed.
            membership = await self._blocking(
                self._ledger.overdue_membership,
                candidate.org_id,
                candidate.role_id,
                candidate.user_id,
                self._clock(),
                self._grace,
            )
            if membership is None or membership.updated_at != candidate.updated_at:
                continue
            try:
                removed.append(await self._remove(membership))
            except Exception as error:
                log.error(
                    "expiry guard: could not remove user %s from role %s (organization %s), "
                    "whose last grant ended at %s: %s; trying again at the next sweep",
                    membership.user_id,
                    membership.role_id,
                    membership.org_id,
                    membership.last_end.isoformat(timespec="seconds"),
                    scrub(f"{type(error).__name__}: {error}"),
                )
        return removed

    async def _remove(self, membership: OverdueMembership) -> GuardRemoval:
        integration = self._integration_for(membership.org_id)
        creds = await self._credentials.for_integration(integration)
        removal = await self._aptible.remove_membership(
            creds,
            membership.role_id,
            membership.user_id,
            membership.membership_id,
            org_id=membership.org_id,
        )
        forgotten = await self._blocking(
            self._ledger.forget_membership_if_unchanged,
            membership.org_id,
            membership.role_id,
            membership.user_id,
            membership.updated_at,
        )
        if not forgotten:
            log.warning(
                "expiry guard: the ledger row of user %s in role %s changed while the guard "
                "removed it (a new grant?); the row is kept for its owner",
                membership.user_id,
                membership.role_id,
            )
        late = self._clock() - membership.last_end
        log.error(
            "expiry guard: user %s still held role %s (organization %s) %d s after its last "
            "grant ended: %s. Its RoleMembership owner did not remove it; look for a worker that "
            "is not jitflow's on the task queue, or a current deployment version you did not make "
            "current (`temporal worker deployment describe --name ...`)",
            membership.user_id,
            membership.role_id,
            membership.org_id,
            int(late.total_seconds()),
            "it was already gone from Aptible" if removal.already_absent else "removed it now",
        )
        return GuardRemoval(membership=membership, already_absent=removal.already_absent)

    def _integration_for(self, org_id: str) -> str:
        for key, integration in self._config.integrations.items():
            if integration.org_id.lower() == org_id.lower():
                return key
        raise LookupError(
            f"no aptible integration of this configuration is for organization {org_id}"
        )


async def keep_guarding(guard: ExpiryGuard, every: timedelta = EVERY) -> None:
    """Sweep until cancelled; the first sweep comes soon after start, then about ``every``."""
    await asyncio.sleep(random.uniform(5, 15))
    while True:
        try:
            await guard.sweep()
        except Exception as error:  # the store may be briefly unreachable: try again later
            log.warning("expiry guard: sweep failed: %s", scrub(f"{type(error).__name__}: {error}"))
        seconds = every.total_seconds()
        await asyncio.sleep(random.uniform(0.75 * seconds, 1.25 * seconds))
