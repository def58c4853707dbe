"""``on_change`` of test_slack_form_hooks.py's ``urgency`` field (``on_change = file(...)``).

High urgency skips the runbook (hidden, with a value saying why) and narrows the impact to
customer-facing; low urgency shows the form as configured.
"""

from reducers import FieldOption


def on_change_urgency(username, form):  # type: ignore[no-untyped-def]
    urgency = form.fields["urgency"].value
    high = getattr(urgency, "value", urgency) == "high"
    runbook = form.fields["runbook"]
    runbook.visible = not high
    runbook.value = f"skipped: urgent ({username})" if high else None
    impact = form.fields["impact"]
    impact.label = "Impact (urgent: customer facing only)" if high else None
    impact.current_allowed_values = (
        [FieldOption(value="customers", label="customers")]
        if high
        else list(impact.original_allowed_values)
    )
    return form
