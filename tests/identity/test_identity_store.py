"""The store's users, roles and identities, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from identity_constants import ALICE_ID, BOB_ID, ORG, OTHER_ORG
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from jitflow.contracts.events import UserData
from jitflow.identity import (
    KEEP,
    IdentityStore,
    InvalidValue,
    UserExists,
    UserNotFound,
)
from jitflow.identity.migrate import head_revision


def test_a_new_store_is_empty_and_unknown_users_are_members(store: IdentityStore) -> None:
    assert store.list_users() == []
    assert store.list_identities() == []
    assert store.get_user("nobody@example.com") is None
    assert store.role_of("nobody@example.com") == "member"
    assert store.user_roles() == {}


def test_create_user_normalises_the_email_and_refuses_a_second_one(store: IdentityStore) -> None:
    created = store.create_user("  Alice@Example.COM ", role="admin", first_name="Alice")
    assert created.email == "alice@example.com"
    assert created.created_at.tzinfo is not None
    assert store.get_user("ALICE@example.com") == created
    with pytest.raises(UserExists, match=r"alice@example\.com"):
        store.create_user("alice@example.com")
    assert store.role_of("Alice@Example.com") == "admin"


def test_upsert_user_creates_then_changes_only_what_is_given(store: IdentityStore) -> None:
    first = store.upsert_user("bob@example.com", first_name="Bob", last_name="Builder")
    assert (first.role, first.first_name, first.last_name) == ("member", "Bob", "Builder")
    second = store.upsert_user("bob@example.com", role="guest", last_name=KEEP)
    assert (second.role, second.first_name, second.last_name) == ("guest", "Bob", "Builder")
    assert second.created_at == first.created_at
    cleared = store.upsert_user("bob@example.com", first_name=None)
    assert (cleared.first_name, cleared.last_name, cleared.display_name) == (
        None,
        "Builder",
        "Builder",
    )


def test_set_role_and_the_roles_dictionary(store: IdentityStore) -> None:
    store.create_user("a@example.com")
    store.create_user("b@example.com")
    assert store.set_role("A@example.com", "ADMIN").role == "admin"
    store.set_role("b@example.com", "guest")
    assert store.user_roles() == {"a@example.com": "admin", "b@example.com": "guest"}
    with pytest.raises(UserNotFound, match=r"c@example\.com"):
        store.set_role("c@example.com", "admin")
    with pytest.raises(InvalidValue, match="'owner'"):
        store.set_role("a@example.com", "owner")
    assert store.role_of("a@example.com") == "admin"


def test_set_name(store: IdentityStore) -> None:
    store.create_user("a@example.com")
    assert store.set_name("a@example.com", "Ada", "Lovelace").display_name == "Ada Lovelace"
    with pytest.raises(UserNotFound):
        store.set_name("zed@example.com", "Zed", None)


def test_identities_are_keyed_by_user_service_and_organization(store: IdentityStore) -> None:
    saved = store.set_identity("Alice@example.com", "aptible", ORG.upper(), ALICE_ID.upper())
    assert (saved.email, saved.external_id, saved.service_user_id) == (
        "alice@example.com",
        ORG,
        ALICE_ID,
    )
    store.set_identity("alice@example.com", "aptible", OTHER_ORG, BOB_ID)
    store.set_identity("bob@example.com", "aptible", ORG, BOB_ID)

    assert store.get_identity("alice@example.com", "aptible", ORG) == ALICE_ID
    assert store.get_identity("alice@example.com", "aptible", OTHER_ORG) == BOB_ID
    assert store.get_identity("carol@example.com", "aptible", ORG) is None
    assert store.get_user("bob@example.com") is not None, "set_identity creates the user"

    listed = [(i.email, i.external_id) for i in store.list_identities()]
    assert listed == sorted(listed) and len(listed) == 3
    assert [i.service_user_id for i in store.list_identities("bob@example.com")] == [BOB_ID]

    replaced = store.set_identity("alice@example.com", "aptible", ORG, BOB_ID)
    assert store.get_identity("alice@example.com", "aptible", ORG) == BOB_ID
    assert replaced.updated_at <= datetime.now(UTC)
    assert len(store.list_identities()) == 3


def test_delete_identity_and_user(store: IdentityStore) -> None:
    store.set_identity("alice@example.com", "aptible", ORG, ALICE_ID)
    store.set_identity("alice@example.com", "aptible", OTHER_ORG, ALICE_ID)
    assert store.delete_identity("alice@example.com", "aptible", ORG) is True
    assert store.delete_identity("alice@example.com", "aptible", ORG) is False
    assert store.delete_identity("ghost@example.com", "aptible", ORG) is False
    assert store.get_identity("alice@example.com", "aptible", OTHER_ORG) == ALICE_ID

    assert store.delete_user("alice@example.com") is True
    assert store.delete_user("alice@example.com") is False
    assert store.list_identities() == []
    assert store.list_users() == []


@pytest.mark.parametrize(
    ("call", "bad"),
    [
        (lambda s: s.set_identity("not-an-email", "aptible", ORG, ALICE_ID), "'not-an-email'"),
        (lambda s: s.set_identity("a@example.com", "aptibel", ORG, ALICE_ID), "'aptibel'"),
        (lambda s: s.set_identity("a@example.com", "aptible", "org-1", ALICE_ID), "'org-1'"),
        (lambda s: s.set_identity("a@example.com", "aptible", ORG, "1234"), "'1234'"),
        (lambda s: s.set_identity("a@example.com", "slack", "acme", "U1"), "'acme'"),
        (lambda s: s.set_identity("a@example.com", "aws_iam", "1234", "arn"), "'1234'"),
        (lambda s: s.create_user("a@@example.com"), "'a@@example.com'"),
        (lambda s: s.create_user("a@example.com", role="root"), "'root'"),
    ],
)
def test_bad_values_are_named_and_change_nothing(store: IdentityStore, call, bad: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValue) as raised:
        call(store)
    assert bad in str(raised.value)
    assert store.list_users() == []


def test_other_service_types_keep_their_ids_verbatim(store: IdentityStore) -> None:
    store.set_identity("a@example.com", "slack", "T01ABCDEF", "U02XYZ")
    store.set_identity(
        "a@example.com", "aws_iam", "123456789012", "arn:aws:iam::123456789012:user/a"
    )
    assert store.get_identity("a@example.com", "slack", "T01ABCDEF") == "U02XYZ"
    assert [i.column for i in store.list_identities(service_type="aws_iam")] == [
        "aws_iam:123456789012"
    ]


def test_user_data_is_what_reducers_see(store: IdentityStore) -> None:
    assert store.user_data("New@example.com") == UserData(email="new@example.com")
    store.upsert_user("a@example.com", role="admin", first_name="Ada", last_name="L")
    store.set_identity("a@example.com", "aptible", ORG, ALICE_ID)
    assert store.user_data("a@example.com") == UserData(
        email="a@example.com",
        role="admin",
        first_name="Ada",
        last_name="L",
        identities={f"aptible:{ORG}": ALICE_ID},
    )


def test_data_survives_reopening_and_the_schema_is_migrated_once(database_url: str) -> None:
    with IdentityStore.open(database_url) as first:
        first.set_identity("a@example.com", "aptible", ORG, ALICE_ID)
    with IdentityStore.open(database_url) as second:
        assert second.get_identity("a@example.com", "aptible", ORG) == ALICE_ID
        with second.engine.connect() as connection:
            versions = connection.execute(
                text("SELECT version_num FROM jitflow_schema_version")
            ).all()
    assert [row[0] for row in versions] == [head_revision()]


def test_database_rejects_a_role_outside_the_three(store: IdentityStore) -> None:
    """The CHECK constraint guards the table even against writes that bypass the store."""
    store.create_user("a@example.com")
    with pytest.raises(IntegrityError), store.engine.begin() as connection:
        connection.execute(text("UPDATE users SET role = 'owner'"))
    assert store.role_of("a@example.com") == "member"
