"""parse_duration / format_duration: Sym's duration strings."""

from __future__ import annotations

import pytest

from jitflow.config.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("1h", 3600), ("2d", 172800), ("1mo", 2592000), (" 8h ", 28800)],
)
def test_units_parse_to_seconds(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1", "1y", "1.5h", "-1h", "0s", "1 h", "1H", "one hour"])
def test_malformed_durations_name_the_value(text: str) -> None:
    with pytest.raises(ValueError, match="malformed duration") as error:
        parse_duration(text)
    assert repr(text) in str(error.value)


def test_format_uses_the_largest_exact_unit() -> None:
    assert [format_duration(s) for s in (30, 600, 3600, 90, 86400, 2592000)] == [
        "30s",
        "10m",
        "1h",
        "90s",
        "1d",
        "1mo",
    ]
    with pytest.raises(ValueError, match="positive"):
        format_duration(0)
