"""Two real processes writing identities at the same time lose nothing, on both backends."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from concurrent_writer import USERS, planned

from jitflow.identity import IdentityStore

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
