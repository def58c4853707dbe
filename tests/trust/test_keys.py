"""OpenSSH Ed25519 keys as ``ssh-keygen`` makes them: parsed, fingerprinted, loaded, signed with.

Every key here comes from the real ``ssh-keygen``, and the fingerprints are compared with what
``ssh-keygen -lf`` prints, so a person's ``.pub`` file and their private key work as they are.
"""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ssh_tools import keygen, keygen_fingerprint, keygen_public_of

from jitflow.contracts.trust import DecisionProof, GrantTicket
from jitflow.trust.keys import (
    InvalidKey,
    generate_private_key,
    load_private_key,
    normalize_fingerprint,
    parse_public_key,
    private_key_from_openssh,
    private_key_openssh,
    public_key_of,
    sign,
    write_key_pair,
)
from jitflow.trust.worker_key import WorkerKeyring

pytestmark = pytest.mark.usefixtures("ssh_keygen")

PASSPHRASE = "correct horse battery staple"


def test_public_key_fingerprint_and_comment_are_what_ssh_keygen_says(tmp_path: Path) -> None:
    path = keygen(tmp_path, "id_ed25519", comment="Alice Example <alice@example.com>")
    text = path.with_suffix(".pub").read_text()
    key = parse_public_key(text)
    assert key.fingerprint == keygen_fingerprint(path.with_suffix(".pub"))
    assert key.comment == "Alice Example <alice@example.com>"
    assert key.openssh == " ".join(text.split()[:2])
    assert key.line == text.strip()
    assert parse_public_key(f"\n# my laptop\n   {key.openssh}   \n\n") == parse_public_key(
        key.openssh
    )
    assert parse_public_key(key.openssh).comment == ""


def test_a_private_key_signs_what_its_public_key_verifies(tmp_path: Path) -> None:
    path = keygen(tmp_path, "id_ed25519")
    public = parse_public_key(path.with_suffix(".pub").read_text())
    private = load_private_key(path, passphrase=None)
    assert public_key_of(private).openssh == public.openssh
    assert public_key_of(private, "alice@example.com") == public

    signature = sign(private, b"approve request 42")
    assert len(base64.b64decode(signature)) == 64
    assert public.verify(b"approve request 42", signature)
    assert not public.verify(b"approve request 43", signature)
    other = parse_public_key(keygen(tmp_path, "other").with_suffix(".pub").read_text())
    assert not other.verify(b"approve request 42", signature)
    for garbage in ("", "not base64!", base64.b64encode(b"short").decode(), signature[:-4]):
        assert not public.verify(b"approve request 42", garbage)


def test_an_encrypted_key_asks_for_its_passphrase_once(tmp_path: Path) -> None:
    path = keygen(tmp_path, "id_ed25519", passphrase=PASSPHRASE)
    public = parse_public_key(path.with_suffix(".pub").read_text())
    asked: list[int] = []

    def passphrase() -> str:
        asked.append(1)
        return PASSPHRASE

    private = load_private_key(path, passphrase)
    assert asked == [1]
    assert public.verify(b"x", sign(private, b"x"))

    with pytest.raises(InvalidKey, match="wrong passphrase for") as wrong:
        load_private_key(path, lambda: "guess")
    assert str(path) in str(wrong.value) and "guess" not in str(wrong.value)
    with pytest.raises(InvalidKey, match="is encrypted and no passphrase was given"):
        load_private_key(path, None)


def test_an_unencrypted_key_never_asks_for_a_passphrase(tmp_path: Path) -> None:
    path = keygen(tmp_path, "id_ed25519")

    def passphrase() -> str:
        raise AssertionError("asked for a passphrase the key does not need")

    load_private_key(path, passphrase)


@pytest.mark.parametrize(
    ("key_type", "extra", "shown"),
    [
        ("rsa", ("-b", "2048"), "ssh-rsa"),
        ("ecdsa", ("-b", "256"), "ecdsa-sha2-nistp256"),
    ],
)
def test_other_key_types_are_refused_with_the_way_to_make_an_ed25519_key(
    tmp_path: Path, key_type: str, extra: tuple[str, ...], shown: str
) -> None:
    path = keygen(tmp_path, f"id_{key_type}", key_type=key_type, extra=extra)
    with pytest.raises(InvalidKey) as public_error:
        parse_public_key(path.with_suffix(".pub").read_text())
    assert str(public_error.value) == (
        f"{shown} keys are not accepted: jitflow verifies Ed25519 signatures; "
        "create one with ssh-keygen -t ed25519"
    )
    with pytest.raises(InvalidKey, match=r"holds an? (RSA|ECDSA) key; jitflow signs with Ed25519"):
        load_private_key(path)


def _blob_bytes(*parts: bytes) -> bytes:
    """SSH wire-format strings, one after the other."""
    return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _blob(*parts: bytes) -> str:
    return _b64(_blob_bytes(*parts))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty public key"),
        ("\n  \n# only a comment\n", "empty public key"),
        ("ssh-ed25519", "has no key data"),
        ("ssh-ed25519 !!!! alice", "not valid base64"),
        (
            "ssh-ed25519 " + _b64(_blob_bytes(b"ssh-ed25519") + (32).to_bytes(4, "big") + b"x"),
            "key data of the ssh-ed25519 line is truncated",
        ),
        ("ssh-ed25519 " + _blob(b"ssh-ed25519", b"\x01" * 31), "holds 31 key bytes"),
        ("ssh-ed25519 " + _blob(b"ssh-ed25519", b"\x01" * 32, b"x"), r"and 5 extra"),
        ("ssh-ed25519 " + _blob(b"ssh-rsa", b"\x01" * 32), "its key data is a 'ssh-rsa' key"),
        ("ssh-ed25519-cert-v01@openssh.com AAAA", "is an OpenSSH certificate"),
        ("sk-ssh-ed25519@openssh.com AAAA", "FIDO security keys"),
        ("ssh-dss AAAA", "ssh-dss keys are not accepted"),
        ("hello world", "not an OpenSSH public key.*got a line starting 'hello'"),
        ('from="10.0.0.1" ssh-ed25519 AAAA', "not an OpenSSH public key"),
    ],
)
def test_malformed_public_keys_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidKey, match=message):
        parse_public_key(text)


def test_two_keys_at_once_are_refused(tmp_path: Path) -> None:
    one = keygen(tmp_path, "one").with_suffix(".pub").read_text()
    two = keygen(tmp_path, "two").with_suffix(".pub").read_text()
    with pytest.raises(InvalidKey, match="expected one public key line, found 2"):
        parse_public_key(one + two)


def test_a_private_key_given_as_public_is_refused_without_being_quoted(tmp_path: Path) -> None:
    private_text = keygen(tmp_path, "id_ed25519").read_text()
    with pytest.raises(InvalidKey, match="this is a private key, not a public key") as caught:
        parse_public_key(private_text)
    body = private_text.splitlines()[1]
    assert body[:20] not in str(caught.value)


def test_private_key_file_problems_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidKey, match=r"no private key file at '.*missing'"):
        load_private_key(tmp_path / "missing")
    with pytest.raises(InvalidKey, match="cannot read private key"):
        load_private_key(tmp_path)
    path = keygen(tmp_path, "id_ed25519")
    with pytest.raises(InvalidKey, match=r"id_ed25519\.pub' is a public key: give the private"):
        load_private_key(path.with_suffix(".pub"))
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(InvalidKey, match="is not an OpenSSH private key: expected text starting"):
        load_private_key(tmp_path / "notes.txt")
    pem = keygen(tmp_path, "id_rsa_pem", key_type="rsa", extra=("-b", "2048", "-m", "PEM"))
    with pytest.raises(InvalidKey, match="holds a PEM RSA or ECDSA key"):
        load_private_key(pem)
    text = path.read_text().splitlines()
    (tmp_path / "cut").write_text("\n".join(text[:3] + text[-1:]) + "\n")
    with pytest.raises(InvalidKey, match="is not a readable OpenSSH private key"):
        load_private_key(tmp_path / "cut")


def test_write_key_pair_writes_what_ssh_keygen_reads(tmp_path: Path) -> None:
    path = tmp_path / "jitflow_ed25519"
    public = write_key_pair(path, "erin@example.com")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.with_suffix(".pub").read_text() == f"{public.openssh} erin@example.com\n"
    assert keygen_fingerprint(path.with_suffix(".pub")) == public.fingerprint
    assert keygen_public_of(path) == public.openssh
    assert public_key_of(load_private_key(path)) == parse_public_key(public.openssh)

    before = path.read_bytes()
    with pytest.raises(InvalidKey, match="already exists: jitflow does not overwrite a key"):
        write_key_pair(path, "other@example.com")
    assert path.read_bytes() == before


def test_private_key_openssh_round_trips() -> None:
    key = generate_private_key()
    assert private_key_openssh(key).startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    again = private_key_from_openssh(private_key_openssh(key), "memory")
    assert public_key_of(again) == public_key_of(key)


def test_fingerprints_are_normalised_and_checked() -> None:
    fingerprint = public_key_of(generate_private_key()).fingerprint
    assert normalize_fingerprint(f"  {fingerprint} ") == fingerprint
    assert normalize_fingerprint(fingerprint.removeprefix("SHA256:")) == fingerprint
    for bad in ("", "SHA256:", "MD5:aa:bb", fingerprint + "x"):
        with pytest.raises(InvalidKey, match="invalid key fingerprint"):
            normalize_fingerprint(bad)


def test_signed_contracts_verify_and_any_change_breaks_them(tmp_path: Path) -> None:
    """The primitives fit the contracts: a person signs a DecisionProof, the worker a ticket."""
    path = keygen(tmp_path, "id_ed25519")
    person = load_private_key(path)
    public = parse_public_key(path.with_suffix(".pub").read_text())
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    unsigned = DecisionProof(
        action="approve",
        workflow_id="access/abc",
        run_id="run-1",
        decider="alice@example.com",
        org_id="org",
        role_id="role",
        user_id="user",
        max_duration_seconds=3600,
        issued_at=now,
        expires_at=now + timedelta(minutes=10),
        nonce="n-1",
        key_fingerprint=public.fingerprint,
        signature="",
    )
    proof = unsigned.model_copy(update={"signature": sign(person, unsigned.signed_bytes())})
    assert public.verify(proof.signed_bytes(), proof.signature)
    tampered = proof.model_copy(update={"max_duration_seconds": 7200})
    assert not public.verify(tampered.signed_bytes(), tampered.signature)

    keyring = WorkerKeyring(generate_private_key(), secret_name="in-memory")
    ticket = GrantTicket(
        holder="access/abc",
        holder_run_id="run-1",
        org_id="org",
        role_id="role",
        user_id="user",
        duration_seconds=3600,
        not_after=now + timedelta(hours=1),
        approved_by="alice@example.com",
        issued_at=now,
        key_id=keyring.key_id,
        signature="",
    )
    signed = ticket.model_copy(update={"signature": keyring.sign(ticket.signed_bytes())})
    assert keyring.verify(signed.signed_bytes(), signed.signature, signed.key_id)
    # The same signature over a proof's bytes of the same fields never verifies: domains differ.
    assert not keyring.verify(proof.signed_bytes(), signed.signature, signed.key_id)
    later = signed.model_copy(update={"not_after": now + timedelta(hours=2)})
    assert not keyring.verify(later.signed_bytes(), later.signature, later.key_id)
