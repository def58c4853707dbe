"""Building emulator states for tests: the example state plus the users and roles a test needs."""

from __future__ import annotations

import uuid
from typing import Any

from jitflow.testing.aptible_emulator import EXAMPLE_DEVELOPERS_ROLE_ID, example_state

#: In-place retry waits short enough for fast tests; the real default is (0.2, 0.8, 2.0).
FAST_RETRIES = (0.01, 0.02, 0.05)


def new_id() -> str:
    return str(uuid.uuid4())


def add_user(
    state: dict[str, Any],
    email: str,
    *,
    password: str = "user-password",
    otp_enabled: bool = False,
    roles: tuple[str, ...] = (EXAMPLE_DEVELOPERS_ROLE_ID,),
) -> str:
    """Add a user holding ``roles`` (by default the base Developers role); returns its id."""
    user_id = new_id()
    state["users"].append(
        {
            "id": user_id,
            "email": email,
            "name": email.split("@")[0],
            "password": password,
            "otp_enabled": otp_enabled,
        }
    )
    for role_id in roles:
        add_membership(state, role_id, user_id)
    return user_id


def add_role(
    state: dict[str, Any],
    org_id: str,
    name: str,
    *,
    role_type: str = "platform_user",
    scim_created: bool = False,
) -> str:
    role_id = new_id()
    state["roles"].append(
        {
            "id": role_id,
            "organization_id": org_id,
            "name": name,
            "type": role_type,
            "scim_created": scim_created,
        }
    )
    return role_id


def add_membership(
    state: dict[str, Any], role_id: str, user_id: str, *, privileged: bool = False
) -> str:
    membership_id = new_id()
    state["memberships"].append(
        {"id": membership_id, "role_id": role_id, "user_id": user_id, "privileged": privileged}
    )
    return membership_id


def add_org(state: dict[str, Any], name: str, **fields: Any) -> str:
    org_id = new_id()
    state["organizations"].append({"id": org_id, "name": name, **fields})
    return org_id


def fresh_state() -> dict[str, Any]:
    return example_state()
