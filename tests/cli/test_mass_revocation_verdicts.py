"""What ``jitflow revoke --all`` reports when a request does not record a revoke whose lease
the operation already released at its owner: a failure that says the lease is released, not a
bare refusal that would send an operator to remove it again by hand."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from jitflow.cli.mass_revocation import Candidate, MassRevocation, Revocable
from jitflow.contracts.access import AccessState, Revocation

pytestmark = pytest.mark.asyncio


class _RefusingRequests:
    """Signs, then refuses every revoke as a request's validator would."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def signed(self, *_: object, **__: object) -> Revocation:
        return Revocation(by="dave@example.com")

    async def revoke(self, *_: object) -> object:
        raise WorkflowUpdateFailedError(ApplicationError(self.reason))


def _revocable(released_at: float | None) -> Revocable:
    candidate = Candidate("request-1", "run-1", "alice@example.com", "admin_ro")
    return Revocable(
        candidate=candidate, state=AccessState.model_construct(), released_at=released_at
    )


def _operation(reason: str) -> MassRevocation:
    return MassRevocation(
        _RefusingRequests(reason),  # type: ignore[arg-type]
        by="dave@example.com",
        key=("fingerprint", lambda data: b""),
    )


async def test_a_refusal_after_the_owner_released_says_the_membership_is_gone() -> None:
    verdict = await _operation("the proof has expired").record_revoke(_revocable(released_at=1.0))
    assert verdict == (
        "failed",
        "its lease was released at its owner, but the request did not record the revoke: "
        "refused: the proof has expired",
    )


async def test_a_refusal_without_a_release_is_a_plain_refusal() -> None:
    verdict = await _operation("the proof has expired").record_revoke(_revocable(released_at=None))
    assert verdict == ("failed", "refused: the proof has expired")


async def test_revoked_meanwhile_by_someone_else_is_already_gone_either_way() -> None:
    for released_at in (1.0, None):
        verdict = await _operation("already revoked by bob@example.com").record_revoke(
            _revocable(released_at)
        )
        assert verdict == ("already_gone", "already revoked by bob@example.com")
