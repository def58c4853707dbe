"""Activities of the reconciler: list what Aptible holds in the target roles, and which owners run.

The ledger (identity store) says which memberships jitflow created; running ``RoleMembership``
owners say which it still holds. Removal goes through ``remove_aptible_membership``, which only
ever removes what the ledger holds; an unknown membership is removed only where the target's flow
asks for it, decided here from this worker's configuration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from temporalio import activity
from temporalio.client import Client

from activities.aptible.client import AptibleClient
from activities.aptible.errors import AptibleError
from activities.blocking import Blocking
from activities.bot_credentials import BotCredentials
from activities.membership import MembershipLedger, as_temporal_failure
from jitflow.config.models import JitflowConfig
from jitflow.contracts.activities import (
    RECONCILE_LIST,
    RECONCILE_OWNERS,
    RECONCILE_REMOVE_UNKNOWN,
)
from jitflow.contracts.membership import MembershipKey, RemoveMembershipCall
from jitflow.contracts.names import RUNNING_OWNERS_QUERY
from jitflow.contracts.reconcile import ListingCall, RoleListing, RoleMember, RunningOwners


class LedgerRows(MembershipLedger, Protocol):
    def created_memberships(self, org_id: str, role_id: str) -> dict[str, str]: ...


class ReconcileActivities:
    def __init__(
        self,
        config: JitflowConfig,
        aptible: AptibleClient,
        credentials: BotCredentials,
        client: Client,
        ledger: LedgerRows,
        blocking: Blocking | None = None,
    ) -> None:
        self._config = config
        self._aptible = aptible
        self._credentials = credentials
        self._client = client
        self._ledger = ledger
        self._blocking = blocking or Blocking()

    def _targets(self, integration_key: str) -> dict[str, bool]:
        """Role id -> whether a flow granting it asks for unknown memberships to be removed."""
        roles: dict[str, bool] = {}
        for strategy in self._config.strategies.values():
            if strategy.integration != integration_key:
                continue
            flows = [f for f in self._config.flows.values() if f.params.strategy == strategy.key]
            remove = any(f.vars.get("reconcile", "").strip().lower() == "remove" for f in flows)
            for target_key in strategy.targets:
                target = self._config.targets.get(target_key)
                if target is not None:
                    role = target.role_id.lower()
                    roles[role] = roles.get(role, False) or remove
        return roles

    @activity.defn(name=RECONCILE_LIST.name)
    async def list_memberships(self, call: ListingCall) -> RoleListing:
        integration = self._config.integrations.get(call.integration_key)
        if integration is None:
            raise as_temporal_failure(ValueError(f"unknown integration {call.integration_key!r}"))
        org = integration.org_id.lower()
        listed_at = datetime.now(UTC)
        try:
            creds = await self._credentials.for_integration(call.integration_key)
            members: list[RoleMember] = []
            vanished: list[MembershipKey] = []
            problems: list[str] = []
            for role, remove_unknown in self._targets(call.integration_key).items():
                try:
                    listed = await self._aptible.list_role_memberships(creds, role)
                except AptibleError as error:
                    problems.append(f"role {role}: {error}")
                    continue
                ledger = await self._blocking(self._ledger.created_memberships, org, role)
                present = set()
                for membership in listed:
                    user = membership.user_id.lower()
                    present.add(user)
                    key = MembershipKey(
                        org_id=org, role_id=role, user_id=user, integration_key=call.integration_key
                    )
                    members.append(
                        RoleMember(
                            key=key,
                            membership_id=membership.id,
                            ledger=ledger.get(user),
                            remove_unknown=remove_unknown and not membership.privileged,
                        )
                    )
                vanished += [
                    MembershipKey(
                        org_id=org, role_id=role, user_id=user, integration_key=call.integration_key
                    )
                    for user, state in ledger.items()
                    if user not in present and state == "created"
                ]
        except Exception as error:
            raise as_temporal_failure(error) from None
        return RoleListing(
            members=tuple(members),
            vanished=tuple(vanished),
            problems=tuple(problems),
            listed_at=listed_at,
        )

    @activity.defn(name=RECONCILE_OWNERS.name)
    async def running_owners(self, call: ListingCall) -> RunningOwners:
        listed = self._client.list_workflows(RUNNING_OWNERS_QUERY)
        ids = [execution.id async for execution in listed]
        return RunningOwners(workflow_ids=tuple(sorted(set(ids))))

    @activity.defn(name=RECONCILE_REMOVE_UNKNOWN.name)
    async def remove_unknown(self, call: RemoveMembershipCall) -> bool:
        """Remove a membership jitflow did not create, only where its flow says so."""
        key = call.key
        if not self._targets(key.integration_key).get(key.role_id.lower(), False):
            return False  # the configuration does not ask for it: never removed
        try:
            creds = await self._credentials.for_integration(key.integration_key)
            removal = await self._aptible.remove_membership(
                creds, key.role_id, key.user_id, call.membership_id, org_id=key.org_id
            )
        except Exception as error:
            raise as_temporal_failure(error) from None
        return removal.removed
