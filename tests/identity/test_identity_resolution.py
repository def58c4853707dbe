"""Identity resolution: stored → get_identity reducer → discovery by email → IdentityNotFound.

Runs the activity in Temporal's ActivityEnvironment against a real store. The reducer runner
and the Aptible lookup belong to other modules; plain async functions stand in for them here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from identity_constants import ALICE_ID, BOB_ID, ORG
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.identity import IdentityActivities, IdentityNotFound
from jitflow.contracts.identity import (
    IDENTITY_NOT_FOUND,
    INVALID_IDENTITY,
    IdentityReducerCall,
    ResolvedIdentity,
    ResolveIdentityInput,
    UserDiscoveryCall,
)
from jitflow.identity import IdentityStore


class Recorder:
    """An async callable answering from a fixed value and remembering what it was asked."""

    def __init__(self, answer: str | None) -> None:
        self.answer = answer
        self.calls: list[object] = []

    async def __call__(self, call: object) -> str | None:
        self.calls.append(call)
        return self.answer


def _request(email: str = "Alice@Example.com") -> ResolveIdentityInput:
    return ResolveIdentityInput(email=email, org_id=ORG.upper(), integration="aptible_main")


async def _resolve(
    activities: IdentityActivities, request: ResolveIdentityInput
) -> ResolvedIdentity:
    run: Callable[..., Awaitable[ResolvedIdentity]] = ActivityEnvironment().run
    return await run(activities.resolve_identity, request)


async def test_a_stored_identity_wins_and_nothing_else_is_asked(store: IdentityStore) -> None:
    store.set_identity("alice@example.com", "aptible", ORG, ALICE_ID)
    reducer, discovery = Recorder(BOB_ID), Recorder(BOB_ID)
    activities = IdentityActivities(store, get_identity=reducer, discover_user=discovery)
    result = await _resolve(activities, _request())
    assert (result.service_user_id, result.source) == (ALICE_ID, "stored")
    assert (result.email, result.external_id) == ("alice@example.com", ORG)
    assert reducer.calls == [] and discovery.calls == []


async def test_the_reducer_answer_is_stored_before_discovery(store: IdentityStore) -> None:
    store.upsert_user("alice@example.com", role="admin")
    reducer, discovery = Recorder(ALICE_ID.upper()), Recorder(BOB_ID)
    activities = IdentityActivities(store, get_identity=reducer, discover_user=discovery)
    request = _request().model_copy(update={"flow": "aptible_access"})
    result = await _resolve(activities, request)
    assert (result.service_user_id, result.source) == (ALICE_ID, "reducer")
    assert discovery.calls == []
    [call] = reducer.calls
    assert isinstance(call, IdentityReducerCall)
    assert (call.flow, call.service_type, call.external_id) == ("aptible_access", "aptible", ORG)
    assert (call.user.email, call.user.role) == ("alice@example.com", "admin")
    assert store.get_identity("alice@example.com", "aptible", ORG) == ALICE_ID
    again = await _resolve(activities, request)
    assert again.source == "stored" and len(reducer.calls) == 1


async def test_discovery_by_email_runs_when_the_reducer_says_none(store: IdentityStore) -> None:
    reducer, discovery = Recorder(None), Recorder(BOB_ID)
    activities = IdentityActivities(store, get_identity=reducer, discover_user=discovery)
    result = await _resolve(activities, _request("bob@example.com"))
    assert (result.service_user_id, result.source) == (BOB_ID, "discovered")
    assert discovery.calls == [
        UserDiscoveryCall(integration="aptible_main", org_id=ORG, email="bob@example.com")
    ]
    assert len(reducer.calls) == 1
    assert store.get_identity("bob@example.com", "aptible", ORG) == BOB_ID


async def test_no_collaborators_and_nothing_stored_fails_with_the_fix(store: IdentityStore) -> None:
    activities = IdentityActivities(store, discover_user=Recorder(None))
    with pytest.raises(IdentityNotFound) as raised:
        await _resolve(activities, _request("carol@example.com"))
    error = raised.value
    assert error.type == IDENTITY_NOT_FOUND and error.non_retryable
    command = (
        f"jitflow users update-identity carol@example.com --service-type aptible "
        f"--external-id {ORG} --new-value <aptible-user-uuid>"
    )
    assert "carol@example.com" in error.message and ORG in error.message
    assert command in error.message
    assert error.details == ({"email": "carol@example.com", "org_id": ORG, "command": command},)
    assert store.list_identities() == []


@pytest.mark.parametrize("source", ["reducer", "discovery"])
async def test_a_non_uuid_answer_is_refused_and_not_stored(
    store: IdentityStore, source: str
) -> None:
    bad = Recorder("alice")
    activities = (
        IdentityActivities(store, get_identity=bad)
        if source == "reducer"
        else IdentityActivities(store, discover_user=bad)
    )
    with pytest.raises(ApplicationError) as raised:
        await _resolve(activities, _request())
    assert raised.value.type == INVALID_IDENTITY and raised.value.non_retryable
    assert "'alice'" in raised.value.message
    assert store.list_identities() == []


async def test_a_bad_email_or_organization_is_refused(store: IdentityStore) -> None:
    activities = IdentityActivities(store)
    for request in (
        ResolveIdentityInput(email="alice", org_id=ORG),
        ResolveIdentityInput(email="alice@example.com", org_id="my-org"),
    ):
        with pytest.raises(ApplicationError) as raised:
            await _resolve(activities, request)
        assert raised.value.type == INVALID_IDENTITY
        assert repr(request.email if "@" not in request.email else request.org_id) in (
            raised.value.message
        )


async def test_load_user_gives_the_role_and_identities(store: IdentityStore) -> None:
    store.upsert_user("alice@example.com", role="guest")
    store.set_identity("alice@example.com", "aptible", ORG, ALICE_ID)
    activities = IdentityActivities(store)
    user = await ActivityEnvironment().run(activities.load_user, "Alice@example.com")
    assert user.role == "guest"
    assert user.identities == {f"aptible:{ORG}": ALICE_ID}
