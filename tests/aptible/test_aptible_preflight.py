"""``preflight_targets``: what ``jitflow validate --online`` and the worker warn about."""

from __future__ import annotations

from aptible_test_support import add_membership, add_role, fresh_state

from activities.aptible.client import AptibleClient
from activities.aptible.credentials import AptibleCredentials
from activities.aptible.preflight import preflight_targets
from jitflow.config.models import (
    AptibleIntegration,
    AptibleRoleTarget,
    AptibleStrategy,
    JitflowConfig,
    SecretRef,
)
from jitflow.testing.aptible_emulator import (
    EXAMPLE_ADMIN_ROLE_ID,
    EXAMPLE_BOT_EMAIL,
    EXAMPLE_ORG_ID,
    EXAMPLE_OWNERS_ROLE_ID,
    EXAMPLE_READONLY_ROLE_ID,
    EXAMPLE_USER_IDS,
    RunningAptibleEmulator,
)

BOT_ID = EXAMPLE_USER_IDS[EXAMPLE_BOT_EMAIL]


def config_with(role_ids: dict[str, str], org_id: str = EXAMPLE_ORG_ID) -> JitflowConfig:
    secret = SecretRef(key="bot", source="this", path="sym/main/aptible-bot-credentials")
    integration = AptibleIntegration(
        key="aptible",
        name="main-aptible",
        org_id=org_id,
        username_secret=secret,
        password_secret=secret,
    )
    targets = {
        key: AptibleRoleTarget(key=key, name=key, label=f"{key} label", role_id=role_id)
        for key, role_id in role_ids.items()
    }
    strategy = AptibleStrategy(
        key="aptible",
        name="main-aptible-strategy",
        integration="aptible",
        targets=tuple(targets),
    )
    return JitflowConfig(
        integrations={"aptible": integration}, targets=targets, strategies={"aptible": strategy}
    )


async def test_the_example_targets_pass(client: AptibleClient, bot: AptibleCredentials) -> None:
    config = config_with(
        {"admin": EXAMPLE_ADMIN_ROLE_ID.upper(), "readonly": EXAMPLE_READONLY_ROLE_ID}
    )
    assert await preflight_targets(client, bot, config) == []
    assert await preflight_targets(client, {"aptible": bot}, config) == []


async def test_every_problem_is_a_warning_naming_its_target(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    state = fresh_state()
    scim = add_role(state, EXAMPLE_ORG_ID, "SCIM Role", scim_created=True)
    add_membership(state, scim, BOT_ID, privileged=True)
    emulator.admin.load_state(state)
    missing = "00000000-0000-4000-8000-0000000000ee"
    config = config_with({"owners": EXAMPLE_OWNERS_ROLE_ID, "scim": scim, "gone": missing})
    warnings = await preflight_targets(client, bot, config)
    assert any(w.startswith("target owners (owners label)") and "owner role" in w for w in warnings)
    assert any(w.startswith("target owners") and "lacks Role Admin" in w for w in warnings)
    assert any(w.startswith("target scim") and "SCIM" in w for w in warnings)
    assert any(w.startswith("target gone") and missing in w for w in warnings)
    assert len(warnings) == 4


async def test_a_bot_that_cannot_log_in_is_one_warning(
    client: AptibleClient, emulator: RunningAptibleEmulator
) -> None:
    wrong = AptibleCredentials(EXAMPLE_BOT_EMAIL, "not-the-password")
    warnings = await preflight_targets(client, wrong, config_with({"admin": EXAMPLE_ADMIN_ROLE_ID}))
    assert len(warnings) == 1 and warnings[0].startswith("integration aptible:")
    assert "rejected the email or password" in warnings[0]
    assert "not-the-password" not in warnings[0]
    assert await preflight_targets(client, {}, config_with({"admin": EXAMPLE_ADMIN_ROLE_ID})) == [
        "integration aptible: no bot credentials to check with"
    ]


async def test_a_role_of_another_organization_is_flagged(
    client: AptibleClient, bot: AptibleCredentials, emulator: RunningAptibleEmulator
) -> None:
    state = fresh_state()
    other = "11111111-2222-4333-8444-555555555555"
    state["organizations"].append({"id": other, "name": "Other"})
    elsewhere = add_role(state, other, "Other Admins")
    add_membership(state, elsewhere, BOT_ID, privileged=True)
    emulator.admin.load_state(state)
    warnings = await preflight_targets(client, bot, config_with({"other": elsewhere}))
    assert len(warnings) == 1
    assert other in warnings[0] and EXAMPLE_ORG_ID in warnings[0]
