"""Hooks that take their time (or hang), for the tests that show removals never wait for them."""

import time

from reducers import hook


@hook
def after_escalate(event):  # type: ignore[no-untyped-def]
    time.sleep(float(event.flow.vars.get("after_escalate_sleep", "0")))
    return "after_escalate done"


@hook
def on_deescalate(event):  # type: ignore[no-untyped-def]
    time.sleep(float(event.flow.vars.get("on_deescalate_sleep", "0")))


@hook
def on_approve(event):  # type: ignore[no-untyped-def]
    return None
