"""The events a request hands to reducers and hooks, built from what its history holds.

Sym records one actor and one context per event name, and hooks read them
(``event.get_actor("request")``, ``event.get_context("approve")``, ``get_step_output``). This
keeps that record as the request goes, beside the timeline, and builds each ``EventData`` from
it, so that a hook sees the same thing on every replay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from jitflow.contracts.access import AccessState, ResolvedRequest, TimelineEntry
    from jitflow.contracts.base import normalize_email
    from jitflow.contracts.events import EventData, UserData
    from jitflow.contracts.membership import LeaseGrant

#: Actors that are not people: a hook's decision is recorded as ``hook:<name>``.
HOOK_ACTOR_PREFIX = "hook:"


def is_person(actor: str) -> bool:
    """Whether an actor is a person's email, as opposed to ``hook:on_request`` and the like."""
    return not actor.startswith(HOOK_ACTOR_PREFIX) and "@" in actor


class RequestEvents:
    """The request's timeline plus Sym's per-event actors, contexts and step outputs."""

    def __init__(self, state: AccessState) -> None:
        self._state = state
        self._actors: dict[str, str] = {}
        self._contexts: dict[str, dict[str, Any]] = {}
        self.step_outputs: dict[str, dict[str, Any]] = {}

    def record(self, event: str, actor: str | None, message: str | None) -> None:
        """Add a timeline entry; the actor and message become the event's actor and context."""
        self._state.timeline.append(
            TimelineEntry(event=event, at=workflow.now(), actor=actor, message=message)
        )
        if actor:
            self._actors[event] = actor
        if message:
            self._contexts[event] = {"message": message}

    def escalated(self, grant: LeaseGrant, role_id: str, now: datetime) -> None:
        """Record the grant: the owner counted its length from the moment the membership
        existed; ``get_step_output("escalate")`` answers from here on."""
        state = self._state
        state.escalated_at = grant.confirmed_at or now
        state.expires_at = grant.ends_at
        state.preexisting = grant.preexisting
        state.membership_workflow_id = grant.membership_workflow_id
        self.step_outputs["escalate"] = {
            "preexisting": grant.preexisting,
            "membership_id": grant.membership_id,
            "role_id": role_id,
            "user_id": state.aptible_user_id,
        }
        note = "standing access: kept at the end" if grant.preexisting else None
        self.record("escalate", state.approver, note)

    def _contexts_for(self, resolved: ResolvedRequest) -> dict[str, dict[str, Any]]:
        """Sym's per-event contexts; ``"request"`` also holds what the requester gave with
        ``--context`` (the timeline's own context, the reason as ``message``, stays on top)."""
        contexts = dict(self._contexts)
        if resolved.context:
            contexts["request"] = {**resolved.context, **contexts.get("request", {})}
        return contexts

    def user(self, email: str) -> UserData:
        """A user as reducers see them: role from the recorded permissions, the requester's
        Aptible identity once it is known."""
        state = self._state
        permissions = state.permissions
        role = permissions.role_of(email) if permissions else "member"
        identities: dict[str, str] = {}
        resolved = state.resolved
        if resolved and state.aptible_user_id and normalize_email(email) == resolved.requester:
            identities[f"aptible:{resolved.org_id}"] = state.aptible_user_id
        return UserData(email=normalize_email(email), role=role, identities=identities)

    def event(self, resolved: ResolvedRequest, name: str, actor: str, duration: int) -> EventData:
        """The ``EventData`` of event ``name`` fired by ``actor`` (a hook actor counts as the
        requester)."""
        fields = dict(resolved.fields)
        fields["duration"] = duration
        return EventData(
            name=name,
            flow=resolved.flow_key,
            request_id=self._state.workflow_id,
            timestamp=workflow.now(),
            user=self.user(actor if is_person(actor) else resolved.requester),
            requester=self.user(resolved.requester),
            target=resolved.target,
            fields=fields,
            actors={
                event: self.user(email) for event, email in self._actors.items() if is_person(email)
            },
            contexts=self._contexts_for(resolved),
            step_outputs=dict(self.step_outputs),
        )
