"""Users CSV: round trip, symflow's columns, and whole-file rejection of any bad line."""

from __future__ import annotations

import pytest
from identity_constants import ALICE_ID, BOB_ID, ORG, OTHER_ORG

from jitflow.identity import CsvRejected, IdentityStore


def _snapshot(store: IdentityStore) -> tuple[object, object]:
    return store.list_users(), store.list_identities()


def test_export_then_apply_is_a_no_op(store: IdentityStore) -> None:
    store.upsert_user("alice@example.com", role="admin", first_name="Alice", last_name="A, Jr.")
    store.set_identity("alice@example.com", "aptible", ORG, ALICE_ID)
    store.set_identity("bob@example.com", "aptible", OTHER_ORG, BOB_ID)
    exported = store.export_csv()
    assert exported.splitlines() == [
        f"Email,First Name,Last Name,Role,aptible:{OTHER_ORG},aptible:{ORG}",
        f'alice@example.com,Alice,"A, Jr.",admin,,{ALICE_ID}',
        f"bob@example.com,,,member,{BOB_ID},",
    ]
    before = _snapshot(store)
    report = store.apply_csv(exported)
    assert not report.changed
    assert report.unchanged_users == ("alice@example.com", "bob@example.com")
    assert _snapshot(store) == before


def test_apply_creates_updates_sets_and_clears(store: IdentityStore) -> None:
    store.set_identity("alice@example.com", "aptible", ORG, ALICE_ID)
    store.upsert_user("alice@example.com", first_name="Alice")
    report = store.apply_csv(
        f"email,Role,aptible:{ORG.upper()}\nALICE@example.com,guest,\ncarol@example.com,,{BOB_ID}\n"
    )
    assert report.created_users == ("carol@example.com",)
    assert report.updated_users == ("alice@example.com",)
    assert (report.set_identities, report.deleted_identities) == (1, 1)
    assert store.get_identity("alice@example.com", "aptible", ORG) is None
    assert store.get_identity("carol@example.com", "aptible", ORG) == BOB_ID
    assert store.role_of("alice@example.com") == "guest"
    assert store.role_of("carol@example.com") == "member"
    alice = store.get_user("alice@example.com")
    assert alice is not None and alice.first_name == "Alice", "absent columns are left alone"


def test_delete_missing_removes_users_without_a_row(store: IdentityStore) -> None:
    store.set_identity("alice@example.com", "aptible", ORG, ALICE_ID)
    store.create_user("bob@example.com")
    report = store.apply_csv("Email\nbob@example.com\n", delete_missing=True)
    assert report.deleted_users == ("alice@example.com",)
    assert [u.email for u in store.list_users()] == ["bob@example.com"]
    assert store.list_identities() == []


def test_a_symflow_export_loads_as_is(store: IdentityStore) -> None:
    report = store.apply_csv(
        f"User ID,sym:cloud,aptible:{ORG}\n"
        f"1b0a4c9e-0000-4000-8000-000000000001,alice@example.com,{ALICE_ID}\n"
    )
    assert report.created_users == ("alice@example.com",)
    assert store.get_identity("alice@example.com", "aptible", ORG) == ALICE_ID


@pytest.mark.parametrize(
    ("csv_text", "named"),
    [
        ("Email,Nickname\na@example.com,al\n", "'Nickname'"),
        (f"Email,aptible:{ORG}\na@example.com,{ALICE_ID}\nA@example.com,{BOB_ID}\n", "duplicate"),
        (f"Email,aptible:{ORG}\na@example.com,not-a-uuid\n", "'not-a-uuid'"),
        ("Email,aptibel:x\na@example.com,1\n", "'aptibel'"),
        ("Email,aptible:org-1\na@example.com,1\n", "'org-1'"),
        (f"Email,aptible:{ORG},aptible:{ORG.upper()}\n", "repeats"),
        ("Email,Role\na@example.com,owner\n", "'owner'"),
        ("Email\nnot an email\n", "'not an email'"),
        ("Role\nadmin\n", "no Email column"),
        ("", "empty"),
        ("Email\na@example.com,extra\n", "2 cells for 1 columns"),
    ],
)
def test_a_bad_file_is_rejected_whole(store: IdentityStore, csv_text: str, named: str) -> None:
    store.set_identity("z@example.com", "aptible", ORG, BOB_ID)
    before = _snapshot(store)
    # A good first line must not be applied either.
    if csv_text.count("\n") > 1:
        header, rest = csv_text.split("\n", 1)
        good = "zz@example.com" + "," * header.count(",")
        csv_text = f"{header}\n{good}\n{rest}"
    with pytest.raises(CsvRejected, match="nothing was changed") as raised:
        store.apply_csv(csv_text)
    assert any(named in problem for problem in raised.value.problems), raised.value.problems
    assert _snapshot(store) == before


def test_every_problem_is_reported_with_its_line(store: IdentityStore) -> None:
    with pytest.raises(CsvRejected) as raised:
        store.apply_csv(f"Email,aptible:{ORG}\nbad,\nok@example.com,nope\nok@example.com,\n")
    problems = raised.value.problems
    assert [p.split(":")[0].split(" (")[0] for p in problems] == ["line 2", "line 3", "line 4"]
    assert store.list_users() == []
