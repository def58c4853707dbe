"""Sym's duration strings (``30s``, ``10m``, ``1h``, ``2d``, ``1mo``) as seconds.

Pure functions with no I/O: workflow code parses a requested duration with the same rules the
loader used to check the flow's ``allowed_values``.
"""

from __future__ import annotations

import re

#: Seconds per unit suffix. ``mo`` is 30 days, as in Sym.
UNIT_SECONDS: dict[str, int] = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "mo": 30 * 86400,
}

_DURATION = re.compile(r"(\d+)(mo|s|m|h|d)")


def parse_duration(text: str) -> int:
    """Return the number of seconds ``text`` (``"30s"``, ``"1mo"``...) stands for.

    Raises ``ValueError`` naming the value when it is not a positive whole number followed by
    one of ``s``, ``m``, ``h``, ``d``, ``mo``.
    """
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"malformed duration {text!r}: expected a whole number followed by one of "
            f"{', '.join(UNIT_SECONDS)} (for example 30s, 10m, 1h, 2d, 1mo)"
        )
    amount = int(match.group(1))
    if amount == 0:
        raise ValueError(f"malformed duration {text!r}: a duration must be longer than zero")
    return amount * UNIT_SECONDS[match.group(2)]


def format_duration(seconds: int) -> str:
    """Render seconds in the largest unit that divides them exactly (``3600`` -> ``"1h"``)."""
    if seconds <= 0:
        raise ValueError(f"cannot format duration {seconds!r}: it must be positive")
    for unit, size in sorted(UNIT_SECONDS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable: every whole number of seconds divides by 1")
