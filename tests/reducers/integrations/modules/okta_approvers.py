# A Sym-style impl.py for jitflow's tests, in the shape of Sym's Okta SDK example: the members
# of an Okta group approve, and only they. Only its import lines name `reducers`.
from reducers.annotations import hook, reducer
from reducers.exceptions import SymException
from reducers.integrations import okta, slack
from reducers.notifications import Notification
from reducers.request_permission import PermissionLevel, RequestPermission
from reducers.templates import ApprovalTemplate
from reducers.user import user_ids


@reducer
def get_permissions(event):
    """The approvers group decides; if Okta cannot say who is in it, admins do."""
    try:
        approvers = okta.users_in_group(group_id=event.flow.vars["approvers_group"])
    except SymException:
        return RequestPermission(
            webapp_view=PermissionLevel.ADMIN, approve_deny=PermissionLevel.ADMIN
        )
    return RequestPermission(
        webapp_view=PermissionLevel.MEMBER,
        approve_deny=user_ids(approvers),
        allow_self_approval=False,
    )


@reducer
def get_request_notifications(event):
    """Engineering requests go to their own channel."""
    department = okta.get_user_info(event.user).get("profile", {}).get("department", "")
    channel = "#eng-access" if department == "engineering" else "#access-requests"
    return [Notification(destinations=[slack.channel(channel)])]


@hook
def on_approve(event):
    """Refuse approvals from anyone outside the approvers group."""
    if not okta.is_user_in_group(event.user, group_id=event.flow.vars["approvers_group"]):
        return ApprovalTemplate.ignore(message="Only the approvers group may approve.")
