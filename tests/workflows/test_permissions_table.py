"""Who may approve, deny, revoke and cancel: the pure rules, one row per case, no server."""

from __future__ import annotations

from typing import Any

import pytest
from access_stack import resolved_request

from jitflow.contracts.access import AccessRequestInput, AccessState, ResolvedRequest
from jitflow.contracts.events import Permissions
from workflows.permissions import (
    approval_refusal,
    cancel_refusal,
    decision_refusal,
    describe_approvers,
    revocation_refusal,
    revoke_refusal,
)

ROLES: dict[str, Any] = {"dave@example.com": "admin", "eve@example.com": "guest"}


resolved = resolved_request


def permissions(**changes: Any) -> Permissions:
    return Permissions(source="get_permissions", user_roles=ROLES, **changes)


BOB_ONLY = permissions(approvers=("bob@example.com",))
MEMBERS = permissions(levels=("member",))
SELF_OK = permissions(approvers=("alice@example.com",), allow_self_approval=True)


@pytest.mark.parametrize(
    ("perms", "actor", "refused_because"),
    [
        (BOB_ONLY, "bob@example.com", None),
        (BOB_ONLY, " Bob@Example.com ", None),
        (BOB_ONLY, "carol@example.com", "is not an approver"),
        (BOB_ONLY, "dave@example.com", None),  # admins always may
        (BOB_ONLY, "alice@example.com", "may not approve their own request"),
        (BOB_ONLY, "eve@example.com", "is a guest"),
        (BOB_ONLY, "  ", "needs an approver email"),
        (MEMBERS, "carol@example.com", None),
        (MEMBERS, "eve@example.com", "is a guest"),
        (SELF_OK, "alice@example.com", None),
        (permissions(), "bob@example.com", "is not an approver"),  # default: admins only
        (permissions(levels=("all_users",)), "zed@example.com", None),
    ],
)
def test_who_may_approve(perms: Permissions, actor: str, refused_because: str | None) -> None:
    refusal = decision_refusal(perms, resolved(), actor, "approve")
    if refused_because is None:
        assert refusal is None
    else:
        assert refusal is not None and refused_because in refusal


@pytest.mark.parametrize(
    ("flow", "actor", "approver", "refused_because"),
    [
        (resolved(), "alice@example.com", "bob@example.com", None),  # the requester
        (resolved(), "bob@example.com", "bob@example.com", None),  # who approved
        (resolved(), "dave@example.com", "bob@example.com", None),  # an admin
        (resolved(), "carol@example.com", "bob@example.com", "only the requester or an approver"),
        (resolved(allow_revoke=False), "alice@example.com", None, "does not allow revoking"),
        (resolved(), "eve@example.com", None, "is a guest"),
        (resolved(allow_guest_interaction=True), "eve@example.com", None, "only the requester"),
    ],
)
def test_who_may_revoke(
    flow: ResolvedRequest, actor: str, approver: str | None, refused_because: str | None
) -> None:
    refusal = revoke_refusal(BOB_ONLY, flow, actor, approver)
    if refused_because is None:
        assert refusal is None
    else:
        assert refusal is not None and refused_because in refusal


def state(**changes: Any) -> AccessState:
    base = AccessState(
        workflow_id="req-1",
        input=AccessRequestInput(requester="Alice@Example.com", target="t", flow="f"),
        resolved=resolved(),
        permissions=BOB_ONLY,
        ready_for_decision=True,
    )
    return base.model_copy(update=changes)


@pytest.mark.parametrize(
    ("request_state", "expiring", "busy", "refused_because"),
    [
        (state(), False, False, None),
        (state(), True, False, "has expired"),
        (state(), False, True, "already decided"),
        (state(status="approved", approver="bob@example.com"), False, False, "by bob@example.com"),
        # Before set-up only the timing counts; the rules apply once permissions are recorded.
        (state(ready_for_decision=False, permissions=None), False, False, None),
    ],
)
def test_when_a_decision_may_be_taken(
    request_state: AccessState, expiring: bool, busy: bool, refused_because: str | None
) -> None:
    refusal = approval_refusal(
        request_state, "approve", "bob@example.com", expiring=expiring, busy=busy
    )
    if refused_because is None:
        assert refusal is None
    else:
        assert refusal is not None and refused_because in refusal


@pytest.mark.parametrize(
    ("request_state", "by", "refused_because"),
    [
        (state(), "alice@example.com", None),
        (state(resolved=None), " ALICE@example.com", None),  # the raw input, normalised
        (state(), "bob@example.com", "only the requester (alice@example.com) may"),
        (state(status="denied"), "alice@example.com", "already decided"),
    ],
)
def test_who_may_cancel(request_state: AccessState, by: str, refused_because: str | None) -> None:
    refusal = cancel_refusal(request_state, by, expiring=False, busy=False)
    if refused_because is None:
        assert refusal is None
    else:
        assert refusal is not None and refused_because in refusal


@pytest.mark.parametrize(
    ("request_state", "revoked_by", "refused_because"),
    [
        (state(status="escalated"), None, None),
        (state(status="approved"), None, None),
        (state(status="pending"), None, "nothing to revoke: the request is pending"),
        (state(status="escalated"), "bob@example.com", "already revoked by bob@example.com"),
    ],
)
def test_when_access_may_be_revoked(
    request_state: AccessState, revoked_by: str | None, refused_because: str | None
) -> None:
    refusal = revocation_refusal(request_state, "alice@example.com", revoked_by)
    if refused_because is None:
        assert refusal is None
    else:
        assert refusal is not None and refused_because in refusal


def test_a_long_list_of_approvers_is_cut_short_in_what_people_read() -> None:
    """A Slack channel's members all become approvers; a refusal, the Web UI and the Slack
    message name the first ten, not the whole channel."""
    many = tuple(f"person{i:03d}@example.com" for i in range(250))
    text = describe_approvers(Permissions(source="get_approvers", approvers=many))
    assert text == ", ".join([*many[:10], "240 more people", "admins"])
