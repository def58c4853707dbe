"""The contract and the code that implements it agree: activity names and types, update names.

Workflows call activities by ``ActivityContract`` and callers reach updates by the names in
``jitflow.contracts.names``; a drift between either and the implementation would only show at
run time, in a workflow task that fails, so it is checked here.
"""

from __future__ import annotations

import typing

import pytest
from temporalio import activity, workflow

from activities.access import AccessActivities
from activities.identity import IdentityActivities
from activities.membership import MembershipActivities
from activities.notifications import NotificationActivities
from activities.reconcile import ReconcileActivities
from activities.reducers import ReducerActivities
from jitflow.contracts import names
from jitflow.contracts.activities import ALL_ACTIVITIES, ActivityContract
from jitflow.contracts.membership import ReleaseLease
from workflows.access_request import AccessRequestWorkflow
from workflows.role_membership import RoleMembershipWorkflow

IMPLEMENTATIONS: list[typing.Callable[..., typing.Any]] = [
    AccessActivities.resolve_access_request,
    IdentityActivities.resolve_identity,
    ReducerActivities.run_hook,
    ReducerActivities.get_permissions,
    MembershipActivities.acquire_lease,
    MembershipActivities.release_lease,
    MembershipActivities.add_aptible_membership,
    MembershipActivities.remove_aptible_membership,
    ReconcileActivities.list_memberships,
    ReconcileActivities.running_owners,
    ReconcileActivities.remove_unknown,
    NotificationActivities.post_request,
    NotificationActivities.update_request,
    NotificationActivities.notify_requester,
]


def _registered() -> dict[str, typing.Any]:
    found: dict[str, typing.Any] = {}
    for function in IMPLEMENTATIONS:
        definition = activity._Definition.must_from_callable(function)
        found[str(definition.name)] = function
    return found


@pytest.mark.parametrize("contract", ALL_ACTIVITIES, ids=lambda c: c.name)
def test_each_activity_contract_has_an_implementation_of_its_types(
    contract: ActivityContract[typing.Any, typing.Any],
) -> None:
    function = _registered().get(contract.name)
    assert function is not None, f"no activity registered as {contract.name!r}"
    hints = typing.get_type_hints(function)
    arguments = [value for key, value in hints.items() if key != "return"]
    assert arguments == [contract.input], (contract.name, arguments)
    assert hints["return"] is contract.output, (contract.name, hints["return"])


def test_every_implementation_has_a_contract() -> None:
    assert set(_registered()) == {contract.name for contract in ALL_ACTIVITIES}


def test_update_and_query_names_match_the_workflows() -> None:
    access = workflow._Definition.must_from_class(AccessRequestWorkflow)
    owner = workflow._Definition.must_from_class(RoleMembershipWorkflow)
    assert access.name == names.ACCESS_WORKFLOW_TYPE
    assert owner.name == names.MEMBERSHIP_WORKFLOW_TYPE
    assert set(access.updates) == {
        names.APPROVE_UPDATE,
        names.DENY_UPDATE,
        names.REVOKE_UPDATE,
        names.CANCEL_UPDATE,
        names.LEASE_ENDED_UPDATE,
    }
    assert set(access.signals) == {names.LEASE_END_HINT_SIGNAL, names.LEASE_END_NOTICE_SIGNAL}
    assert set(access.queries) == {names.STATUS_QUERY}
    assert set(owner.updates) == {names.ADD_LEASE_UPDATE, names.RELEASE_LEASE_UPDATE}
    assert set(owner.queries) == {names.STATE_QUERY}
    assert set(owner.signals) == {names.MEMBERSHIP_VANISHED_SIGNAL}


def test_release_lease_still_reads_the_bare_holder_string_of_older_callers() -> None:
    assert ReleaseLease.model_validate("req-1") == ReleaseLease(holder="req-1")
    assert ReleaseLease.model_validate({"holder": "req-1"}).reason == "released"
