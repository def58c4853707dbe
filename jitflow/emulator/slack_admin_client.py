"""Client of the Slack emulator's admin routes (``/_emulator/...``): what the bot sent, and clicks.

Used by the dev stack's demo and tests to read back exactly what Slack would have shown (the
request's message, its updates, the requester's direct messages, ephemeral answers) and to play a
person clicking a button, which the emulator signs with the workspace's signing secret and POSTs
to the front door. Nothing here needs the bot token: the admin routes are the emulator's own.
"""

from __future__ import annotations

from typing import Any

import httpx

from jitflow.emulator.slack_state import RecordedMessage, SlackChannel, SlackUser
from jitflow.slack.messages import parse_button_value


class SlackEmulatorAdminError(RuntimeError):
    """The emulator refused an admin request; the message is the emulator's."""


class SlackEmulatorAdmin:
    """Synchronous client of one Slack emulator's admin routes."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=f"{base_url}/_emulator", timeout=15.0)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        response = self._http.request(method, path, json=body, params=params or None)
        if response.status_code >= 400:
            raise SlackEmulatorAdminError(f"{method} {path}: {response.text}")
        return response.json() if response.content else None

    def messages(self, channel: str | None = None) -> list[RecordedMessage]:
        """Every message recorded (in ``channel`` only, when given), oldest first."""
        params = {"channel": channel} if channel else {}
        body = self._call("GET", "/messages", **params)
        return [RecordedMessage.model_validate(m) for m in body["messages"]]

    def users(self) -> list[SlackUser]:
        return [SlackUser.model_validate(u) for u in self._call("GET", "/state")["users"]]

    def channels(self) -> list[SlackChannel]:
        return [SlackChannel.model_validate(c) for c in self._call("GET", "/state")["channels"]]

    def user_id(self, email: str) -> str | None:
        wanted = email.strip().lower()
        return next((u.id for u in self.users() if u.email.lower() == wanted), None)

    def request_message(self, workflow_id: str, channel: str) -> RecordedMessage | None:
        """The message announcing request ``workflow_id`` in ``channel`` (its buttons name it)."""
        for message in self.messages(channel):
            if message.ephemeral_to is None and workflow_id in _named_requests(message):
                return message
        return None

    def direct_messages(self, email: str) -> list[RecordedMessage]:
        """What the bot sent ``email`` in their direct conversation with it."""
        user_id = self.user_id(email)
        ims = {c.id for c in self.channels() if c.is_im and c.members == [user_id]}
        return [m for m in self.messages() if m.channel in ims]

    def ephemerals(self, email: str) -> list[RecordedMessage]:
        """Ephemeral messages shown to ``email`` only (the front door's answers to clicks)."""
        user_id = self.user_id(email)
        return [m for m in self.messages() if user_id and m.ephemeral_to == user_id]

    def click(self, channel: str, ts: str, action: str, user: str) -> dict[str, Any]:
        """Play ``user`` (an email or Slack id) clicking ``action`` (``approve``, ``Deny``...)
        on message ``ts``; the front door's status and body come back."""
        body = {"channel": channel, "ts": ts, "action": action, "user": user}
        answer: dict[str, Any] = self._call("POST", "/click", body)
        return answer


def _named_requests(message: RecordedMessage) -> set[str]:
    """The workflow ids the message's buttons (in any version) or context name."""
    found: set[str] = set()
    versions = [(message.text, message.blocks)] + [(u.text, u.blocks) for u in message.updates]
    for _, blocks in versions:
        for block in blocks:
            for element in block.get("elements", []):
                target = parse_button_value(str(element.get("value", "")))
                if target is not None:
                    found.add(target.workflow_id)
                text = str(element.get("text", "")) if element.get("type") == "mrkdwn" else ""
                if text.startswith("Request `"):
                    found.add(text.split("`", 2)[1])
    return found
