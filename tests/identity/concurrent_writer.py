"""A separate process that writes identities, for the concurrent-writers test (not a test module).

Usage: python concurrent_writer.py DATABASE_URL TAG COUNT GO_FILE OTHER_TAG

Opens the store (migrating it if it is the first), says so with a ``ready-TAG`` file beside
GO_FILE, waits until GO_FILE exists so that both writers start together, writes COUNT
identities spread over ten shared users (half of them through a one-line CSV, which reads
everything before writing; after its first write it waits for OTHER_TAG's first), and prints
the start and end times of the writing as JSON.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

from jitflow.identity import IdentityStore

NAMESPACE = uuid.UUID("6c1f3f0e-4a43-4f43-9b7b-9a4c3f5c2d10")
USERS = 10


def planned(tag: str, count: int) -> list[tuple[str, str, str]]:
    """(email, organization, Aptible user id) of every identity writer ``tag`` writes."""
    return [
        (
            f"user{index % USERS}@example.com",
            str(uuid.uuid5(NAMESPACE, f"org-{tag}-{index}")),
            str(uuid.uuid5(NAMESPACE, f"user-{tag}-{index}")),
        )
        for index in range(count)
    ]


def _wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {path}")
        time.sleep(0.002)


def main(database_url: str, tag: str, count: int, go_file: Path, other: str) -> None:
    with IdentityStore.open(database_url) as store:
        go_file.with_name(f"ready-{tag}").touch()
        _wait_for(go_file)
        started = time.time()
        for index, (email, org, user_id) in enumerate(planned(tag, count)):
            if index % 2:
                # Reads every user and identity, then writes: the read-modify-write path.
                store.apply_csv(f"Email,First Name,aptible:{org}\n{email},Writer {tag},{user_id}\n")
            else:
                store.set_identity(email, "aptible", org, user_id)
                store.upsert_user(email, first_name=f"Writer {tag}")
            if index == 0:
                # Neither finishes before the other has begun, however the OS schedules them.
                go_file.with_name(f"started-{tag}").touch()
                _wait_for(go_file.with_name(f"started-{other}"))
        print(json.dumps({"started": started, "ended": time.time()}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), sys.argv[5])
