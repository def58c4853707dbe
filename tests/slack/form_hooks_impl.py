"""The flow code of test_slack_form_hooks.py: what each person meets when opening the form.

alice sees the form; bob is turned away by ``on_prompt``; carol's ``on_prompt`` raises with a
token and a webhook URL in its message; dave's never returns in time. ``ticket`` takes its
choices from a ``@prefetch`` function, ``broken`` from one that raises, ``odd`` from one that
returns a choice whose label is not text; ``slow`` and ``late`` hang. ``on_change_surprise``
raises (``on_change_urgency`` lives in its own file, as Sym has it).

What hangs waits until the test creates ``release`` beside this file (at most 10 s), so that a
test can hold calls in flight as long as it needs and then let them end.
"""

import time
from pathlib import Path

from reducers import ApprovalTemplate, FieldOption, hook, prefetch

#: ``after_prompt`` writes here who saw the form.
SHOWN = Path(__file__).with_name("form_hooks_shown.txt")
RELEASE = Path(__file__).with_name("release")


def _hang() -> None:
    """Block as hung user code does, until the test releases it."""
    end = time.monotonic() + 10
    while not RELEASE.exists() and time.monotonic() < end:
        time.sleep(0.02)


@hook
def on_prompt(event):  # type: ignore[no-untyped-def]
    who = event.user.email
    if who.startswith("bob@"):
        return ApprovalTemplate.ignore(message="Bob, use the break-glass flow instead.")
    if who.startswith("carol@"):
        raise RuntimeError(
            "lookup failed: token=xoxb-1234567890-abcdefghijkl at "
            "https://hooks.example.com/services/T000/B000/sekrit"
        )
    if who.startswith("dave@"):
        _hang()
    return None


@hook
def after_prompt(event):  # type: ignore[no-untyped-def]
    with SHOWN.open("a") as shown:
        shown.write(f"{event.user.email} {event.channel.identifier}\n")
    return "shown"


@prefetch(field_name="ticket")
def open_tickets(event):  # type: ignore[no-untyped-def]
    return [
        FieldOption(value="OPS-1", label="OPS-1 database failover"),
        FieldOption(value="OPS-2", label="OPS-2 cache warm-up"),
        FieldOption(value="SEC-7", label="SEC-7 key rotation"),
    ]


@prefetch(field_name="broken")
def broken_choices(event):  # type: ignore[no-untyped-def]
    raise ValueError("password=hunter2 rejected")


def on_change_surprise(username, form):  # type: ignore[no-untyped-def]
    raise KeyError("api_key=AKIAABCDEFGHIJKLMNOP")


@prefetch(field_name="odd")
def odd_choices(event):  # type: ignore[no-untyped-def]
    return [FieldOption.model_construct(value="X-1", label=12)]


@prefetch(field_name="slow")
def slow_choices(event):  # type: ignore[no-untyped-def]
    _hang()
    return [FieldOption(value="S-1", label="S-1")]


@prefetch(field_name="late")
def late_choices(event):  # type: ignore[no-untyped-def]
    _hang()
    return [FieldOption(value="L-1", label="L-1")]
