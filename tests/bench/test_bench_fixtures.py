"""The benchmark writes its configuration from the example on every run: check that the example
still yields a loadable configuration, and an emulator state that matches it (no stack needed)."""

from __future__ import annotations

from pathlib import Path

from bench.fixtures import (
    APPROVER,
    ROLES,
    USERS,
    allowed_durations,
    emulator_state,
    prepare,
    write_config,
)


def test_each_run_can_write_its_configuration_from_the_example(tmp_path: Path) -> None:
    fixtures = prepare(tmp_path / "config")
    assert fixtures.config_dir == tmp_path / "config"
    assert sorted(path.name for path in fixtures.config_dir.iterdir()) == ["flow.tf", "main.tf"]
    assert len(fixtures.role_ids) == ROLES
    assert len(fixtures.pairs) == ROLES * USERS
    assert len({(pair.role_id, pair.user_id) for pair in fixtures.pairs}) == ROLES * USERS
    assert {pair.org_id for pair in fixtures.pairs} == {fixtures.org_id}
    assert list(fixtures.durations) == allowed_durations()
    assert fixtures.duration_at_least(2.5) == 3
    assert fixtures.duration_at_least(10_000) == 1200


def test_the_emulator_state_holds_every_role_and_requester(tmp_path: Path) -> None:
    fixtures = prepare(tmp_path / "config")
    state = emulator_state(fixtures)
    roles = {role["id"] for role in state["roles"]}
    users = {user["id"]: user["email"] for user in state["users"]}
    assert set(fixtures.role_ids) <= roles
    assert APPROVER in users.values()
    for pair in fixtures.pairs[:: USERS + 1]:
        assert users[pair.user_id] == pair.email
    bot = next(uid for uid, email in users.items() if email == "aptible-bot@example.com")
    bot_roles = {m["role_id"] for m in state["memberships"] if m["user_id"] == bot}
    assert set(fixtures.role_ids) <= bot_roles


def test_writing_again_replaces_what_was_there(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "stale.tf").write_text('resource "sym_flow" "old" {}\n', encoding="utf-8")
    write_config(folder)
    assert sorted(path.name for path in folder.iterdir()) == ["flow.tf", "main.tf"]
