"""Signing keys for the example users, so the printed commands work as pasted.

``jitflow dev`` makes one Ed25519 key pair per example user under ``<state dir>/keys/`` (once;
later runs reuse them) and registers each public key in the dev stack's identity store, exactly
as a person would with ``ssh-keygen -t ed25519`` and ``jitflow users add-key``.
"""

from __future__ import annotations

from pathlib import Path

from jitflow.identity import IdentityStore
from jitflow.trust.keys import parse_public_key, write_key_pair

#: The example organization's people (see examples/aptible): who requests and who approves.
EXAMPLE_PEOPLE = ("alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com")


def key_path(state_dir: Path, email: str) -> Path:
    """Where the example user's private key lives: ``<state dir>/keys/<name>``."""
    return state_dir / "keys" / email.split("@", 1)[0]


def ensure_example_keys(state_dir: Path, database_url: str) -> list[Path]:
    """Create any missing example key and register every one; returns the private key paths."""
    paths: list[Path] = []
    with IdentityStore.open(database_url) as store:
        for email in EXAMPLE_PEOPLE:
            path = key_path(state_dir, email)
            path.parent.mkdir(parents=True, exist_ok=True)
            public_file = path.with_name(path.name + ".pub")
            if not path.exists():
                write_key_pair(path, comment=email)
            store.add_key(email, parse_public_key(public_file.read_text(encoding="ascii")).line)
            paths.append(path)
    return paths
