# A Sym-style impl.py for jitflow's tests, in the shape of Sym's AWS Lambda SDK example: a
# Lambda function decides each request, and hears about it afterwards. Only its import lines
# name `reducers`.
from reducers.annotations import hook
from reducers.exceptions import SymException
from reducers.integrations import aws_lambda
from reducers.templates import ApprovalTemplate


@hook
def on_request(event):
    """Ask the flow's Lambda; it answers {"decision": "approve"|"deny", "why": ...}."""
    payload = {"email": event.user.email, "reason": event.payload.fields.get("reason", "")}
    try:
        answer = aws_lambda.invoke(event.flow.vars["decider_arn"], payload)
    except SymException as error:
        print(f"the decider failed: {error}")
        return None
    if answer.get("decision") == "approve":
        return ApprovalTemplate.approve(reason=answer.get("why", "approved by the decider"))
    return ApprovalTemplate.deny(reason=answer.get("why", "denied by the decider"))


@hook
def after_request(event):
    """Tell the Lambda (without waiting for it) that a request was made."""
    queued = aws_lambda.invoke_async(
        event.flow.vars["decider_arn"], {"event": "after_request", "email": event.user.email}
    )
    return "decider notified" if queued else "decider not notified"
