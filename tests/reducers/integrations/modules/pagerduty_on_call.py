# A Sym impl.py, written for jitflow's tests in the shape of Sym's PagerDuty example: on-call
# engineers are approved at once; if PagerDuty fails, the hook reports it in Slack and falls
# back. Ported by replacing `sym.sdk` with `reducers` in its import lines, nothing else.
from reducers.annotations import hook, reducer
from reducers.exceptions import SymException
from reducers.integrations import pagerduty, slack
from reducers.notifications import Notification
from reducers.request_permission import PermissionLevel, RequestPermission
from reducers.templates import ApprovalTemplate


@reducer
def get_permissions(event):
    """Members approve; admins alone see requests in the web app."""
    return RequestPermission(
        webapp_view=PermissionLevel.ADMIN,
        approve_deny=PermissionLevel.MEMBER,
        allow_self_approval=False,
    )


@reducer
def get_request_notifications(event):
    return [Notification(destinations=[slack.channel("#access-requests")])]


@hook
def on_request(event):
    """Approve the request at once when the requester is on call."""
    try:
        if pagerduty.is_on_call(event.user, schedule_name=event.flow.vars["schedule"]):
            reason = event.payload.fields["reason"]
            return ApprovalTemplate.approve(reason=f"On call, approved at once: {reason}")
    except SymException as error:
        # PagerDuty failed (a bad token, an outage): say so, and let approvers decide.
        slack.send_message(
            slack.channel("#access-requests"),
            f"Could not ask PagerDuty who is on call; approvers decide.\n{error}",
        )
