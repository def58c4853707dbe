# A Sym-style impl.py for jitflow's tests: on-call auto-approval whose fallback needs nothing
# but the standard library. Only its import lines name `reducers` (Sym's: `sym.sdk`).
import logging

from reducers.annotations import hook
from reducers.exceptions import SymException
from reducers.integrations import pagerduty
from reducers.templates import ApprovalTemplate

log = logging.getLogger("impl")


@hook
def on_request(event):
    """On-call engineers are approved at once; anyone else, or any PagerDuty failure, goes to
    the approvers as usual."""
    try:
        on_call = pagerduty.is_on_call(
            event.user, escalation_policy_name=event.flow.vars["escalation_policy"]
        )
    except SymException as error:
        log.warning("PagerDuty unavailable (%s); normal approval", error.error_code)
        return None
    if on_call:
        return ApprovalTemplate.approve(reason="on call")
    return None
