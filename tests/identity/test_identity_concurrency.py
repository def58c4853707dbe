"""Two real processes writing identities at the same time lose nothing, on both backends."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from concurrent_writer import USERS, planned
from sqlalchemy import event, text

from jitflow.identity import IdentityStore
from jitflow.identity.models import LedgerEntry

WRITER = Path(__file__).with_name("concurrent_writer.py")
COUNT = 80


def test_two_writer_processes_lose_nothing(database_url: str, tmp_path: Path) -> None:
    go_file = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, str(WRITER), database_url, tag, str(COUNT), str(go_file), other],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag, other in (("a", "b"), ("b", "a"))
    ]
    try:
        # Both open (and one migrates) the fresh database, then wait for the go signal.
        deadline = time.monotonic() + 30
        while not all((tmp_path / f"ready-{tag}").exists() for tag in ("a", "b")):
            assert time.monotonic() < deadline, "the writers did not open the store"
            for writer in writers:
                if writer.poll() is not None:
                    _, stderr = writer.communicate()
                    raise AssertionError(f"a writer died early:\n{stderr}")
            time.sleep(0.01)
        go_file.touch()
        outputs = [writer.communicate(timeout=60) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
    for writer, (_, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr
    spans = [json.loads(stdout) for stdout, _ in outputs]
    assert max(s["started"] for s in spans) < min(s["ended"] for s in spans), (
        f"the writers did not overlap: {spans}"
    )

    with IdentityStore.open(database_url) as store:
        stored = {(i.email, i.external_id): i.service_user_id for i in store.list_identities()}
        users = store.list_users()
    expected = {
        (email, org): user_id for tag in ("a", "b") for email, org, user_id in planned(tag, COUNT)
    }
    assert stored == expected
    assert len(users) == USERS


def test_ledger_reads_do_not_wait_for_a_writer(sqlite_url: str) -> None:
    """While another connection holds SQLite's write lock (a writer mid-transaction, in the
    worker or in ``jitflow users``), a removal's ledger reads answer at once: they begin a plain
    read transaction, which WAL serves beside the writer, instead of queueing for the lock up to
    the 30 s busy timeout. A write still waits for the lock, and then goes through."""
    org, role, user = (
        "0rg00000-0000-4000-8000-000000000001",
        "r01e0000-0000-4000-8000-000000000001",
        "u5e40000-0000-4000-8000-000000000001",
    )
    with IdentityStore.open(sqlite_url) as store, ThreadPoolExecutor(max_workers=1) as pool:
        store.confirm_membership(org, role, user, "m-1")
        with IdentityStore.open(sqlite_url) as writer, writer._transaction() as held:
            held.execute(text("DELETE FROM closed_grants"))  # holds the write lock from here
            read = pool.submit(store.ledger_entry, org, role, user)
            entry = read.result(timeout=10)  # the busy timeout would be 30 s
            assert entry == LedgerEntry(state="created", membership_id="m-1")
            assert store.created_membership(org, role, user) == "created"
            assert store.holds_another_role(org, user, role) is False
            assert [u.email for u in store.list_users()] == []
            forgetting = pool.submit(store.forget_membership, org, role, user)
            time.sleep(0.3)
            assert not forgetting.done(), "a write began beside the held write lock"
        forgetting.result(timeout=10)  # the writer committed: the forget went through
        assert store.ledger_entry(org, role, user) is None


def test_a_read_leaves_the_next_write_beginning_immediate() -> None:
    """The read-only mark stays on the read's own connection: on the in-memory engine, whose
    one SQLite connection every transaction shares, the write after a read still takes the
    write lock at its start."""
    store = IdentityStore.open("sqlite://")
    begun: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN"):
            begun.append(statement)

    with store:
        assert store.created_membership("o", "r", "u") is None
        store.forget_membership("o", "r", "u")
        assert store.created_membership("o", "r", "u") is None
    assert begun == ["BEGIN", "BEGIN IMMEDIATE", "BEGIN"]
