"""Where a membership is granted, the worker checks that it was approved: the trust boundary.

Nothing a workflow says is taken on faith here. A caller who can start, update and terminate
workflows, read every history and even run a worker of their own can make any workflow ask for
any lease, so ``acquire_lease`` rebuilds the facts itself: the request's input from the first
event of its history (written by the server when it started), the flow and target from this
worker's configuration, the requester's Aptible user from the identity store, who may approve
from the flow's own rules, and the approval from a signature made with a key the store holds for
that person. Only then does the worker sign a ``GrantTicket``, the one thing the membership
owner and the add-membership activity accept. Taking access away needs none of this.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from activities.access import RequestRefused, resolve_request
from activities.blocking import Blocking
from jitflow.config.models import JitflowConfig
from jitflow.contracts.access import AccessRequestInput, Decision, ResolvedRequest
from jitflow.contracts.base import normalize_email
from jitflow.contracts.events import (
    EventData,
    HookCall,
    HookOutcome,
    Permissions,
    PermissionsCall,
    UserData,
)
from jitflow.contracts.membership import Lease, LeaseEnded, LeaseRequest, MembershipKey
from jitflow.contracts.names import ACCESS_WORKFLOW_TYPE, APPROVE_UPDATE
from jitflow.contracts.trust import DecisionProof, GrantTicket, ticket_id
from jitflow.reducer_runtime import ImplementationCache
from jitflow.trust.checks import (
    CLOCK_SKEW,
    MAX_GRANT,
    ticket_refusal,
)
from jitflow.trust.directory import TrustDirectory
from jitflow.trust.keys import PublicKey, parse_public_key
from workflows.permissions import decision_refusal

#: How long after the ticket is signed the owner may still be confirming the membership (the
#: acquire activity's schedule-to-close); a timed grant's ticket ends this much after its length.
CONFIRMATION_WINDOW = timedelta(minutes=15)

REFUSED = "GrantRefused"


def refuse(message: str) -> ApplicationError:
    """A grant the worker will not make: final, with the reason, and no membership added."""
    return ApplicationError(message, type=REFUSED, non_retryable=True)


class GrantStore(Protocol):
    """What the authority reads from and writes to the identity store."""

    def get_identity(self, email: str, service_type: str, external_id: str) -> str | None: ...
    def user_data(self, email: str) -> UserData: ...
    def key_by_fingerprint(self, fingerprint: str) -> Any: ...
    def consume_proof_nonce(
        self, nonce: str, workflow_id: str, run_id: str, action: str
    ) -> bool: ...
    def grants_closed(self, ids: list[str]) -> set[str]: ...
    def issue_ticket_once(self, ticket_id: str, ticket: str) -> str: ...
    def close_grants(self, ids: list[str]) -> None: ...
    def issued_ticket(self, ticket_id: str) -> str | None: ...


class FrontDoorKeySource(Protocol):
    """The front doors' public keys, from Secrets Manager (``jitflow.trust.front_door_key``)."""

    def public_keys(self) -> list[PublicKey]: ...


class Signer(Protocol):
    @property
    def key_id(self) -> str: ...
    def sign(self, data: bytes) -> str: ...


class GrantAuthority:
    """Issues grant tickets after checking the approval, and admits adds that carry one."""

    def __init__(
        self,
        *,
        config: JitflowConfig,
        store: GrantStore,
        signer: Signer,
        directory: TrustDirectory,
        client: Client,
        permissions: Callable[[PermissionsCall], Permissions],
        hook: Callable[[HookCall], HookOutcome],
        blocking: Blocking | None = None,
        user_code: Blocking | None = None,
        front_doors: FrontDoorKeySource | None = None,
        implementations: ImplementationCache | None = None,
    ) -> None:
        self._front_doors = front_doors
        self._implementations = implementations or ImplementationCache()
        self._blocking = blocking or Blocking()
        self._user_code = user_code or Blocking()
        self._config = config
        self._store = store
        self._signer = signer
        self._directory = directory
        self._client = client
        self._permissions = permissions
        self._hook = hook

    # --- issuing ---------------------------------------------------------------------------

    async def ticketed(self, request: LeaseRequest, info: activity.Info) -> Lease:
        """The lease ``request`` asks for, with a signed ticket; raises ``refuse(...)``."""
        if info.workflow_type != ACCESS_WORKFLOW_TYPE or not info.workflow_id:
            raise refuse(f"only an {ACCESS_WORKFLOW_TYPE} request may take a lease")
        holder, run_id = info.workflow_id, info.workflow_run_id or ""
        lease = request.lease
        if lease.holder != holder:
            raise refuse(f"request {holder} may not take a lease for {lease.holder}")
        events = await self._history(holder, run_id)
        resolved = await self._started_request(events)
        await self._check_key(request.key, resolved)
        # The server's clock (when it scheduled this attempt), not this machine's.
        now = info.current_attempt_scheduled_time
        approved_by, longest = await self._approval(request, resolved, holder, run_id, events, now)
        return await self._sign(
            lease, request.key, resolved, holder, run_id, approved_by, longest, now
        )

    async def _history(self, holder: str, run_id: str) -> list[HistoryEvent]:
        handle = self._client.get_workflow_handle(holder, run_id=run_id)
        return [event async for event in handle.fetch_history_events()]

    async def _started_request(self, events: list[HistoryEvent]) -> ResolvedRequest:
        """The request as its requester started it, checked against this worker's config."""
        first = events[0] if events else None
        if first is None or first.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            raise refuse("the request's history has no start event")
        payloads = first.workflow_execution_started_event_attributes.input.payloads
        converter = self._client.data_converter
        [started] = await converter.decode(list(payloads), [AccessRequestInput])
        try:
            # On the configuration threads: it may load the flow's module (on_change handlers).
            return await self._blocking(
                resolve_request, self._config, started, implementations=self._implementations
            )
        except RequestRefused as error:
            raise refuse(f"the request as started is not valid: {error}") from None

    async def _check_key(self, key: MembershipKey, resolved: ResolvedRequest) -> None:
        user_id = await self._blocking(
            self._store.get_identity, resolved.requester, "aptible", resolved.org_id
        )
        wanted = (resolved.org_id.lower(), resolved.target.role_id.lower(), (user_id or "").lower())
        if (key.org_id.lower(), key.role_id.lower(), key.user_id.lower()) != wanted:
            raise refuse(
                f"the lease is for user {key.user_id} in role {key.role_id}, but the request is "
                f"{resolved.requester}'s for role {resolved.target.role_id}"
            )

    async def _approval(
        self,
        request: LeaseRequest,
        resolved: ResolvedRequest,
        holder: str,
        run_id: str,
        events: list[HistoryEvent],
        now: datetime,
    ) -> tuple[str, int | None]:
        """Who approved and the longest grant they allowed, proven; else ``refuse``."""
        if request.proof is not None:
            return await self._person_approval(request.proof, resolved, holder, run_id, events, now)
        if resolved.handlers is None or "on_request" in resolved.handlers:
            approved = await self._hook_approval(resolved, holder, now)
            if approved is not None:
                return approved
        if not self._directory.signed_decisions:
            activity.logger.warning(
                "granting %s without a verified approval: signed decisions are OFF", holder
            )
            return "unverified", None
        raise refuse("no verified approval: neither a signed decision nor an on_request approval")

    async def _hook_approval(
        self, resolved: ResolvedRequest, holder: str, now: datetime
    ) -> tuple[str, int | None] | None:
        """Whether the flow's ``on_request`` approves this request, asked here and now with an
        event this worker built (never one a workflow handed over): the hook may run twice, as
        every hook may, but no caller can feed it a story."""
        call = await self._blocking(self._event, resolved, holder, now)
        hook = HookCall(flow=resolved.flow_key, hook="on_request", event=call.event)
        try:
            outcome = await asyncio.wait_for(
                self._user_code(self._hook, hook), timeout=resolved.hook_timeout_seconds
            )
        except Exception as error:  # the hook failed or hung: no automatic approval
            activity.logger.warning("on_request could not confirm %s: %s", holder, type(error))
            return None
        if outcome.action not in ("approve", "escalate"):
            return None
        return "hook:on_request", outcome.duration or resolved.duration_seconds

    async def _person_approval(
        self,
        proof: DecisionProof,
        resolved: ResolvedRequest,
        holder: str,
        run_id: str,
        events: list[HistoryEvent],
        now: datetime,
    ) -> tuple[str, int | None]:
        decider = normalize_email(proof.decider)
        if proof.action != "approve" or (proof.workflow_id, proof.run_id) != (holder, run_id):
            raise refuse("the approval's proof is for another action, request or run")
        record = await self._blocking(self._store.key_by_fingerprint, proof.key_fingerprint)
        if record is None:
            await self._check_front_door(proof, decider)
        elif normalize_email(record.email) != decider:
            raise refuse(f"key {proof.key_fingerprint} is not a registered key of {decider}")
        elif not parse_public_key(record.public_key).verify(proof.signed_bytes(), proof.signature):
            raise refuse("the approval's signature does not verify")
        user_id = await self._blocking(
            self._store.get_identity, resolved.requester, "aptible", resolved.org_id
        )
        if (proof.org_id.lower(), proof.role_id.lower(), proof.user_id.lower()) != (
            resolved.org_id.lower(),
            resolved.target.role_id.lower(),
            (user_id or "").lower(),
        ):
            raise refuse("the approval's proof is for another role or user")
        self._check_accepted_in_time(proof, events)
        event = await self._blocking(self._event, resolved, holder, now)
        # The flow's own rules, run where user code runs (its own threads), with a time limit.
        permissions = await asyncio.wait_for(
            self._user_code(self._permissions, event), timeout=resolved.hook_timeout_seconds
        )
        refusal = decision_refusal(permissions, resolved, decider, "approve")
        if refusal:
            raise refuse(f"{decider} may not approve this request: {refusal}")
        used = await self._blocking(
            self._store.consume_proof_nonce, proof.nonce, holder, run_id, "approve"
        )
        if not used:
            raise refuse("the approval's proof was already used elsewhere")
        if not proof.max_duration_seconds or proof.max_duration_seconds <= 0:
            raise refuse("the approval's proof states no longest grant")
        return decider, proof.max_duration_seconds

    async def _check_front_door(self, proof: DecisionProof, decider: str) -> None:
        """A proof not signed by a person's key must be signed by a front door's (the Slack
        one), whose public keys this worker reads from Secrets Manager, never from the proof."""
        keys = await self._blocking(self._front_doors.public_keys) if self._front_doors else []
        key = next((k for k in keys if k.fingerprint == proof.key_fingerprint), None)
        if key is None:
            raise refuse(f"key {proof.key_fingerprint} is not a registered key of {decider}")
        if not key.verify(proof.signed_bytes(), proof.signature):
            raise refuse("the approval's signature does not verify with the front door's key")

    def _check_accepted_in_time(self, proof: DecisionProof, events: list[HistoryEvent]) -> None:
        """The server accepted the approve update carrying this proof before it expired."""
        for event in events:
            if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                continue
            accepted = event.workflow_execution_update_accepted_event_attributes.accepted_request
            if accepted.input.name != APPROVE_UPDATE:
                continue
            decoded = self._client.data_converter.payload_converter.from_payloads(
                list(accepted.input.args.payloads), [Decision]
            )
            decision = decoded[0] if decoded else None
            if not isinstance(decision, Decision) or decision.proof is None:
                continue
            if decision.proof.nonce != proof.nonce:
                continue
            at = event.event_time.ToDatetime(tzinfo=UTC)
            if proof.issued_at - CLOCK_SKEW <= at <= proof.expires_at:
                return
            raise refuse(f"the approval was accepted at {at.isoformat()}, outside its proof's time")
        raise refuse("the request's history holds no approve update carrying this proof")

    def _event(self, resolved: ResolvedRequest, holder: str, now: datetime) -> PermissionsCall:
        """The request event as the configuration and the store describe it, for the flow's
        ``get_permissions``: built here, not taken from the workflow."""
        requester = self._store.user_data(resolved.requester)
        fields = dict(resolved.fields)
        fields["duration"] = resolved.duration_seconds
        event = EventData(
            name="request",
            flow=resolved.flow_key,
            request_id=holder,
            timestamp=now,
            user=requester,
            requester=requester,
            target=resolved.target,
            fields=fields,
            contexts={"request": dict(resolved.context)} if resolved.context else {},
        )
        return PermissionsCall(flow=resolved.flow_key, event=event)

    async def _sign(
        self,
        lease: Lease,
        key: MembershipKey,
        resolved: ResolvedRequest,
        holder: str,
        run_id: str,
        approved_by: str,
        longest: int | None,
        now: datetime,
    ) -> Lease:
        duration = lease.duration_seconds
        if resolved.schedule_deescalation:
            if duration is None:
                raise refuse(f"flow {resolved.flow_name!r} grants for a time; the lease has none")
            # Never longer than the approver allowed, nor than what was requested (a hook's
            # longer duration is not the approver's to give).
            duration = min(duration, longest or duration, resolved.duration_seconds)
            if not 0 < duration <= MAX_GRANT.total_seconds():
                raise refuse(f"a grant of {duration} seconds is out of bounds")
        else:
            duration = None
        not_after = now + timedelta(seconds=duration) + CONFIRMATION_WINDOW if duration else None
        unsigned = GrantTicket(
            holder=holder,
            holder_run_id=run_id,
            org_id=key.org_id.lower(),
            role_id=key.role_id.lower(),
            user_id=key.user_id.lower(),
            duration_seconds=duration,
            not_after=not_after,
            approved_by=approved_by,
            issued_at=now,
            key_id=self._signer.key_id,
            signature="",
        )
        signed = unsigned.model_copy(
            update={"signature": self._signer.sign(unsigned.signed_bytes())}
        )
        # One ticket per request run: a retried (or replayed) acquire gets the first one back,
        # with its end, so that reusing an approval never lengthens a grant.
        stored = await self._blocking(
            self._store.issue_ticket_once, ticket_id(holder, run_id), signed.model_dump_json()
        )
        ticket = GrantTicket.model_validate_json(stored)
        ends_at = lease.ends_at
        if ticket.not_after is not None and ticket.duration_seconds is not None:
            ends_at = min(
                ends_at or ticket.not_after,
                ticket.issued_at + timedelta(seconds=ticket.duration_seconds),
            )
        return lease.model_copy(
            update={
                "ticket": ticket,
                "duration_seconds": ticket.duration_seconds,
                "ends_at": ends_at,
                # For the owner's summary and details: from the request as started, not from
                # what the workflow sent.
                "requester": resolved.requester,
                "target": resolved.target.key,
                "target_label": resolved.target.label,
            }
        )

    # --- admitting -------------------------------------------------------------------------

    async def admit(
        self, key: MembershipKey, tickets: tuple[GrantTicket, ...], now: datetime
    ) -> GrantTicket:
        """The ticket that allows adding ``key``'s membership ``now`` (the server's time of the
        attempt; for a local activity, which the server does not schedule, the later of the
        worker's schedule time and its clock); raises ``refuse(...)``."""
        reasons: list[str] = []
        live: list[GrantTicket] = []
        for ticket in tickets:
            reason = ticket_refusal(
                ticket, key=key, holder=None, now=now, directory=self._directory
            )
            if reason:
                reasons.append(reason)
            else:
                live.append(ticket)
        ids = [ticket_id(t.holder, t.holder_run_id) for t in live]
        closed = await self._blocking(self._store.grants_closed, ids) if ids else set()
        for ticket, tid in zip(live, ids, strict=True):
            if tid in closed:
                reasons.append(f"the grant of {ticket.holder} already ended")
            elif ticket.not_after is None and not await self._holder_runs(ticket):
                reasons.append(f"the until-revoked grant of {ticket.holder} no longer runs")
            else:
                return ticket
        why = "; ".join(reasons) or "no grant ticket"
        raise refuse(f"not adding user {key.user_id} to role {key.role_id}: {why}")

    async def _holder_runs(self, ticket: GrantTicket) -> bool:
        """An until-revoked ticket has no end of its own: it holds while its request runs."""
        handle = self._client.get_workflow_handle(ticket.holder, run_id=ticket.holder_run_id)
        try:
            description = await handle.describe()
        except RPCError:
            return False
        return description.status == WorkflowExecutionStatus.RUNNING

    async def close(self, ids: tuple[str, ...]) -> None:
        """Record grants as ended, before their membership is removed."""
        if ids:
            await self._blocking(self._store.close_grants, list(ids))

    async def vouch(self, news: LeaseEnded, key: MembershipKey, now: datetime) -> LeaseEnded | None:
        """Sign a removal's news to a request with the worker's key, or None when this worker's
        own records do not show that request's grant of ``key`` ended by ``now``: the ticket it
        issued for that run, for this membership, with a duration that has run out. Whoever
        schedules the removal chooses whom it tells, so the caller's word is not enough."""
        stored = await self._blocking(
            self._store.issued_ticket, ticket_id(news.holder, news.holder_run_id)
        )
        if stored is None:
            return None
        ticket = GrantTicket.model_validate_json(stored)
        membership = (key.org_id.lower(), key.role_id.lower(), key.user_id.lower())
        if (ticket.org_id, ticket.role_id, ticket.user_id) != membership:
            return None
        if ticket.duration_seconds is None:
            return None  # a grant until released never ends on a timer
        if ticket.issued_at + timedelta(seconds=ticket.duration_seconds) > now:
            return None  # a lease ends no sooner than its ticket's issue plus its duration
        unsigned = news.model_copy(update={"key_id": self._signer.key_id, "signature": ""})
        return unsigned.model_copy(update={"signature": self._signer.sign(unsigned.signed_bytes())})
