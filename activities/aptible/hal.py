"""Reading Aptible's HAL bodies: links, embedded lists, ids taken from hrefs, and input ids."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from activities.aptible.errors import AptibleInvalidInput, AptibleProtocolError
from activities.aptible.models import AptibleMembership, AptibleRole, AptibleUser

Body = dict[str, Any]


def normalize_id(value: str, what: str) -> str:
    """A UUID in the lower case Aptible's URLs use; anything else is refused naming the value."""
    try:
        return str(uuid.UUID(str(value).strip()))
    except ValueError:
        raise AptibleInvalidInput(f"{what} {value!r} is not a UUID") from None


def link_href(body: Body, rel: str) -> str | None:
    links = body.get("_links")
    if not isinstance(links, dict):
        return None
    entry = links.get(rel)
    href = entry.get("href") if isinstance(entry, dict) else None
    return href if isinstance(href, str) and href else None


def id_from_href(href: str) -> str:
    """Aptible ids are the last path segment of a resource link."""
    return urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1].lower()


def embedded(body: Body, plural: str) -> list[Body]:
    items = body.get("_embedded", {}).get(plural, []) if isinstance(body, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise AptibleProtocolError(f"list answer has no _embedded.{plural} array")
    return items


def _resource_id(body: Body, kind: str) -> str:
    raw = body.get("id")
    if raw is None:
        href = link_href(body, "self")
        if href is None:
            raise AptibleProtocolError(f"{kind} without id or _links.self")
        return id_from_href(href)
    return str(raw).lower()


def parse_user(body: Body) -> AptibleUser:
    email = body.get("email")
    if not isinstance(email, str):
        raise AptibleProtocolError("user without an email")
    name = body.get("name")
    return AptibleUser(
        id=_resource_id(body, "user"), email=email, name=name if isinstance(name, str) else ""
    )


def parse_membership(body: Body, role_id: str) -> AptibleMembership:
    user_href = link_href(body, "user")
    embedded_user = body.get("_embedded", {}).get("user")
    user_email = None
    if isinstance(embedded_user, dict):
        email = embedded_user.get("email")
        user_email = email if isinstance(email, str) else None
        if user_href is None:
            user_href = link_href(embedded_user, "self")
    if user_href is None:
        raise AptibleProtocolError(f"membership of role {role_id} names no user")
    role_href = link_href(body, "role")
    return AptibleMembership(
        id=_resource_id(body, "membership"),
        role_id=id_from_href(role_href) if role_href else role_id,
        user_id=id_from_href(user_href),
        privileged=body.get("privileged") is True,
        user_email=user_email,
    )


def parse_role(body: Body) -> AptibleRole:
    org_href = link_href(body, "organization")
    return AptibleRole(
        id=_resource_id(body, "role"),
        name=str(body.get("name") or ""),
        type=str(body.get("type") or ""),
        scim_created=body.get("scim_created") is True,
        organization_id=id_from_href(org_href) if org_href else None,
    )
