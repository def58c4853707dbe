"""What reaches history from user code's exceptions: no credential, no URL path, bounded."""

from __future__ import annotations

import pytest

from jitflow.scrub import MAX_MESSAGE, scrub


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
