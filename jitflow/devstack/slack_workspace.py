"""The Slack workspace ``jitflow dev`` emulates: the example people and the requests channel.

Each example user is in Slack under the email jitflow knows them by, so a click maps to the
right person (``users.info``) and the requester's direct messages find them
(``users.lookupByEmail``). The workspace is written to ``<state dir>/slack-state.json`` for
``jitflow emulator slack --state``; messages live in the emulator's memory only, so a restart
starts with an empty channel.
"""

from __future__ import annotations

from pathlib import Path

from jitflow.devstack.keys import EXAMPLE_PEOPLE
from jitflow.emulator.slack_state import SlackChannel, SlackState, SlackUser

TEAM_ID = "T0JITFLOW"
REQUEST_CHANNEL = "#access-requests"
REQUEST_CHANNEL_ID = "C0ACCESSREQ"


def slack_user_id(email: str) -> str:
    """``alice@example.com`` -> ``U0ALICE``: stable ids, easy to read in the recorded messages."""
    return "U0" + email.split("@", 1)[0].upper()


def workspace() -> SlackState:
    """The example people, all in ``#access-requests``."""
    users = [
        SlackUser(id=slack_user_id(email), name=email.split("@", 1)[0], email=email)
        for email in EXAMPLE_PEOPLE
    ]
    channel = SlackChannel(
        id=REQUEST_CHANNEL_ID,
        name=REQUEST_CHANNEL.removeprefix("#"),
        members=[user.id for user in users],
    )
    return SlackState(team_id=TEAM_ID, users=users, channels=[channel])


def write_workspace(path: Path) -> Path:
    """Write the workspace for the emulator's ``--state`` (its credentials are the emulator's
    own defaults, passed on its command line, so none is written here)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = workspace()
    path.write_text(
        state.model_dump_json(indent=2, exclude={"bot_token", "signing_secret"}), encoding="utf-8"
    )
    return path
