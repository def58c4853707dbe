"""Every client operation against the emulator: lookups, paging, escalation and de-escalation."""

from __future__ import annotations

import pytest
from aptible_test_support import add_membership, add_org, add_role, add_user, fresh_state

from activities.aptible.client import AptibleClient
from activities.aptible.credentials import AptibleCredentials
from activities.aptible.errors import AptibleInvalidInput, AptibleNotFound
from jitflow.testing.aptible_emulator import (
    EXAMPLE_ADMIN_ROLE_ID,
    EXAMPLE_BOT_EMAIL,
    EXAMPLE_DEVELOPERS_ROLE_ID,
    EXAMPLE_ORG_ID,
    EXAMPLE_READONLY_ROLE_ID,
    EXAMPLE_USER_IDS,
    RunningAptibleEmulator,
)

ALICE = EXAMPLE_USER_IDS["alice@example.com"]
BOB = EXAMPLE_USER_IDS["bob@example.com"]
MISSING = "00000000-0000-4000-8000-00000000dead"


async def test_find_user_by_email_reads_past_the_first_page(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    owner = await client.find_user_by_email(bot, EXAMPLE_ORG_ID.upper(), "  Owner@Example.COM ")
    assert owner is not None and owner.email == "owner@example.com"
    assert owner.id == EXAMPLE_USER_IDS["owner@example.com"]
    assert emulator.admin.count("GET /organizations/{org}/users") == 2  # 6 users, 5 per page
    alice = await client.find_user_by_email(bot, EXAMPLE_ORG_ID, "alice@example.com")
    assert alice is not None and alice.id == ALICE and alice.name == "Alice Example"
    assert await client.find_user_by_email(bot, EXAMPLE_ORG_ID, "nobody@example.com") is None
    with pytest.raises(AptibleInvalidInput, match="'not-an-email'"):
        await client.find_user_by_email(bot, EXAMPLE_ORG_ID, "not-an-email")
    with pytest.raises(AptibleInvalidInput, match="'org-1'"):
        await client.find_user_by_email(bot, "org-1", "alice@example.com")


async def test_get_user(client: AptibleClient, bot: AptibleCredentials) -> None:
    user = await client.get_user(bot, BOB.upper())
    assert user is not None and user.email == "bob@example.com"
    assert await client.get_user(bot, MISSING) is None


async def test_list_role_memberships_follows_every_page(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    members = await client.list_role_memberships(bot, EXAMPLE_DEVELOPERS_ROLE_ID)
    assert {m.user_email for m in members} == {
        "aptible-bot@example.com",
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
    }
    state = fresh_state()
    for n in range(12):
        add_user(state, f"dev{n}@example.com")
    state["tokens"] = emulator.admin.state()["tokens"]  # keep the client's token valid
    emulator.admin.load_state(state)
    emulator.admin.reset_counters()
    members = await client.list_role_memberships(bot, EXAMPLE_DEVELOPERS_ROLE_ID)
    assert len(members) == 17 and len({m.id for m in members}) == 17
    assert all(m.role_id == EXAMPLE_DEVELOPERS_ROLE_ID for m in members)
    assert emulator.admin.count("GET /roles/{role}/memberships") == 4  # 17 members, 5 per page
    admins = await client.list_role_memberships(bot, EXAMPLE_ADMIN_ROLE_ID)
    assert [(m.user_email, m.privileged) for m in admins] == [(EXAMPLE_BOT_EMAIL, True)]
    with pytest.raises(AptibleNotFound, match=MISSING):
        await client.list_role_memberships(bot, MISSING)


async def test_escalation_is_idempotent_and_marks_standing_access(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    grant = await client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID.upper(), ALICE.upper())
    assert not grant.preexisting and grant.api_calls == 2
    assert grant.role_id == EXAMPLE_ADMIN_ROLE_ID and grant.user_id == ALICE
    again = await client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, ALICE)
    assert again.preexisting and again.membership_id == grant.membership_id
    assert again.api_calls == 1
    assert emulator.admin.count("POST /roles/{role}/memberships") == 1
    assert emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID) == {
        EXAMPLE_BOT_EMAIL,
        "alice@example.com",
    }


async def test_deescalation_is_idempotent(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    grant = await client.ensure_membership(bot, EXAMPLE_READONLY_ROLE_ID, BOB)
    removal = await client.remove_membership(
        bot, EXAMPLE_READONLY_ROLE_ID, BOB, grant.membership_id
    )
    assert removal.removed and not removal.already_absent and removal.api_calls == 1
    assert "bob@example.com" not in emulator.admin.member_emails(EXAMPLE_READONLY_ROLE_ID)
    by_id = await client.remove_membership(bot, EXAMPLE_READONLY_ROLE_ID, BOB, grant.membership_id)
    assert by_id.already_absent and not by_id.removed and by_id.api_calls == 1
    by_listing = await client.remove_membership(bot, EXAMPLE_READONLY_ROLE_ID, BOB)
    assert by_listing.already_absent and by_listing.membership_id is None

    second = await client.ensure_membership(bot, EXAMPLE_READONLY_ROLE_ID, BOB)
    found = await client.remove_membership(bot, EXAMPLE_READONLY_ROLE_ID, BOB)
    assert found.removed and found.membership_id == second.membership_id
    assert found.api_calls == 2
    assert emulator.admin.member_emails(EXAMPLE_READONLY_ROLE_ID) == {EXAMPLE_BOT_EMAIL}


async def test_deescalation_never_removes_the_bot_itself(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    bot_id = EXAMPLE_USER_IDS[EXAMPLE_BOT_EMAIL]
    with pytest.raises(AptibleInvalidInput, match="bot user"):
        await client.remove_membership(bot, EXAMPLE_ADMIN_ROLE_ID, bot_id)
    assert EXAMPLE_BOT_EMAIL in emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)


async def test_still_in_organization_tells_when_the_last_role_evicted_the_user(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    state = fresh_state()
    loner = add_user(state, "loner@example.com", roles=())
    add_membership(state, EXAMPLE_READONLY_ROLE_ID, loner)
    emulator.admin.load_state(state)
    assert await client.find_user_by_email(bot, EXAMPLE_ORG_ID, "loner@example.com") is not None
    grant = await client.ensure_membership(bot, EXAMPLE_ADMIN_ROLE_ID, loner)
    kept = await client.remove_membership(bot, EXAMPLE_ADMIN_ROLE_ID, loner, grant.membership_id)
    assert kept.removed
    assert await client.still_in_organization(bot, EXAMPLE_ORG_ID, loner) is True
    evicted = await client.remove_membership(bot, EXAMPLE_READONLY_ROLE_ID, loner)
    assert evicted.removed
    assert await client.still_in_organization(bot, EXAMPLE_ORG_ID, loner) is False
    # The shared user listing forgot them: a new request does not "find" them.
    assert await client.find_user_by_email(bot, EXAMPLE_ORG_ID, "loner@example.com") is None


async def test_preflight_role(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    state = fresh_state()
    scim = add_role(state, EXAMPLE_ORG_ID, "SCIM Admins", scim_created=True)
    add_membership(state, scim, EXAMPLE_USER_IDS[EXAMPLE_BOT_EMAIL], privileged=True)
    unmanaged = add_role(state, EXAMPLE_ORG_ID, "Auditors")
    other_org = add_org(state, "Other Org")
    elsewhere = add_role(state, other_org, "Other Admins")
    add_membership(state, elsewhere, EXAMPLE_USER_IDS[EXAMPLE_BOT_EMAIL], privileged=True)
    emulator.admin.load_state(state)

    good = await client.preflight_role(bot, EXAMPLE_ORG_ID, EXAMPLE_ADMIN_ROLE_ID.upper())
    assert good.exists and good.in_organization and good.bot_may_manage
    assert good.type == "platform_user" and good.name == "Admin Role" and good.warnings == []

    flagged = await client.preflight_role(bot, EXAMPLE_ORG_ID, scim)
    assert flagged.scim_created and any("SCIM" in w for w in flagged.warnings)
    no_right = await client.preflight_role(bot, EXAMPLE_ORG_ID, unmanaged)
    assert no_right.bot_may_manage is False
    assert any("lacks Role Admin" in w and unmanaged in w for w in no_right.warnings)
    wrong_org = await client.preflight_role(bot, EXAMPLE_ORG_ID, elsewhere)
    assert wrong_org.exists and not wrong_org.in_organization
    assert any(other_org in w and EXAMPLE_ORG_ID in w for w in wrong_org.warnings)
    missing = await client.preflight_role(bot, EXAMPLE_ORG_ID, MISSING)
    assert not missing.exists and MISSING in missing.warnings[0]


async def test_account_owner_bot_may_manage_without_role_admin(
    emulator: RunningAptibleEmulator,
) -> None:
    async with AptibleClient(emulator.base_url) as api:
        owner = AptibleCredentials("owner@example.com", "owner-password")
        result = await api.preflight_role(owner, EXAMPLE_ORG_ID, EXAMPLE_ADMIN_ROLE_ID)
        assert result.bot_may_manage is True and result.warnings == []
        grant = await api.ensure_membership(owner, EXAMPLE_ADMIN_ROLE_ID, ALICE)
        assert not grant.preexisting
        assert (await api.login_check(owner)) == EXAMPLE_USER_IDS["owner@example.com"]
