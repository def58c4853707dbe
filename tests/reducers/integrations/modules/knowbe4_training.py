# A Sym-style impl.py for jitflow's tests, in the shape of Sym's KnowBe4 example: whoever
# passed the required training is approved at once, whoever did not is refused, and a KnowBe4
# failure leaves the decision to the approvers. Only its import lines name `reducers`.
from reducers.annotations import hook
from reducers.exceptions import SymException
from reducers.integrations import knowbe4
from reducers.templates import ApprovalTemplate

STORE_PURCHASE_ID = 209465
CAMPAIGN_ID = 100345


@hook
def on_request(event):
    try:
        enrollments = knowbe4.get_training_enrollments_for_user(
            event.user, store_purchase_id=STORE_PURCHASE_ID, campaign_id=CAMPAIGN_ID
        )
    except SymException as error:
        print(f"KnowBe4 could not be asked ({error.error_code}); approvers decide")
        return None
    if any(enrollment["status"] == "Passed" for enrollment in enrollments):
        return ApprovalTemplate.approve(reason="security training passed")
    return ApprovalTemplate.deny(reason="Finish the security training before asking for access.")
