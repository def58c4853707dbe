"""The Aptible auth API paths the emulator serves, with the bodies and codes of aptible-api.md."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jitflow.emulator.hal import (
    ApiError,
    Body,
    hal_response,
    link,
    membership_body,
    organization_body,
    page_body,
    role_body,
    token_body,
    user_body,
)
from jitflow.emulator.runtime import EmulatorRuntime
from jitflow.emulator.state import (
    OrganizationRecord,
    RoleRecord,
    TokenRecord,
    UserRecord,
    now_utc,
)

JSON_TYPES = ("application/json", "application/hal+json")
FORM_TYPE = "application/x-www-form-urlencoded"


def root_of(request: Request) -> str:
    """The auth root as this client reached it, so that ``_links`` are absolute and followable."""
    return str(request.base_url).rstrip("/")


def _not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, "not_found", f"Couldn't find {kind} with id {ident!r}")


async def _read_body(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if not raw:
        return {}
    if content_type == FORM_TYPE:
        pairs = parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
        return dict(pairs)
    if content_type in JSON_TYPES or not content_type:
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            raise ApiError(400, "bad_request", "Request body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise ApiError(400, "bad_request", "Request body must be a JSON object")
        return parsed
    raise ApiError(415, "unsupported_media_type", f"Unsupported Content-Type {content_type!r}")


def _page_params(request: Request, default_per_page: int) -> tuple[int, int]:
    values: list[int] = []
    for name, default in (("page", 1), ("per_page", default_per_page)):
        raw = request.query_params.get(name)
        if raw is None:
            values.append(default)
            continue
        try:
            number = int(raw)
        except ValueError:
            number = 0
        if number < 1:
            raise ApiError(400, "bad_request", f"{name} must be a positive integer, not {raw!r}")
        values.append(number)
    return values[0], values[1]


class AptibleHandlers:
    """Request handlers; each checks authentication, visibility and permission as Aptible does."""

    def __init__(self, runtime: EmulatorRuntime) -> None:
        self.runtime = runtime

    # -- helpers --------------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> TokenRecord:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(401, "invalid_token", "Missing or malformed Authorization header")
        token = self.runtime.state.token_by_access(value.strip())
        if token is None:
            raise ApiError(401, "invalid_token", "Invalid token")
        if token.expires_at <= now_utc():
            raise ApiError(401, "expired_token", "Token has expired")
        return token

    def _check_sso(self, token: TokenRecord, org: OrganizationRecord) -> None:
        state = self.runtime.state
        if not org.sso_enforced or token.user_id in org.sso_allowlist:
            return
        if state.holds_role_type(token.user_id, org.id, "owner"):
            return
        raise ApiError(
            self.runtime.settings.sso_status,
            "sso_required",
            f"Organization {org.name!r} requires SSO login; password tokens are refused for "
            "users who are neither Account Owners nor on its SSO allowlist",
        )

    def _visible_org(self, token: TokenRecord, org_id: str) -> OrganizationRecord:
        state = self.runtime.state
        org = state.organizations.get(org_id.lower())
        if org is None:
            raise _not_found("Organization", org_id)
        if not state.in_organization(token.user_id, org.id):
            raise self._forbidden(f"You are not a member of organization {org.id}")
        self._check_sso(token, org)
        return org

    def _visible_role(self, token: TokenRecord, role_id: str) -> RoleRecord:
        role = self.runtime.state.roles.get(role_id.lower())
        if role is None:
            raise _not_found("Role", role_id)
        self._visible_org(token, role.organization_id)
        return role

    def _forbidden(self, message: str) -> ApiError:
        return ApiError(403, self.runtime.settings.forbidden_error, message)

    def _require_manage(self, token: TokenRecord, role: RoleRecord) -> None:
        if not self.runtime.state.may_manage_role(token.user_id, role):
            raise self._forbidden(
                f"You are not allowed to manage memberships of role {role.name!r} ({role.id}): "
                "it takes Role Admin of that role, or Account Owner / Deploy Owner"
            )

    def _paged(self, request: Request, path: str, plural: str, items: list[Body]) -> Response:
        page, per_page = _page_params(request, self.runtime.settings.per_page)
        body = page_body(root_of(request), path, plural, items, page=page, per_page=per_page)
        return hal_response(body)

    # -- handlers -------------------------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        root = root_of(request)
        return hal_response(
            {
                "_type": "root",
                "_links": {
                    "self": link(f"{root}/"),
                    "token": link(f"{root}/current_token"),
                    "organizations": link(f"{root}/organizations"),
                },
            }
        )

    async def create_token(self, request: Request) -> Response:
        body = await _read_body(request)
        runtime = self.runtime
        grant_type = str(body.get("grant_type", ""))
        if grant_type != "password":
            raise ApiError(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}")
        username = str(body.get("username", "")).strip()
        password = str(body.get("password", ""))
        user = runtime.state.user_by_email(username)
        matches = (
            secrets.compare_digest(user.password.encode(), password.encode()) if user else False
        )
        if user is None or not password or not matches:
            raise ApiError(401, "invalid_credentials", "Invalid email or password")
        if user.otp_enabled and not body.get("otp_token"):
            raise ApiError(
                runtime.settings.otp_status,
                "otp_token_required",
                "Two-factor authentication is enabled: an otp_token is required",
            )
        lifetime = runtime.settings.default_token_lifetime
        if "expires_in" in body:
            try:
                lifetime = int(body["expires_in"])
            except (TypeError, ValueError):
                lifetime = 0
            if lifetime < 1:
                raise ApiError(
                    422,
                    "unprocessable_entity",
                    f"Validation failed: expires_in {body['expires_in']!r} must be positive",
                )
        lifetime = min(lifetime, runtime.settings.max_token_lifetime)
        scope = str(body.get("scope") or "manage")
        token = runtime.state.issue_token(user.id, lifetime, scope)
        runtime.changed()
        return hal_response(token_body(root_of(request), token), runtime.settings.token_status)

    async def current_token(self, request: Request) -> Response:
        token = self._authenticate(request)
        return hal_response(token_body(root_of(request), token))

    async def revoke_token(self, request: Request) -> Response:
        token = self._authenticate(request)
        target_id = request.path_params["token"].lower()
        target = self.runtime.state.tokens.get(target_id)
        if target is None or target.user_id != token.user_id:
            raise _not_found("Token", target_id)
        del self.runtime.state.tokens[target_id]
        self.runtime.changed()
        return Response(status_code=204)

    async def organization(self, request: Request) -> Response:
        token = self._authenticate(request)
        org = self._visible_org(token, request.path_params["org"])
        return hal_response(organization_body(root_of(request), org))

    async def organization_users(self, request: Request) -> Response:
        token = self._authenticate(request)
        org = self._visible_org(token, request.path_params["org"])
        root = root_of(request)
        users = [user_body(root, u) for u in self.runtime.state.organization_users(org.id)]
        return self._paged(request, f"/organizations/{org.id}/users", "users", users)

    async def organization_roles(self, request: Request) -> Response:
        token = self._authenticate(request)
        org = self._visible_org(token, request.path_params["org"])
        root = root_of(request)
        roles = [role_body(root, r) for r in self.runtime.state.organization_roles(org.id)]
        return self._paged(request, f"/organizations/{org.id}/roles", "roles", roles)

    async def role(self, request: Request) -> Response:
        token = self._authenticate(request)
        role = self._visible_role(token, request.path_params["role"])
        return hal_response(role_body(root_of(request), role))

    async def role_memberships(self, request: Request) -> Response:
        token = self._authenticate(request)
        role = self._visible_role(token, request.path_params["role"])
        root = root_of(request)
        state = self.runtime.state
        items = [
            membership_body(root, m, state.users[m.user_id])
            for m in state.role_memberships(role.id)
        ]
        return self._paged(request, f"/roles/{role.id}/memberships", "memberships", items)

    async def create_membership(self, request: Request) -> Response:
        token = self._authenticate(request)
        role = self._visible_role(token, request.path_params["role"])
        self._require_manage(token, role)
        body = await _read_body(request)
        user = self._user_from_url(body.get("user_url"))
        state = self.runtime.state
        if not state.in_organization(user.id, role.organization_id):
            raise ApiError(
                422,
                "unprocessable_entity",
                f"Validation failed: User {user.id} is not a member of organization "
                f"{role.organization_id}",
            )
        if state.find_membership(role.id, user.id) is not None:
            raise ApiError(
                422, "unprocessable_entity", "Validation failed: User has already been taken"
            )
        privileged = body.get("privileged") is True
        membership = state.add_membership(role.id, user.id, privileged=privileged)
        self.runtime.changed()
        return hal_response(membership_body(root_of(request), membership, user), 201)

    def _user_from_url(self, user_url: object) -> UserRecord:
        if not isinstance(user_url, str) or not user_url.strip():
            raise ApiError(422, "unprocessable_entity", "Validation failed: User can't be blank")
        user_id = urlsplit(user_url.strip()).path.rstrip("/").rsplit("/", 1)[-1].lower()
        user = self.runtime.state.users.get(user_id)
        if user is None:
            raise ApiError(
                422, "unprocessable_entity", f"Validation failed: User {user_id!r} not found"
            )
        return user

    async def delete_membership(self, request: Request) -> Response:
        token = self._authenticate(request)
        membership_id = request.path_params["membership"].lower()
        state = self.runtime.state
        membership = state.memberships.get(membership_id)
        if membership is None:
            raise _not_found("Membership", membership_id)
        role = self._visible_role(token, membership.role_id)
        self._require_manage(token, role)
        state.remove_membership(membership.id)
        self.runtime.changed()
        return Response(status_code=204)

    async def user(self, request: Request) -> Response:
        token = self._authenticate(request)
        user_id = request.path_params["user"].lower()
        state = self.runtime.state
        user = state.users.get(user_id)
        if user is None or not self._shares_organization(token.user_id, user.id):
            raise _not_found("User", user_id)
        return hal_response(user_body(root_of(request), user))

    def _shares_organization(self, viewer_id: str, user_id: str) -> bool:
        if viewer_id == user_id:
            return True
        state = self.runtime.state
        return any(state.in_organization(viewer_id, org_id) for org_id in self._orgs_of(user_id))

    def _orgs_of(self, user_id: str) -> set[str]:
        state = self.runtime.state
        return {state.roles[m.role_id].organization_id for m in state.user_memberships(user_id)}


def aptible_routes(runtime: EmulatorRuntime) -> list[Route]:
    """The Aptible routes; their ``path`` strings are the templates the request counters use."""
    h = AptibleHandlers(runtime)
    return [
        Route("/", h.root, methods=["GET"]),
        Route("/tokens", h.create_token, methods=["POST"]),
        Route("/current_token", h.current_token, methods=["GET"]),
        Route("/tokens/{token}", h.revoke_token, methods=["DELETE"]),
        Route("/organizations/{org}", h.organization, methods=["GET"]),
        Route("/organizations/{org}/users", h.organization_users, methods=["GET"]),
        Route("/organizations/{org}/roles", h.organization_roles, methods=["GET"]),
        Route("/roles/{role}", h.role, methods=["GET"]),
        Route("/roles/{role}/memberships", h.role_memberships, methods=["GET"]),
        Route("/roles/{role}/memberships", h.create_membership, methods=["POST"]),
        Route("/memberships/{membership}", h.delete_membership, methods=["DELETE"]),
        Route("/users/{user}", h.user, methods=["GET"]),
    ]
