"""``jitflow users``: each command against a real SQLite store, and bad input changing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from identity_constants import ALICE_ID, BOB_ID, ORG

from jitflow.cli.main import main
from jitflow.identity import IdentityStore


@pytest.fixture
def db(sqlite_url: str) -> str:
    return sqlite_url


def run(db: str, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["users", *args, "--database-url", db], input=input)


def snapshot(db: str) -> tuple[object, object]:
    with IdentityStore.open(db) as store:
        return store.list_users(), store.list_identities()


def test_create_list_set_role_and_delete(db: str) -> None:
    assert run(db, "create", "Alice@Example.com", "--role", "admin").exit_code == 0
    result = run(db, "create", "bob@example.com", "--first-name", "Bob", "--last-name", "B")
    assert result.output == "Created user bob@example.com (member)\n"
    listed = run(db, "list")
    lines = listed.output.splitlines()
    assert lines[0].split() == ["Name", "Email", "Role", "Created", "At"]
    assert "alice@example.com  admin" in lines[1]
    assert lines[2].startswith("Bob B") and "member" in lines[2]

    assert run(db, "set-role", "bob@example.com", "--role", "guest").output == (
        "bob@example.com is now guest\n"
    )
    assert run(db, "update-name", "bob@example.com", "Robert", "De", "Niro").exit_code == 0
    assert run(db, "delete", "alice@example.com", input="n\n").exit_code == 1
    assert run(db, "delete", "alice@example.com", "--force").exit_code == 0
    with IdentityStore.open(db) as store:
        assert store.user_roles() == {"bob@example.com": "guest"}
        bob = store.get_user("bob@example.com")
        assert bob is not None and (bob.first_name, bob.last_name) == ("Robert De", "Niro")


def test_identity_commands_and_csv_round_trip(db: str, tmp_path: Path) -> None:
    result = run(
        db, "update-identity", "alice@example.com", "--service-type", "aptible",
        "--external-id", ORG, "--new-value", ALICE_ID,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Created user alice@example.com (member)" in result.output

    csv_file = tmp_path / "users.csv"
    assert run(db, "list-identities", "-o", str(csv_file)).exit_code == 0
    assert csv_file.read_text() == run(db, "list-identities").output
    csv_file.write_text(
        csv_file.read_text().replace("member", "admin") + f"bob@example.com,,,,{BOB_ID}\n"
    )
    result = run(db, "update", "-i", str(csv_file))
    assert result.exit_code == 0, result.output
    assert "Created 1 user(s): bob@example.com" in result.output
    assert "Updated 1 user(s): alice@example.com" in result.output
    assert run(db, "update", "-i", str(csv_file)).output == "No changes.\n"

    result = run(
        db, "delete-identity", "bob@example.com", "--service-type", "aptible",
        "--external-id", ORG, input="y\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with IdentityStore.open(db) as store:
        assert store.get_identity("bob@example.com", "aptible", ORG) is None
        assert store.get_identity("alice@example.com", "aptible", ORG) == ALICE_ID
        assert store.role_of("alice@example.com") == "admin"


def test_database_url_comes_from_the_environment(db: str) -> None:
    result = CliRunner().invoke(
        main, ["users", "create", "env@example.com"], env={"JITFLOW_DATABASE_URL": db}
    )
    assert result.exit_code == 0, result.output
    with IdentityStore.open(db) as store:
        assert store.get_user("env@example.com") is not None


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["create", "alice@"], "'alice@'"),
        (["create", "alice@example.com", "--role", "owner"], "'owner'"),
        (["set-role", "nobody@example.com", "--role", "admin"], "'nobody@example.com'"),
        (["delete", "nobody@example.com", "--force"], "'nobody@example.com'"),
        (
            ["update-identity", "a@example.com", "--service-type", "aptibel",
             "--external-id", ORG, "--new-value", ALICE_ID],
            "'aptibel'",
        ),
        (
            ["update-identity", "a@example.com", "--service-type", "aptible",
             "--external-id", ORG, "--new-value", "12345"],
            "'12345'",
        ),
        (
            ["update-identity", "a@example.com", "--service-type", "aptible",
             "--external-id", "acme", "--new-value", ALICE_ID],
            "'acme'",
        ),
        (
            ["update-identity", "not-an-email", "--service-type", "aptible",
             "--external-id", ORG, "--new-value", ALICE_ID],
            "'not-an-email'",
        ),
        (
            ["delete-identity", "alice@example.com", "--service-type", "aptible",
             "--external-id", ORG, "--force"],
            f"aptible:{ORG}",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_named_exits_non_zero_and_changes_nothing(
    db: str, args: list[str], named: str
) -> None:
    run(db, "create", "alice@example.com")
    before = snapshot(db)
    result = run(db, *args)
    assert result.exit_code != 0
    assert named in result.output, result.output
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (f"Email,Team,aptible:{ORG}\nb@example.com,x,{BOB_ID}\n", "'Team'"),
        (f"Email,aptible:{ORG}\nb@example.com,{BOB_ID}\nB@example.com,{ALICE_ID}\n", "duplicate"),
        (f"Email,aptible:{ORG}\nb@example.com,{BOB_ID}\nc@example.com,xyz\n", "'xyz'"),
    ],
)
def test_a_bad_csv_changes_nothing(db: str, tmp_path: Path, content: str, named: str) -> None:
    run(db, "create", "alice@example.com")
    before = snapshot(db)
    csv_file = tmp_path / "users.csv"
    csv_file.write_text(content)
    result = run(db, "update", "-i", str(csv_file))
    assert result.exit_code == 1
    assert "nothing was changed" in result.output and named in result.output, result.output
    assert snapshot(db) == before


def test_an_unreachable_database_is_reported_without_its_password() -> None:
    secret = "s3cr3t-pa55"
    url = f"postgresql://jitflow:{secret}@127.0.0.1:1/jitflow"
    result = CliRunner().invoke(main, ["users", "list", "--database-url", url])
    assert result.exit_code == 1
    assert "could not open or migrate the identity database" in result.output
    assert secret not in result.output
    assert "***" in result.output
