"""Every activity a workflow calls: its registered name, its input and its result, once.

Workflows call activities through these references (``workflows/steps.py``), and the
implementations in ``activities/`` register under ``contract.name``, so neither room imports the
other and the names recorded in histories never change. ``tests/test_contracts.py`` checks that
each implementation's signature matches its contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from jitflow.contracts.access import AccessRequestInput, ResolvedRequest
from jitflow.contracts.events import HookCall, HookOutcome, Permissions, PermissionsCall
from jitflow.contracts.identity import ResolvedIdentity, ResolveIdentityInput
from jitflow.contracts.membership import (
    AddMembershipCall,
    LeaseGrant,
    LeaseRelease,
    LeaseReleased,
    LeaseRequest,
    MembershipAdded,
    MembershipRemoved,
    RemoveMembershipCall,
)
from jitflow.contracts.notifications import (
    DeliveryOutcome,
    NotifyRequesterCall,
    PostRequestCall,
    UpdateRequestCall,
)
from jitflow.contracts.reconcile import ListingCall, RoleListing, RunningOwners

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")


@dataclass(frozen=True)
class ActivityContract(Generic[InputT, OutputT]):
    """A typed reference to an activity: calling it by this keeps name and types together."""

    name: str
    input: type[InputT]
    output: type[OutputT]


RESOLVE_REQUEST = ActivityContract("resolve_access_request", AccessRequestInput, ResolvedRequest)
RESOLVE_IDENTITY = ActivityContract("resolve_identity", ResolveIdentityInput, ResolvedIdentity)
RUN_HOOK = ActivityContract("reducer_run_hook", HookCall, HookOutcome)
GET_PERMISSIONS = ActivityContract("reducer_get_permissions", PermissionsCall, Permissions)
ACQUIRE_LEASE = ActivityContract("acquire_lease", LeaseRequest, LeaseGrant)
RELEASE_LEASE = ActivityContract("release_lease", LeaseRelease, LeaseReleased)
ADD_MEMBERSHIP = ActivityContract("add_aptible_membership", AddMembershipCall, MembershipAdded)
REMOVE_MEMBERSHIP = ActivityContract(
    "remove_aptible_membership", RemoveMembershipCall, MembershipRemoved
)

RECONCILE_LIST = ActivityContract("reconcile_list_memberships", ListingCall, RoleListing)
RECONCILE_OWNERS = ActivityContract("reconcile_running_owners", ListingCall, RunningOwners)
RECONCILE_REMOVE_UNKNOWN = ActivityContract("reconcile_remove_unknown", RemoveMembershipCall, bool)

#: Slack delivery (``activities/notifications.py``): never raise, always say how it went.
SLACK_POST_REQUEST = ActivityContract("slack_post_request", PostRequestCall, DeliveryOutcome)
SLACK_UPDATE_REQUEST = ActivityContract("slack_update_request", UpdateRequestCall, DeliveryOutcome)
SLACK_NOTIFY_REQUESTER = ActivityContract(
    "slack_notify_requester", NotifyRequesterCall, DeliveryOutcome
)

#: Every contract above, for the worker's and the tests' checks.
ALL_ACTIVITIES: tuple[ActivityContract[Any, Any], ...] = (
    RESOLVE_REQUEST,
    RESOLVE_IDENTITY,
    RUN_HOOK,
    GET_PERMISSIONS,
    ACQUIRE_LEASE,
    RELEASE_LEASE,
    ADD_MEMBERSHIP,
    REMOVE_MEMBERSHIP,
    RECONCILE_LIST,
    RECONCILE_OWNERS,
    RECONCILE_REMOVE_UNKNOWN,
    SLACK_POST_REQUEST,
    SLACK_UPDATE_REQUEST,
    SLACK_NOTIFY_REQUESTER,
)
