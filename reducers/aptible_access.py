"""Reducers and hooks of the example Aptible flow (``examples/aptible``). Copy it to start yours.

The flow's ``vars`` drive it:

- ``approvers``: comma-separated emails who may approve or deny (admins always may);
- ``on_call``: comma-separated emails whose requests are approved at once.
"""

from reducers import (
    ApprovalTemplate,
    Event,
    EventRequest,
    PermissionLevel,
    RequestPermission,
    hook,
    reducer,
)

#: A reason shorter than this is refused: approvers need to know why.
MIN_REASON_LENGTH = 10


def emails(value: str) -> list[str]:
    """``"a@x.com, b@x.com"`` -> ``["a@x.com", "b@x.com"]``."""
    return [email.strip().lower() for email in value.split(",") if email.strip()]


@reducer
def get_permissions(event: Event) -> RequestPermission:
    """The flow's approvers (and admins) decide; members may view; nobody approves their own."""
    approvers = emails(event.flow.vars.get("approvers", ""))
    return RequestPermission(
        webapp_view=PermissionLevel.MEMBER,
        approve_deny=approvers or PermissionLevel.ADMIN,
        allow_self_approval=False,
    )


@hook
def on_request(event: Event) -> EventRequest | None:
    """Refuse requests without a real reason; approve on-call engineers' requests at once."""
    reason = str(event.payload.fields.get("reason") or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        return ApprovalTemplate.ignore(
            message=f"Please give a reason of at least {MIN_REASON_LENGTH} characters."
        )
    if event.user.email in emails(event.flow.vars.get("on_call", "")):
        return ApprovalTemplate.approve(reason=f"Auto-approved, on call: {reason}")
    return None


@hook
def after_escalate(event: Event) -> str:
    """Record who got which role, and for how long (the message lands in the request's history)."""
    requester = event.get_actor("request") or event.user
    target = event.payload.fields["target"]
    minutes = int(event.payload.fields.get("duration", 0)) // 60
    return f"{requester.email} has {target.label or target.name} for {minutes} min"
