"""The example organization that ``examples/aptible`` configures and the emulator serves.

One definition for the dev stack, the demo, the benchmark and the tests: the org, the two roles
of Sym's page, the bot and the example users, as in ``examples/aptible/emulator-state.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The state shipped with ``examples/aptible`` (org, the two roles of Sym's page, the bot, users).
EXAMPLE_STATE_PATH = Path(__file__).resolve().parents[2] / "examples/aptible/emulator-state.json"

EXAMPLE_ORG_ID = "94a49e57-d046-4d9d-9dbf-f7711e337368"
EXAMPLE_ADMIN_ROLE_ID = "24463ef7-1d6e-402e-a365-69cb6db80c6e"
EXAMPLE_READONLY_ROLE_ID = "c7d5f21a-1d4e-4b39-9957-f8acabde2a3a"
EXAMPLE_DEVELOPERS_ROLE_ID = "de4e1000-0000-4000-8000-0000000000d1"
EXAMPLE_OWNERS_ROLE_ID = "0a4e4000-0000-4000-8000-0000000000a0"
EXAMPLE_BOT_EMAIL = "aptible-bot@example.com"
EXAMPLE_BOT_PASSWORD = "super-secret"
EXAMPLE_USER_IDS = {
    "aptible-bot@example.com": "b0710000-0000-4000-8000-000000000001",
    "alice@example.com": "a11ce000-0000-4000-8000-000000000002",
    "bob@example.com": "b0b00000-0000-4000-8000-000000000003",
    "carol@example.com": "ca401000-0000-4000-8000-000000000004",
    "dave@example.com": "da4e0000-0000-4000-8000-000000000005",
    "owner@example.com": "0a4e4000-0000-4000-8000-000000000006",
}


def example_state() -> dict[str, Any]:
    """A fresh copy of the example state document."""
    data: dict[str, Any] = json.loads(EXAMPLE_STATE_PATH.read_text(encoding="utf-8"))
    return data
