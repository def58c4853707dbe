"""People's signing keys and used proof nonces in the identity store, on SQLite and PostgreSQL.

Also the upgrade a deployment goes through: a database an earlier jitflow (schema 0001) left,
with its users and identities, migrated to the head revision on open.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from jitflow.identity import IdentityStore, InvalidValue, KeyRecord
from jitflow.identity.database import create_store_engine
from jitflow.identity.migrate import current_revision, head_revision, upgrade
from jitflow.trust.keys import generate_private_key, public_key_of, sign

ORG = "94a49e57-d046-4d9d-9dbf-f7711e337368"
ALICE_ID = "3f1c6d2a-5b4e-4c8f-9a7d-1e2f3a4b5c6d"


def new_key_line(comment: str = "alice@laptop") -> str:
    return public_key_of(generate_private_key(), comment).line


def test_add_key_creates_the_user_and_is_idempotent(store: IdentityStore) -> None:
    line = new_key_line()
    record = store.add_key("Alice@Example.com", line)
    assert isinstance(record, KeyRecord)
    assert record.email == "alice@example.com"
    assert record.public_key == " ".join(line.split()[:2])
    assert record.comment == "alice@laptop"
    assert record.fingerprint.startswith("SHA256:")
    assert record.added_at.tzinfo is not None
    user = store.get_user("alice@example.com")
    assert user is not None and user.role == "member"

    again = store.add_key("alice@example.com", line.replace("alice@laptop", "renamed"))
    assert again == record
    assert store.keys("alice@example.com") == [record]


def test_a_key_belongs_to_one_person(store: IdentityStore) -> None:
    line = new_key_line()
    store.add_key("alice@example.com", line)
    with pytest.raises(InvalidValue) as caught:
        store.add_key("bob@example.com", line)
    message = str(caught.value)
    assert "already registered to 'alice@example.com'" in message
    assert "'bob@example.com'" in message
    # Refused whole: bob was not created on the way.
    assert store.get_user("bob@example.com") is None
    assert [k.email for k in store.all_keys()] == ["alice@example.com"]


def test_keys_listing_lookup_and_removal(store: IdentityStore) -> None:
    first = store.add_key("bob@example.com", new_key_line("bob@desk"))
    second = store.add_key("bob@example.com", new_key_line("bob@laptop"))
    alice = store.add_key("alice@example.com", new_key_line())
    assert store.keys("bob@example.com") == [first, second]
    assert store.keys() == store.all_keys() == [alice, first, second]
    assert store.key_by_fingerprint(second.fingerprint) == second
    assert store.key_by_fingerprint(" " + second.fingerprint.removeprefix("SHA256:")) == second
    assert store.key_by_fingerprint("SHA256:not-a-fingerprint") is None
    assert store.key_by_fingerprint(public_key_of(generate_private_key()).fingerprint) is None

    assert store.remove_key("alice@example.com", first.fingerprint) is False  # bob's, not alice's
    assert store.remove_key("bob@example.com", first.fingerprint) is True
    assert store.remove_key("bob@example.com", first.fingerprint) is False
    assert store.keys("bob@example.com") == [second]
    with pytest.raises(InvalidValue, match="invalid key fingerprint 'MD5:xx'"):
        store.remove_key("bob@example.com", "MD5:xx")


def test_a_registered_key_verifies_its_owners_signature(store: IdentityStore) -> None:
    private = generate_private_key()
    record = store.add_key("alice@example.com", public_key_of(private, "alice").line)
    found = store.key_by_fingerprint(record.fingerprint)
    assert found is not None
    assert found.to_public_key().verify(b"decision", sign(private, b"decision"))


def test_bad_keys_and_emails_are_named_and_change_nothing(store: IdentityStore) -> None:
    with pytest.raises(InvalidValue, match="ssh-rsa keys are not accepted"):
        store.add_key("alice@example.com", "ssh-rsa AAAAB3NzaC1yc2E alice")
    with pytest.raises(InvalidValue, match="invalid email 'alice'"):
        store.add_key("alice", new_key_line())
    with pytest.raises(InvalidValue, match="longer than 1000 characters"):
        store.add_key("alice@example.com", new_key_line("c" * 1001))
    assert store.list_users() == []
    assert store.all_keys() == []


def test_deleting_a_user_deletes_their_keys(store: IdentityStore) -> None:
    kept = store.add_key("alice@example.com", new_key_line())
    store.add_key("bob@example.com", new_key_line())
    assert store.delete_user("bob@example.com")
    assert store.all_keys() == [kept]
    # The database cascades on its own too, for a delete that does not go through the store.
    store.add_key("carol@example.com", new_key_line())
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM users WHERE email = 'carol@example.com'"))
    assert store.all_keys() == [kept]


def test_users_dropped_by_a_csv_lose_their_keys(store: IdentityStore) -> None:
    store.add_key("alice@example.com", new_key_line())
    bob = store.add_key("bob@example.com", new_key_line())
    report = store.apply_csv("Email\nbob@example.com\n", delete_missing=True)
    assert report.deleted_users == ("alice@example.com",)
    assert store.all_keys() == [bob]


def test_a_proof_nonce_serves_one_decision_and_its_retries(store: IdentityStore) -> None:
    assert store.consume_proof_nonce("n1", "access/a", "run-1", "approve") is True
    assert store.consume_proof_nonce("n1", "access/a", "run-1", "approve") is True  # a retry
    assert store.consume_proof_nonce("n1", "access/a", "run-2", "approve") is False
    assert store.consume_proof_nonce("n1", "access/b", "run-1", "approve") is False
    assert store.consume_proof_nonce("n1", "access/a", "run-1", "deny") is False
    assert store.consume_proof_nonce("n2", "access/b", "run-1", "deny") is True
    with pytest.raises(InvalidValue, match="invalid proof nonce ''"):
        store.consume_proof_nonce("", "access/a", "run-1", "approve")
    with pytest.raises(InvalidValue, match="invalid proof nonce"):
        store.consume_proof_nonce("n" * 129, "access/a", "run-1", "approve")


def test_concurrent_uses_of_one_nonce_admit_exactly_one_place(database_url: str) -> None:
    """Two workers presenting one proof for different requests at the same moment."""
    with IdentityStore.open(database_url) as opened:
        barrier = threading.Barrier(8)
        results: dict[int, bool] = {}

        def use(index: int) -> None:
            barrier.wait()
            results[index] = opened.consume_proof_nonce("shared", f"access/{index}", "r", "approve")

        threads = [threading.Thread(target=use, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results.values()) == [False] * 7 + [True]


def test_a_0001_database_is_upgraded_with_its_data(database_url: str) -> None:
    engine = create_store_engine(database_url)
    try:
        upgrade(engine, "0001")
        assert current_revision(engine) == "0001"
        assert "user_keys" not in inspect(engine).get_table_names()
        now = datetime(2025, 1, 2, tzinfo=UTC)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (email, role, created_at, updated_at) "
                    "VALUES ('alice@example.com', 'admin', :now, :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO identities (user_id, service_type, external_id, "
                    "service_user_id, created_at, updated_at) "
                    "SELECT id, 'aptible', :org, :user, :now, :now FROM users"
                ),
                {"org": ORG, "user": ALICE_ID, "now": now},
            )

        store = IdentityStore(engine)
        assert current_revision(engine) == head_revision()
        assert head_revision() >= "0002"
        assert store.role_of("alice@example.com") == "admin"
        assert store.get_identity("alice@example.com", "aptible", ORG) == ALICE_ID
        record = store.add_key("alice@example.com", new_key_line())
        assert store.keys("alice@example.com") == [record]
        assert store.consume_proof_nonce("n", "access/a", "r", "approve") is True
    finally:
        engine.dispose()
