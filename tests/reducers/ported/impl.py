# A Sym impl.py, written for jitflow's tests in the shape of Sym's public examples.
# Ported to jitflow by replacing `sym.sdk` with `reducers` in its import lines, nothing else.
from reducers.annotations import hook, reducer
from reducers.integrations import slack
from reducers.notifications import Notification
from reducers.request_permission import PermissionLevel, RequestPermission
from reducers.templates import ApprovalTemplate, get_step_output

BREAK_GLASS_PREFIX = "break-glass:"


@reducer
def get_permissions(event):
    """Approvers listed in the flow's vars may approve or deny; members may view."""
    approvers = [email.strip() for email in event.flow.vars["approvers"].split(",")]
    return RequestPermission(
        webapp_view=PermissionLevel.MEMBER,
        approve_deny=approvers,
        allow_self_approval=False,
    )


@reducer
def get_request_notifications(event):
    """Announce requests in the channel the flow names."""
    return [Notification(destinations=[slack.channel(event.flow.vars["request_channel"])])]


@hook
def on_request(event):
    """Break-glass requests are approved at once; the reason says why."""
    reason = event.payload.fields.get("reason", "")
    if reason.lower().startswith(BREAK_GLASS_PREFIX):
        return ApprovalTemplate.approve(reason=f"Auto-approved break-glass: {reason}")


@hook
def on_deny(event):
    """Only approvers or the requester may deny."""
    requester = event.get_actor("request")
    approvers = event.flow.vars["approvers"].split(",")
    if not (requester == event.user or event.user.username in approvers):
        return ApprovalTemplate.ignore(message="You are not authorized to deny this request.")


@hook
def after_escalate(event):
    """Record who was escalated to what, with the strategy's output."""
    output = get_step_output()
    target = event.payload.fields["target"]
    message = f"{event.get_actor('request').email} escalated to {target.label}: {output}"
    print(message)
    return message
