"""Hooks for test_access_hooks.py: on_escalate may call the grant off; after_* messages are kept."""

from reducers import ApprovalTemplate, hook


@hook
def on_escalate(event):  # type: ignore[no-untyped-def]
    if event.payload.fields.get("reason") == "change freeze":
        return ApprovalTemplate.deescalate(message="no grants during the change freeze")
    return None


@hook
def on_deescalate(event):  # type: ignore[no-untyped-def]
    return None


@hook
def after_escalate(event):  # type: ignore[no-untyped-def]
    return f"granted {event.payload.fields['target'].name}"


@hook
def after_approve(event):  # type: ignore[no-untyped-def]
    if event.payload.fields.get("reason") == "slow approval":
        import time

        time.sleep(3)  # long enough for the test to cancel the run meanwhile
    return None
