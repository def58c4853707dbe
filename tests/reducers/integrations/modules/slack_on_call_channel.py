# A Sym-style impl.py for jitflow's tests: whoever is in the on-call Slack channel is approved at
# once; if Slack cannot say, approvers decide as usual. After the request, the team is told in
# #access-requests, with no fallback. Only its import lines name `reducers`.
import logging

from reducers.annotations import hook
from reducers.exceptions import SymException
from reducers.integrations import slack
from reducers.templates import ApprovalTemplate

log = logging.getLogger("impl")


@hook
def on_request(event):
    """Approve at once a requester who is in the on-call channel."""
    try:
        on_call = event.user in slack.users_in_channel(event.flow.vars["on_call_channel"])
    except SymException as error:
        log.warning("Slack unavailable (%s); normal approval", error.error_code)
        return None
    if on_call:
        return ApprovalTemplate.approve(reason="in the on-call channel")
    return None


@hook
def after_request(event):
    """Tell the team who asked for what; if Slack fails, so does this hook (no fallback)."""
    target = event.payload.fields["target"]
    slack.send_message(
        slack.channel("#access-requests"),
        f"{event.user.email} asked for {target.label}: {event.payload.fields['reason']}",
    )
    return "the team was told"
