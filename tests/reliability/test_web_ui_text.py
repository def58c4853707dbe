"""What the Web UI shows of a request: inputs as text, and the true end of a revoked grant.

Pure functions of ``workflows.request_view``, so plain (not asyncio) tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from access_stack import resolved_request

from jitflow.contracts.access import AccessRequestInput, AccessState
from workflows.request_view import details, text


def test_input_is_shown_as_text_in_the_web_ui() -> None:
    shown = text("[click me](https://evil.example/x?token=1) ![i](y) **bold**\n# heading")
    assert "](" not in shown.replace("\\](", "").replace("\\]\\(", "")
    assert "\n" not in shown and shown.startswith("\\[click me\\]\\(")


def test_a_revoked_requests_details_say_when_access_was_removed() -> None:

    ends = datetime(2030, 1, 1, tzinfo=UTC)
    resolved = resolved_request(duration_seconds=3600)
    state = AccessState(
        workflow_id="w",
        input=AccessRequestInput(),
        resolved=resolved,
        status="deescalated",
        expires_at=ends,
        deescalated_at=ends - timedelta(minutes=50),
    )
    shown = details(state, 3600, "deescalated")
    assert "Access removed at 2029-12-31T23:10:00+00:00" in shown
    assert "Access ends at" not in shown
