"""The emulator over real HTTP: bodies, codes, permissions, paging, eviction, faults, state."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aptible_test_support import add_membership, add_role, add_user, fresh_state
from click.testing import CliRunner

from jitflow.cli.main import main
from jitflow.testing.aptible_emulator import (
    EXAMPLE_ADMIN_ROLE_ID,
    EXAMPLE_BOT_EMAIL,
    EXAMPLE_BOT_PASSWORD,
    EXAMPLE_DEVELOPERS_ROLE_ID,
    EXAMPLE_ORG_ID,
    EXAMPLE_OWNERS_ROLE_ID,
    EXAMPLE_USER_IDS,
    EmulatorAdminError,
    RunningAptibleEmulator,
    aptible_emulator,
)

ALICE = EXAMPLE_USER_IDS["alice@example.com"]
BOT = EXAMPLE_USER_IDS[EXAMPLE_BOT_EMAIL]
MEMBERSHIPS = f"/roles/{EXAMPLE_ADMIN_ROLE_ID}/memberships"


@pytest.fixture
def http(emulator: RunningAptibleEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        yield client


def login(http: httpx.Client, email: str, password: str) -> dict[str, str]:
    response = http.post(
        "/tokens",
        json={"grant_type": "password", "username": email, "password": password, "scope": "manage"},
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def user_url(emulator: RunningAptibleEmulator, user_id: str) -> dict[str, str]:
    return {"user_url": f"{emulator.base_url}/users/{user_id}"}


def assert_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/hal+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == status and body["error"] == error and body["message"]
    return body


def test_token_from_json_or_form_body_is_a_hal_token_resource(
    emulator: RunningAptibleEmulator, http: httpx.Client
) -> None:
    form = http.post(
        "/tokens",
        data={
            "grant_type": "password",
            "username": EXAMPLE_BOT_EMAIL,
            "password": EXAMPLE_BOT_PASSWORD,
            "scope": "manage",
            "expires_in": "600",
        },
    )
    assert form.status_code == 201
    assert form.headers["content-type"].startswith("application/hal+json")
    token = form.json()
    assert token["_type"] == "token" and token["token_type"] == "bearer"
    assert 590 <= token["expires_in"] <= 600 and token["expires_at"].endswith("Z")
    assert token["_links"]["user"]["href"] == f"{emulator.base_url}/users/{BOT}"
    assert token["_links"]["self"]["href"] == f"{emulator.base_url}/tokens/{token['id']}"

    headers = login(http, EXAMPLE_BOT_EMAIL.upper(), EXAMPLE_BOT_PASSWORD)
    current = http.get("/current_token", headers=headers).json()
    assert current["_links"]["user"]["href"].endswith(BOT)
    assert http.delete(f"/tokens/{current['id']}", headers=headers).status_code == 204
    assert_error(http.get("/current_token", headers=headers), 401, "invalid_token")


def test_login_refusals(emulator: RunningAptibleEmulator) -> None:
    state = fresh_state()
    add_user(state, "twofactor@example.com", password="pw", otp_enabled=True)
    emulator.admin.load_state(state)
    with httpx.Client(base_url=emulator.base_url) as http:
        body = {"grant_type": "password", "username": EXAMPLE_BOT_EMAIL, "password": "nope"}
        assert_error(http.post("/tokens", json=body), 401, "invalid_credentials")
        body = {"grant_type": "password", "username": "twofactor@example.com", "password": "pw"}
        assert_error(http.post("/tokens", json=body), 401, "otp_token_required")
        emulator.admin.update_settings(otp_status=400)
        assert_error(http.post("/tokens", json=body), 400, "otp_token_required")
        body = {"grant_type": "client_credentials"}
        assert_error(http.post("/tokens", json=body), 400, "unsupported_grant_type")


def test_tokens_expire(emulator: RunningAptibleEmulator, http: httpx.Client) -> None:
    headers = login(http, EXAMPLE_BOT_EMAIL, EXAMPLE_BOT_PASSWORD)
    assert http.get(f"/roles/{EXAMPLE_ADMIN_ROLE_ID}", headers=headers).status_code == 200
    assert emulator.admin.expire_tokens() == 1
    assert_error(http.get(f"/roles/{EXAMPLE_ADMIN_ROLE_ID}", headers=headers), 401, "expired_token")
    assert_error(http.get(f"/roles/{EXAMPLE_ADMIN_ROLE_ID}"), 401, "invalid_token")


def test_lists_are_paged_with_absolute_next_links(
    emulator: RunningAptibleEmulator, http: httpx.Client
) -> None:
    headers = login(http, EXAMPLE_BOT_EMAIL, EXAMPLE_BOT_PASSWORD)
    first = http.get(f"/organizations/{EXAMPLE_ORG_ID}/users", headers=headers).json()
    assert len(first["_embedded"]["users"]) == 5 and first["total_count"] == 6
    next_href = first["_links"]["next"]["href"]
    assert next_href.startswith(f"{emulator.base_url}/organizations/{EXAMPLE_ORG_ID}/users?")
    second = http.get(next_href, headers=headers).json()
    assert [u["email"] for u in second["_embedded"]["users"]] == ["owner@example.com"]
    assert "next" not in second["_links"] and "prev" in second["_links"]
    user = second["_embedded"]["users"][0]
    assert user["_type"] == "user" and user["_links"]["self"]["href"].endswith(user["id"])

    roles = http.get(f"/organizations/{EXAMPLE_ORG_ID}/roles?per_page=10", headers=headers).json()
    by_id = {role["id"]: role for role in roles["_embedded"]["roles"]}
    assert by_id[EXAMPLE_OWNERS_ROLE_ID]["type"] == "owner"
    assert by_id[EXAMPLE_ADMIN_ROLE_ID]["_links"]["organization"]["href"].endswith(EXAMPLE_ORG_ID)
    org = http.get(f"/organizations/{EXAMPLE_ORG_ID}", headers=headers).json()
    assert org["_type"] == "organization" and org["id"] == EXAMPLE_ORG_ID
    assert_error(
        http.get(f"/organizations/{EXAMPLE_ORG_ID}/users?page=0", headers=headers),
        400,
        "bad_request",
    )


def test_membership_bodies_and_duplicates(
    emulator: RunningAptibleEmulator, http: httpx.Client
) -> None:
    headers = login(http, EXAMPLE_BOT_EMAIL, EXAMPLE_BOT_PASSWORD)
    created = http.post(MEMBERSHIPS, headers=headers, json=user_url(emulator, ALICE))
    assert created.status_code == 201
    membership = created.json()
    assert membership["_type"] == "membership" and membership["privileged"] is False
    assert membership["_links"]["user"]["href"] == f"{emulator.base_url}/users/{ALICE}"
    assert membership["_embedded"]["user"]["email"] == "alice@example.com"
    duplicate = http.post(MEMBERSHIPS, headers=headers, json=user_url(emulator, ALICE))
    assert assert_error(duplicate, 422, "unprocessable_entity")["message"].startswith(
        "Validation failed:"
    )
    unknown = http.post(
        MEMBERSHIPS,
        headers=headers,
        json=user_url(emulator, "00000000-0000-4000-8000-000000000000"),
    )
    assert_error(unknown, 422, "unprocessable_entity")
    assert_error(http.post(MEMBERSHIPS, headers=headers, json={}), 422, "unprocessable_entity")
    assert_error(
        http.post(
            "/roles/00000000-0000-4000-8000-000000000000/memberships",
            headers=headers,
            json=user_url(emulator, ALICE),
        ),
        404,
        "not_found",
    )
    assert {row["email"] for row in emulator.admin.memberships(EXAMPLE_ADMIN_ROLE_ID)} == {
        EXAMPLE_BOT_EMAIL,
        "alice@example.com",
    }


def test_who_may_change_memberships(emulator: RunningAptibleEmulator) -> None:
    state = fresh_state()
    deploy_owners = add_role(state, EXAMPLE_ORG_ID, "Deploy Owners", role_type="platform_owner")
    add_user(state, "deployer@example.com", password="pw", roles=(deploy_owners,))
    outsider = add_user(state, "outsider@example.com", password="pw", roles=())
    emulator.admin.load_state(state)
    with httpx.Client(base_url=emulator.base_url) as http:
        alice = login(http, "alice@example.com", "alice-password")
        refused = http.post(MEMBERSHIPS, headers=alice, json=user_url(emulator, ALICE))
        assert "Role Admin" in assert_error(refused, 403, "forbidden")["message"]
        deployer = login(http, "deployer@example.com", "pw")
        assert (
            http.post(MEMBERSHIPS, headers=deployer, json=user_url(emulator, ALICE)).status_code
            == 201
        )
        owners = f"/roles/{EXAMPLE_OWNERS_ROLE_ID}/memberships"
        assert_error(
            http.post(owners, headers=deployer, json=user_url(emulator, ALICE)), 403, "forbidden"
        )
        owner = login(http, "owner@example.com", "owner-password")
        bob = user_url(emulator, EXAMPLE_USER_IDS["bob@example.com"])
        assert http.post(owners, headers=owner, json=bob).status_code == 201
        not_in_org = http.post(MEMBERSHIPS, headers=owner, json=user_url(emulator, outsider))
        assert (
            "not a member of organization"
            in assert_error(not_in_org, 422, "unprocessable_entity")["message"]
        )
        emulator.admin.update_settings(forbidden_error="access_denied")
        refused = http.post(MEMBERSHIPS, headers=alice, json=user_url(emulator, ALICE))
        assert_error(refused, 403, "access_denied")
        outsider_headers = login(http, "outsider@example.com", "pw")
        assert_error(
            http.get(f"/roles/{EXAMPLE_ADMIN_ROLE_ID}", headers=outsider_headers),
            403,
            "access_denied",
        )
        assert_error(http.get(f"/users/{ALICE}", headers=outsider_headers), 404, "not_found")


def test_removing_the_last_role_evicts_from_the_organization(
    emulator: RunningAptibleEmulator,
) -> None:
    state = fresh_state()
    loner = add_user(state, "loner@example.com", roles=())
    kept = add_membership(state, EXAMPLE_ADMIN_ROLE_ID, loner)
    emulator.admin.load_state(state)
    with httpx.Client(base_url=emulator.base_url) as http:
        headers = login(http, EXAMPLE_BOT_EMAIL, EXAMPLE_BOT_PASSWORD)

        def org_emails() -> set[str]:
            page = http.get(f"/organizations/{EXAMPLE_ORG_ID}/users?per_page=50", headers=headers)
            return {user["email"] for user in page.json()["_embedded"]["users"]}

        assert "loner@example.com" in org_emails()
        assert http.get(f"/users/{loner}", headers=headers).status_code == 200
        assert http.delete(f"/memberships/{kept}", headers=headers).status_code == 204
        assert "loner@example.com" not in org_emails()
        assert_error(http.delete(f"/memberships/{kept}", headers=headers), 404, "not_found")
        again = http.post(MEMBERSHIPS, headers=headers, json=user_url(emulator, loner))
        assert_error(again, 422, "unprocessable_entity")


def test_sso_enforcing_organization_refuses_password_tokens(
    emulator: RunningAptibleEmulator,
) -> None:
    state = fresh_state()
    state["organizations"][0]["sso_enforced"] = True
    emulator.admin.load_state(state)
    with httpx.Client(base_url=emulator.base_url) as http:
        headers = login(http, EXAMPLE_BOT_EMAIL, EXAMPLE_BOT_PASSWORD)
        assert_error(
            http.get(f"/organizations/{EXAMPLE_ORG_ID}/users", headers=headers), 401, "sso_required"
        )
        owner = login(http, "owner@example.com", "owner-password")
        assert http.get(f"/organizations/{EXAMPLE_ORG_ID}/users", headers=owner).is_success
        state["organizations"][0]["sso_allowlist"] = [BOT]
        emulator.admin.load_state(state)
        headers = login(http, EXAMPLE_BOT_EMAIL, EXAMPLE_BOT_PASSWORD)
        assert http.get(f"/organizations/{EXAMPLE_ORG_ID}/users", headers=headers).is_success


def test_counters_count_per_route_template(
    emulator: RunningAptibleEmulator, http: httpx.Client
) -> None:
    headers = login(http, EXAMPLE_BOT_EMAIL, EXAMPLE_BOT_PASSWORD)
    http.get(MEMBERSHIPS, headers=headers)
    http.get(f"/roles/{EXAMPLE_DEVELOPERS_ROLE_ID}/memberships", headers=headers)
    http.post(MEMBERSHIPS, headers=headers, json=user_url(emulator, ALICE))
    http.get("/no/such/path")
    emulator.admin.memberships(EXAMPLE_ADMIN_ROLE_ID)  # admin calls are not counted
    assert emulator.admin.counters() == {
        "POST /tokens": 1,
        "GET /roles/{role}/memberships": 2,
        "POST /roles/{role}/memberships": 1,
        "GET (unknown)": 1,
    }
    emulator.admin.reset_counters()
    assert emulator.admin.total() == 0


def test_scripted_faults_hit_exactly_the_next_requests(
    emulator: RunningAptibleEmulator, http: httpx.Client
) -> None:
    headers = login(http, EXAMPLE_BOT_EMAIL, EXAMPLE_BOT_PASSWORD)
    role = f"/roles/{EXAMPLE_ADMIN_ROLE_ID}"
    emulator.admin.fail_next("GET /roles/{role}", "error", count=2, status=503)
    assert_error(http.get(role, headers=headers), 503, "internal_server_error")
    assert_error(http.get(role, headers=headers), 503, "internal_server_error")
    assert http.get(role, headers=headers).status_code == 200

    emulator.admin.fail_next("GET /roles/{role}", "rate_limit", retry_after=7)
    limited = http.get(role, headers=headers)
    assert_error(limited, 429, "rate_limited")
    assert limited.headers["retry-after"] == "7"

    emulator.admin.fail_next("GET /roles/{role}", "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(role, headers=headers)

    emulator.admin.fail_next("POST /roles/{role}/memberships", "drop", phase="after")
    with pytest.raises(httpx.RemoteProtocolError):
        http.post(MEMBERSHIPS, headers=headers, json=user_url(emulator, ALICE))
    assert "alice@example.com" in emulator.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)

    emulator.admin.fail_next("*", "delay", delay_ms=300)
    with pytest.raises(httpx.ReadTimeout):
        http.get(role, headers=headers, timeout=0.1)
    assert emulator.admin.faults().scripted == []


def test_fault_rates_are_reproducible_from_the_seed(
    emulator: RunningAptibleEmulator, http: httpx.Client
) -> None:
    headers = login(http, EXAMPLE_BOT_EMAIL, EXAMPLE_BOT_PASSWORD)

    def statuses() -> list[int]:
        emulator.admin.set_faults(
            seed=7, error_rate=0.3, rate_limit_rate=0.2, routes=["GET /roles/{role}"]
        )
        return [
            http.get(f"/roles/{EXAMPLE_ADMIN_ROLE_ID}", headers=headers).status_code
            for _ in range(30)
        ]

    first, second = statuses(), statuses()
    assert first == second
    assert {200, 429, 503} == set(first)
    assert http.get(MEMBERSHIPS, headers=headers).status_code == 200  # other routes untouched


def test_admin_refuses_bad_input_naming_it(emulator: RunningAptibleEmulator) -> None:
    with pytest.raises(EmulatorAdminError, match="GET /nowhere"):
        emulator.admin.fail_next("GET /nowhere")
    with pytest.raises(EmulatorAdminError, match="error_rate"):
        emulator.admin.set_faults(error_rate=2)
    state = fresh_state()
    state["roles"][0]["type"] = "superuser"
    with pytest.raises(EmulatorAdminError, match="superuser"):
        emulator.admin.load_state(state)
    state = fresh_state()
    state["memberships"][0]["user_id"] = "11111111-1111-4111-8111-111111111111"
    with pytest.raises(EmulatorAdminError, match="11111111-1111-4111-8111-111111111111"):
        emulator.admin.load_state(state)
    with pytest.raises(EmulatorAdminError, match="per_page"):
        emulator.admin.update_settings(per_page=0)


def test_state_file_is_saved_after_each_change(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(fresh_state()))
    with (
        aptible_emulator(state_file=state_file) as emulator,
        httpx.Client(base_url=emulator.base_url) as http,
    ):
        headers = login(http, EXAMPLE_BOT_EMAIL, EXAMPLE_BOT_PASSWORD)
        created = http.post(MEMBERSHIPS, headers=headers, json=user_url(emulator, ALICE)).json()
        saved = json.loads(state_file.read_text())
        assert created["id"] in {m["id"] for m in saved["memberships"]}
        assert len(saved["tokens"]) == 1
        assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary left over
    with aptible_emulator(state_file=state_file) as reloaded:
        assert "alice@example.com" in reloaded.admin.member_emails(EXAMPLE_ADMIN_ROLE_ID)


def test_cli_serves_the_example_state_and_saves_it(tmp_path: Path) -> None:
    state_file = tmp_path / "aptible.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jitflow",
            "emulator",
            "aptible",
            "--port",
            "0",
            "--state",
            str(state_file),
            "--log-level",
            "warning",
            "--per-page",
            "2",
            "--faults",
            '{"scripted": [{"route": "GET /", "kind": "error", "status": 502}]}',
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        root = json.loads(process.stdout.readline())["aptible_auth_root_url"]
        assert root.startswith("http://127.0.0.1:")
        assert httpx.get(f"{root}/", timeout=5).status_code == 502
        home = httpx.get(f"{root}/", timeout=5)
        assert home.status_code == 200 and home.json()["_links"]["self"]["href"] == f"{root}/"
        assert httpx.get(f"{root}/_emulator/settings").json()["per_page"] == 2
        saved = json.loads(state_file.read_text())
        assert EXAMPLE_ADMIN_ROLE_ID in {role["id"] for role in saved["roles"]}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_names_a_bad_state_file_or_fault_setting(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = CliRunner().invoke(main, ["emulator", "aptible", "--state", str(broken)])
    assert result.exit_code != 0 and "broken.json" in result.output
    assert "not valid JSON" in result.output
    result = CliRunner().invoke(main, ["emulator", "aptible", "--faults", '{"error_rate": 3}'])
    assert result.exit_code != 0 and "invalid fault configuration" in result.output
    unknown_route = '{"scripted": [{"route": "GET /x", "kind": "error"}]}'
    result = CliRunner().invoke(main, ["emulator", "aptible", "--faults", unknown_route])
    assert result.exit_code != 0 and "'GET /x'" in result.output
