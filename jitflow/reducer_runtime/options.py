"""A flow's hook timeout and retry budget, from its ``vars``. Pure: workflow code may import it.

Hooks may call out (an HTTP notification, a lookup), so every reducer activity gets a
start-to-close timeout and a maximum number of attempts; a flow sets them with
``vars = { hook_timeout = "45s", hook_max_attempts = "5" }``.
"""

from __future__ import annotations

import re

from jitflow.config.models import Flow

DEFAULT_HOOK_TIMEOUT_SECONDS = 30
DEFAULT_HOOK_MAX_ATTEMPTS = 3
MAX_HOOK_TIMEOUT_SECONDS = 3600
MAX_HOOK_ATTEMPTS = 20

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def hook_options(flow: Flow) -> tuple[int, int]:
    """``(timeout_seconds, maximum_attempts)`` for the reducer activities of ``flow``.

    Raises ``ValueError`` naming the flow, the var and the bad value.
    """
    timeout = DEFAULT_HOOK_TIMEOUT_SECONDS
    raw_timeout = flow.vars.get("hook_timeout")
    if raw_timeout is not None:
        match = _DURATION.match(raw_timeout)
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"] if match else 0
        if not 1 <= seconds <= MAX_HOOK_TIMEOUT_SECONDS:
            raise ValueError(
                f"sym_flow.{flow.key}: vars.hook_timeout = {raw_timeout!r} is not a duration "
                f'between 1s and {MAX_HOOK_TIMEOUT_SECONDS}s (write e.g. "30", "45s" or "2m")'
            )
        timeout = seconds
    attempts = DEFAULT_HOOK_MAX_ATTEMPTS
    raw_attempts = flow.vars.get("hook_max_attempts")
    if raw_attempts is not None:
        text = raw_attempts.strip()
        if not text.isdigit() or not 1 <= int(text) <= MAX_HOOK_ATTEMPTS:
            raise ValueError(
                f"sym_flow.{flow.key}: vars.hook_max_attempts = {raw_attempts!r} is not a whole "
                f"number between 1 and {MAX_HOOK_ATTEMPTS}"
            )
        attempts = int(text)
    return timeout, attempts
