"""Preflight of the Aptible targets, run by ``jitflow validate --online`` and the worker at start.

It reports problems as warnings instead of failing: the bot cannot log in, a role does not exist or
belongs to another organization, a role is owner-type or SCIM-managed, or the bot lacks Role Admin
on it (escalations would then fail with 403).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from activities.aptible.credentials import AptibleCredentials
from activities.aptible.errors import AptibleError
from activities.aptible.hal import normalize_id
from activities.aptible.models import AptibleRole, RolePreflight
from jitflow.config.models import JitflowConfig

if TYPE_CHECKING:
    from activities.aptible.client import AptibleClient

#: Role types that hand out organization-wide control; never good just-in-time targets.
OWNER_TYPES = {"owner": "Account Owners", "platform_owner": "Deploy Owners"}


async def check_role(
    client: AptibleClient, credentials: AptibleCredentials, org_id: str, role_id: str
) -> RolePreflight:
    """See :meth:`AptibleClient.preflight_role`."""
    org = normalize_id(org_id, "organization id")
    role_key = normalize_id(role_id, "role id")
    try:
        role = await client.get_role(credentials, role_key)
    except AptibleError as exc:
        return RolePreflight(
            role_key,
            org,
            exists=False,
            in_organization=False,
            warnings=[f"could not read role {role_key}: {exc.message}"],
        )
    if role is None:
        return RolePreflight(
            role_key,
            org,
            exists=False,
            in_organization=False,
            warnings=[f"role {role_key} does not exist in Aptible (or the bot cannot see it)"],
        )
    warnings: list[str] = []
    in_org = role.organization_id == org
    if not in_org:
        warnings.append(
            f"role {role.id} ({role.name}) belongs to organization {role.organization_id}, "
            f"not to the integration's organization {org}"
        )
    if role.type in OWNER_TYPES:
        warnings.append(
            f"role {role.id} ({role.name}) is an {role.type} role ({OWNER_TYPES[role.type]}): "
            "granting it just in time hands out organization-wide control; target a custom role"
        )
    if role.scim_created:
        warnings.append(
            f"role {role.id} ({role.name}) is managed by the identity provider (SCIM); "
            "jitflow's changes to it may be overwritten"
        )
    may_manage: bool | None = None
    if in_org:
        try:
            may_manage = await _bot_may_manage(client, credentials, role, org)
        except AptibleError as exc:
            warnings.append(f"could not check the bot's rights on role {role.id}: {exc.message}")
        if may_manage is False:
            warnings.append(
                f"bot {credentials.username} lacks Role Admin permission on role {role.id} "
                f"({role.name}) and is not an Account or Deploy Owner of organization {org}: "
                "escalations will fail with 403"
            )
    return RolePreflight(
        role.id,
        org,
        exists=True,
        in_organization=in_org,
        name=role.name,
        type=role.type,
        scim_created=role.scim_created,
        bot_may_manage=may_manage,
        warnings=warnings,
    )


async def _bot_may_manage(
    client: AptibleClient, credentials: AptibleCredentials, role: AptibleRole, org: str
) -> bool:
    """Aptible's rule: Role Admin of the role, or Account Owner, or Deploy Owner (not for owner)."""
    bot = await client.login_check(credentials)
    members = await client.list_role_memberships(credentials, role.id)
    if any(m.user_id == bot and m.privileged for m in members):
        return True
    owner_types = {"owner"} if role.type == "owner" else {"owner", "platform_owner"}
    for candidate in await client.list_organization_roles(credentials, org):
        if candidate.type not in owner_types:
            continue
        holders = await client.list_role_memberships(credentials, candidate.id)
        if any(m.user_id == bot for m in holders):
            return True
    return False


async def preflight_targets(
    client: AptibleClient,
    credentials: AptibleCredentials | Mapping[str, AptibleCredentials],
    config: JitflowConfig,
) -> list[str]:
    """Warnings about every target of every Aptible strategy; an empty list means all is well.

    ``credentials`` is the bot's login, or a mapping from integration key to login when the
    configuration has several integrations with different bots.
    """
    warnings: list[str] = []
    checked: set[tuple[str, str]] = set()
    for strategy in config.strategies.values():
        integration = config.integrations.get(strategy.integration)
        if integration is None:
            warnings.append(
                f"strategy {strategy.key} names unknown integration {strategy.integration!r}"
            )
            continue
        login = (
            credentials
            if isinstance(credentials, AptibleCredentials)
            else credentials.get(integration.key)
        )
        if login is None:
            warnings.append(f"integration {integration.key}: no bot credentials to check with")
            continue
        try:
            await client.login_check(login)
        except AptibleError as exc:
            warnings.append(f"integration {integration.key}: {exc.message}")
            continue
        for target_key in strategy.targets:
            target = config.targets.get(target_key)
            if target is None:
                warnings.append(f"strategy {strategy.key} names unknown target {target_key!r}")
                continue
            pair = (integration.org_id.lower(), target.role_id.lower())
            if pair in checked:
                continue
            checked.add(pair)
            try:
                result = await check_role(client, login, integration.org_id, target.role_id)
            except AptibleError as exc:
                warnings.append(f"target {target.key} ({target.display}): {exc.message}")
                continue
            warnings.extend(
                f"target {target.key} ({target.display}): {warning}" for warning in result.warnings
            )
    return warnings
