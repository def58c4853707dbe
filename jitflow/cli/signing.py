"""Signing decisions from the terminal: which key, and the proof for a live request.

The key is ``--key``, else ``JITFLOW_SIGNING_KEY``, else ``~/.ssh/id_ed25519`` (an OpenSSH
Ed25519 private key; its passphrase is asked for when it has one). The proof is made from what
the request says about itself (its first run, role, user and length), which the decider signs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from jitflow.cli.outcome import CommandError
from jitflow.trust.keys import InvalidKey, load_private_key, public_key_of, sign
from jitflow.trust.signing import SignFunction

SIGNING_KEY_ENV = "JITFLOW_SIGNING_KEY"
DEFAULT_KEY = Path("~/.ssh/id_ed25519")

key_option = click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Your Ed25519 private key (default: ${SIGNING_KEY_ENV}, else ~/.ssh/id_ed25519).",
)


def signer(key_path: Path | None) -> tuple[str, SignFunction]:
    """The key's fingerprint and a function that signs with it; a clear error otherwise."""
    path = key_path or Path(os.environ.get(SIGNING_KEY_ENV) or DEFAULT_KEY).expanduser()
    if not path.is_file():
        raise CommandError(
            f"no signing key at {path}: pass --key, set {SIGNING_KEY_ENV}, or create one with "
            "`ssh-keygen -t ed25519` and register its .pub with `jitflow users add-key EMAIL FILE`"
        )
    try:
        private = load_private_key(
            path, passphrase=lambda: click.prompt(f"Passphrase for {path}", hide_input=True)
        )
    except InvalidKey as error:
        raise CommandError(str(error)) from None
    return public_key_of(private).fingerprint, lambda data: sign(private, data)


def body_json(body: Any) -> str:
    """The JSON to pass as ``temporal workflow update execute --input``."""
    text: str = body.model_dump_json(exclude_none=True)
    return text
