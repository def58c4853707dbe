"""The Slack half of ``jitflow dev --demo``: what Slack showed, and a click played in it.

The demo reads the Slack emulator the way a person reads Slack (the request's message in
``#access-requests``, its buttons, the message as each decision updates it, the requester's direct
messages, the answer the front door gave the clicker) and plays the approver's click, which the
emulator signs with the workspace's signing secret and POSTs to the front door, as Slack would.
Each helper waits for what it reads, since deliveries run beside the request, never in its way.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable
from typing import TypeVar

from jitflow.emulator.slack_admin_client import SlackEmulatorAdmin
from jitflow.emulator.slack_state import MessageVersion, RecordedMessage

T = TypeVar("T")


class SlackStepMissing(RuntimeError):
    """What the demo waited for did not show in the Slack emulator; the message says what."""


def readable(text: str) -> str:
    """Slack mrkdwn as a terminal shows it: no ``*bold*`` or backticks, entities decoded, one
    line."""
    plain = html.unescape(text.replace("*", "").replace("`", ""))
    return " / ".join(line.strip() for line in plain.splitlines() if line.strip())


def shown(version: MessageVersion) -> str:
    """A message version in one line: its sections' text, then its buttons' labels."""
    parts: list[str] = []
    buttons: list[str] = []
    for block in version.blocks:
        text = block.get("text")
        if block.get("type") == "section" and isinstance(text, dict):
            parts.append(readable(str(text.get("text", ""))))
        for element in block.get("elements", []):
            if element.get("type") == "button":
                buttons.append(f"[{element.get('text', {}).get('text', '?')}]")
    line = " / ".join(parts) or readable(version.text)
    return f"{line}  {' '.join(buttons)}".rstrip()


async def wait_for(
    read: Callable[[], T | None], what: str, timeout: float = 30.0, poll: float = 0.1
) -> T:
    """Poll ``read`` (a blocking call, run in a thread) until it returns something."""
    deadline = time.monotonic() + timeout
    while True:
        found = await asyncio.to_thread(read)
        if found:
            return found
        if time.monotonic() > deadline:
            raise SlackStepMissing(f"after {timeout:.0f}s, still no {what} in the Slack emulator")
        await asyncio.sleep(poll)


async def request_message(
    slack: SlackEmulatorAdmin, workflow_id: str, channel: str
) -> RecordedMessage:
    return await wait_for(
        lambda: slack.request_message(workflow_id, channel), f"message for {workflow_id}"
    )


async def updated(
    slack: SlackEmulatorAdmin, workflow_id: str, channel: str, contains: str
) -> RecordedMessage:
    """The request's message once its current version mentions ``contains``."""

    def read() -> RecordedMessage | None:
        message = slack.request_message(workflow_id, channel)
        return message if message and contains in shown(message.current()) else None

    return await wait_for(read, f"update of {workflow_id}'s message saying {contains!r}")


async def direct_message(slack: SlackEmulatorAdmin, email: str, contains: str) -> RecordedMessage:
    """The bot's direct message to ``email`` that mentions ``contains``."""

    def read() -> RecordedMessage | None:
        found = [m for m in slack.direct_messages(email) if contains in m.text]
        return found[-1] if found else None

    return await wait_for(read, f"direct message to {email} saying {contains!r}")


async def ephemeral(slack: SlackEmulatorAdmin, email: str, seen: int) -> RecordedMessage:
    """The first ephemeral message to ``email`` after the ``seen`` it had already."""

    def read() -> RecordedMessage | None:
        found = slack.ephemerals(email)
        return found[seen] if len(found) > seen else None

    return await wait_for(read, f"answer to {email}'s click")
