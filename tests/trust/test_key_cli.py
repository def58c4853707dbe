"""``jitflow users add-key / list-keys / remove-key`` against a real SQLite store.

Keys come from the real ``ssh-keygen``; bad input exits 1 with a one-line message (no
traceback) and changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ssh_tools import keygen, keygen_fingerprint

from jitflow.cli.main import main
from jitflow.identity import IdentityStore

pytestmark = pytest.mark.usefixtures("ssh_keygen")


@pytest.fixture
def db(sqlite_url: str) -> str:
    return sqlite_url


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["users", *args, "--database-url", db])


def assert_refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"Error: {message}" in result.output


def test_add_list_and_remove_a_key(db: str, tmp_path: Path) -> None:
    private = keygen(tmp_path, "id_ed25519", comment="alice@laptop")
    public_file = private.with_suffix(".pub")
    fingerprint = keygen_fingerprint(public_file)

    added = run(db, "add-key", "Alice@Example.com", str(public_file))
    assert added.exit_code == 0, added.output
    assert added.output == (
        "Created user alice@example.com (member)\n"
        f"Added key {fingerprint} (alice@laptop) to alice@example.com\n"
    )
    again = run(db, "add-key", "alice@example.com", str(public_file))
    assert again.output == (
        f"Key {fingerprint} (alice@laptop) was already registered to alice@example.com\n"
    )

    bob_file = keygen(tmp_path, "bob", comment="").with_suffix(".pub")
    assert run(db, "add-key", "bob@example.com", str(bob_file)).exit_code == 0
    listed = run(db, "list-keys").output.splitlines()
    assert listed[0].split() == ["Email", "Fingerprint", "Comment", "Added", "At"]
    assert listed[1].startswith(f"alice@example.com  {fingerprint}  alice@laptop  ")
    assert listed[1].endswith(" UTC")
    assert listed[2].startswith(f"bob@example.com    {keygen_fingerprint(bob_file)}")
    only_bob = run(db, "list-keys", "BOB@example.com").output.splitlines()
    assert len(only_bob) == 2 and only_bob[1].startswith("bob@example.com")

    removed = run(db, "remove-key", "alice@example.com", fingerprint)
    assert removed.exit_code == 0, removed.output
    assert removed.output == f"Removed key {fingerprint} of alice@example.com\n"
    assert_refused(
        run(db, "remove-key", "alice@example.com", fingerprint),
        f"user 'alice@example.com' has no key {fingerprint}",
    )
    with IdentityStore.open(db) as store:
        assert [k.email for k in store.all_keys()] == ["bob@example.com"]


def test_refusals_name_the_problem_and_change_nothing(db: str, tmp_path: Path) -> None:
    alice_private = keygen(tmp_path, "alice")
    alice_file = alice_private.with_suffix(".pub")
    assert run(db, "add-key", "alice@example.com", str(alice_file)).exit_code == 0
    fingerprint = keygen_fingerprint(alice_file)

    assert_refused(
        run(db, "add-key", "bob@example.com", str(alice_file)),
        f"key {fingerprint} is already registered to 'alice@example.com'",
    )
    rsa_file = keygen(tmp_path, "rsa", key_type="rsa", extra=("-b", "2048")).with_suffix(".pub")
    assert_refused(
        run(db, "add-key", "bob@example.com", str(rsa_file)),
        "ssh-rsa keys are not accepted: jitflow verifies Ed25519 signatures; "
        "create one with ssh-keygen -t ed25519",
    )
    given_private = run(db, "add-key", "bob@example.com", str(alice_private))
    assert_refused(given_private, "this is a private key, not a public key")
    assert alice_private.read_text().splitlines()[1][:20] not in given_private.output
    assert_refused(
        run(db, "add-key", "not-an-email", str(alice_file)), "invalid email 'not-an-email'"
    )
    missing = run(db, "add-key", "bob@example.com", str(tmp_path / "missing.pub"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    assert_refused(
        run(db, "remove-key", "alice@example.com", "MD5:aa:bb"),
        "invalid key fingerprint 'MD5:aa:bb'",
    )
    assert_refused(run(db, "list-keys", "nobody"), "invalid email 'nobody'")

    with IdentityStore.open(db) as store:
        assert [u.email for u in store.list_users()] == ["alice@example.com"]
        assert [k.fingerprint for k in store.all_keys()] == [fingerprint]
