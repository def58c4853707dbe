"""What reaches history from user code's exceptions: no credential, no URL path, bounded."""

from __future__ import annotations

import pytest

from jitflow.scrub import MAX_MESSAGE, scrub, scrubbed_traceback


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (
            "POST https://hooks.slack.com/services/T0/B0/XyZsecret?x=1 failed",
            "https://hooks.slack.com/…",
            "XyZsecret",
        ),
        ("token=abc123 and password: hunter2", "token=***", "hunter2"),
        (
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
            "Authorization",
            "eyJhbGci",
        ),
        ("AKIAABCDEFGHIJKLMNOP leaked", "leaked", "AKIAABCDEFGHIJKLMNOP"),
        ("slack xoxb-1234-5678-abcdef", "slack", "xoxb-1234"),
        ("opaque QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk end", "opaque", "QUJDREVGR0hJ"),
        (
            "user 00000000-0000-0000-0000-000000000005 unknown",
            "00000000-0000-0000-0000-000000000005",
            "***",
        ),
        ("https://user:pw@example.com/x", "https://example.com/…", "pw@"),
    ],
)
def test_scrub_keeps_what_helps_and_drops_what_leaks(text: str, kept: str, gone: str) -> None:
    cleaned = scrub(text)
    assert kept in cleaned
    assert gone not in cleaned


def test_scrub_is_one_bounded_line() -> None:
    cleaned = scrub("a\nb " + "word " * 500)
    assert "\n" not in cleaned and len(cleaned) == MAX_MESSAGE


def test_a_traceback_is_scrubbed_line_by_line_and_keeps_its_shape() -> None:
    def user_code() -> None:
        token = "xoxb-1234567890-abcdefghijkl"  # a source line on the traceback holds it too
        raise RuntimeError(f"lookup failed: token={token} at https://hooks.example.com/s/sekrit")

    try:
        try:
            user_code()
        except RuntimeError as error:
            raise ValueError("the hook failed") from error
    except ValueError as error:
        text = scrubbed_traceback(error)
    assert "xoxb-1234567890" not in text and "sekrit" not in text
    lines = text.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert any(line.startswith("  File ") and "user_code" in line for line in lines)
    assert "RuntimeError: lookup failed: token=*** at https://hooks.example.com/…" in lines
    assert lines[-1] == "ValueError: the hook failed"
