"""Discovery by email shares one listing of the organization's users (issue 16).

With 2 users a page, each new requester's discovery used to page through the organization on
its own. Now concurrent discoveries wait for one listing and later ones within the window reuse
it; a miss is believed only from a listing made after the lookup began, so a user invited a
moment ago is still found. Counted with the emulator's own counters.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from aptible_test_support import FAST_RETRIES, add_user, fresh_state

from activities.aptible.client import AptibleClient
from activities.aptible.credentials import AptibleCredentials
from jitflow.testing.aptible_emulator import EXAMPLE_ORG_ID, RunningAptibleEmulator

LIST_USERS = "GET /organizations/{org}/users"
NEW_REQUESTERS = 40
PER_PAGE = 2


def _organization_with_new_requesters(
    emulator: RunningAptibleEmulator,
) -> tuple[dict[str, Any], int]:
    state = fresh_state()
    for n in range(NEW_REQUESTERS):
        add_user(state, f"new{n:02}@example.com")
    emulator.admin.load_state(state)
    emulator.admin.update_settings(per_page=PER_PAGE)
    emulator.admin.reset_counters()
    pages = math.ceil(len(state["users"]) / PER_PAGE)
    return state, pages


async def test_concurrent_and_successive_discoveries_share_one_listing(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    state, pages = _organization_with_new_requesters(emulator)
    emails = [f"new{n:02}@example.com" for n in range(NEW_REQUESTERS)]
    found = await asyncio.gather(
        *(client.find_user_by_email(bot, EXAMPLE_ORG_ID, email) for email in emails)
    )
    ids = {user["email"]: user["id"] for user in state["users"]}
    assert [user.id if user else None for user in found] == [ids[email] for email in emails]
    # One listing for all 40: its pages, not 40 walks through the organization.
    assert emulator.admin.count(LIST_USERS) == pages
    print(f"\n{NEW_REQUESTERS} discoveries: {pages / NEW_REQUESTERS:.2f} calls per requester")

    # Within the window, later discoveries read the same listing.
    again = await client.find_user_by_email(bot, EXAMPLE_ORG_ID, " NEW07@example.com ")
    assert again is not None and again.id == ids["new07@example.com"]
    assert emulator.admin.count(LIST_USERS) == pages
    assert client.users.listings == 1


async def test_a_miss_is_believed_only_from_a_listing_made_after_the_lookup(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    state, pages = _organization_with_new_requesters(emulator)
    assert await client.find_user_by_email(bot, EXAMPLE_ORG_ID, "new00@example.com") is not None
    assert emulator.admin.count(LIST_USERS) == pages

    # Invited after the listing: the cached listing misses, a fresh one finds them.
    invited = add_user(state, "invited@example.com")
    emulator.admin.load_state(state)
    await client.login_check(bot, fresh=True)  # loading a state drops the emulator's tokens
    emulator.admin.reset_counters()
    late = await asyncio.gather(
        client.find_user_by_email(bot, EXAMPLE_ORG_ID, "invited@example.com"),
        client.find_user_by_email(bot, EXAMPLE_ORG_ID, "invited@example.com"),
    )
    assert [user.id if user else None for user in late] == [invited, invited]
    pages_now = math.ceil(len(state["users"]) / PER_PAGE)
    assert emulator.admin.count(LIST_USERS) == pages_now  # the two misses shared the refresh

    # Nobody by that email: one fresh listing says so, and nothing is cached as a hit.
    emulator.admin.reset_counters()
    assert await client.find_user_by_email(bot, EXAMPLE_ORG_ID, "nobody@example.com") is None
    assert emulator.admin.count(LIST_USERS) == pages_now


async def test_the_window_ends_and_a_failed_listing_is_not_kept(
    emulator: RunningAptibleEmulator, bot: AptibleCredentials
) -> None:
    _, pages = _organization_with_new_requesters(emulator)
    async with AptibleClient(
        emulator.base_url, timeout=2.0, retry_delays=FAST_RETRIES, users_ttl=0.2
    ) as client:
        assert await client.find_user_by_email(bot, EXAMPLE_ORG_ID, "new01@example.com")
        await asyncio.sleep(0.3)
        assert await client.find_user_by_email(bot, EXAMPLE_ORG_ID, "new02@example.com")
        assert emulator.admin.count(LIST_USERS) == 2 * pages

        await asyncio.sleep(0.3)
        emulator.admin.fail_next(LIST_USERS, "error", count=10, status=500)
        failures = await asyncio.gather(
            client.find_user_by_email(bot, EXAMPLE_ORG_ID, "new03@example.com"),
            client.find_user_by_email(bot, EXAMPLE_ORG_ID, "new04@example.com"),
            return_exceptions=True,
        )
        assert all(isinstance(failure, Exception) for failure in failures)
        emulator.admin.clear_faults()
        # The next discovery lists again instead of reusing the failure.
        assert await client.find_user_by_email(bot, EXAMPLE_ORG_ID, "new03@example.com")
