"""The cost budget of issue 4: N escalations and N de-escalations take one token request, at most two
Aptible calls per escalation and one per de-escalation on average (the emulator's counters)."""

from __future__ import annotations

import time

import pytest
from aptible_test_support import add_user, fresh_state

from activities.aptible.client import AptibleClient
from activities.aptible.credentials import AptibleCredentials
from jitflow.testing.aptible_emulator import EXAMPLE_ADMIN_ROLE_ID, RunningAptibleEmulator

N = 25


@pytest.mark.parametrize(
    ("per_page", "pattern"),
    [
        (100, "all escalations, then all de-escalations"),
        (5, "each de-escalation right after its escalation"),
    ],
)
async def test_n_escalations_and_deescalations_stay_within_budget(
    client: AptibleClient,
    bot: AptibleCredentials,
    emulator: RunningAptibleEmulator,
    per_page: int,
    pattern: str,
) -> None:
    state = fresh_state()
    users = [add_user(state, f"budget{n}@example.com") for n in range(N)]
    emulator.admin.load_state(state)
    emulator.admin.update_settings(per_page=per_page)
    emulator.admin.reset_counters()
    started = time.perf_counter()

    escalation_calls = deescalation_calls = 0
    if pattern.startswith("all"):
        grants = [await client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, u) for u in users]
        after_escalations = emulator.admin.total()
        removals = [
            await client.remove_membership(bot, g.role_id, g.user_id, g.membership_id)
            for g in grants
        ]
        escalation_calls = after_escalations - 1  # minus the token request
        deescalation_calls = emulator.admin.total() - after_escalations
    else:
        grants, removals = [], []
        for user in users:
            before = emulator.admin.total()
            grant = await client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, user)
            middle = emulator.admin.total()
            removal = await client.remove_membership(bot, grant.role_id, user, grant.membership_id)
            escalation_calls += middle - before
            deescalation_calls += emulator.admin.total() - middle
            grants.append(grant)
            removals.append(removal)
        escalation_calls -= 1  # the single token request happened inside the first escalation

    elapsed = time.perf_counter() - started
    counts = emulator.admin.counters()
    per_escalation = escalation_calls / N
    per_deescalation = deescalation_calls / N
    print(
        f"\n[{pattern}, per_page={per_page}] {N} escalations + {N} de-escalations in "
        f"{elapsed:.2f}s: token requests={counts['POST /tokens']}, "
        f"calls per escalation={per_escalation:.2f}, per de-escalation={per_deescalation:.2f}; "
        f"counters={counts}"
    )
    assert counts["POST /tokens"] == 1
    assert per_escalation <= 2.0 and per_deescalation <= 1.0
    assert sum(g.api_calls for g in grants) == escalation_calls
    assert sum(r.api_calls for r in removals) == deescalation_calls
    assert all(r.removed for r in removals)
    assert len(emulator.admin.memberships(EXAMPLE_ADMIN_ROLE_ID)) == 1  # the bot alone again
