"""OpenSSH Ed25519 keys: parse, fingerprint, load, sign, verify, and sign through ssh-agent.

People already have OpenSSH keys and know ``ssh-keygen``, so jitflow uses their format as is:
a public key is one ``ssh-ed25519 AAAA... comment`` line (``~/.ssh/id_ed25519.pub``), known by
the fingerprint ``ssh-keygen -lf`` prints, and a private key is the file ``ssh-keygen`` writes,
passphrase or not. Only Ed25519 is accepted: one algorithm, deterministic signatures, no
parameters to get wrong. A signature is the bare 64-byte Ed25519 signature in base64.

Every refusal is an ``InvalidKey`` whose message says what was wrong and how to fix it. No
message quotes private key text or a passphrase; a public key is named by its type only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_ssh_private_key

ED25519 = "ssh-ed25519"
_ED25519_BYTES = ED25519.encode()
_RAW_KEY_LENGTH = 32
_SIGNATURE_LENGTH = 64
_HOW_TO_CREATE = "create one with ssh-keygen -t ed25519"
_MAX_PUBLIC_KEY_TEXT = 16 * 1024
_MAX_PRIVATE_KEY_FILE = 64 * 1024
_PRIVATE_KEY_MARKER = b"-----BEGIN OPENSSH PRIVATE KEY-----"
_FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}$")

#: Key types people may have, with why each is refused.
_OTHER_KEY_TYPES = {
    "ssh-rsa": "ssh-rsa",
    "ssh-dss": "ssh-dss",
    "ecdsa-sha2-nistp256": "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384": "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521": "ecdsa-sha2-nistp521",
    "ssh-ed448": "ssh-ed448",
}
_SECURITY_KEY_TYPES = ("sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")


class InvalidKey(ValueError):
    """A key (or key file, fingerprint) jitflow cannot use; the message says why and what to do."""


def _string(data: bytes) -> bytes:
    """SSH wire format ``string``: a 4-byte big-endian length, then the bytes."""
    return len(data).to_bytes(4, "big") + data


def _read_string(blob: bytes, offset: int) -> tuple[bytes, int]:
    """The ``string`` at ``offset`` and the offset after it; ValueError when truncated."""
    if offset + 4 > len(blob):
        raise ValueError("truncated")
    length = int.from_bytes(blob[offset : offset + 4], "big")
    end = offset + 4 + length
    if end > len(blob):
        raise ValueError("truncated")
    return blob[offset + 4 : end], end


def _fingerprint(blob: bytes) -> str:
    """What ``ssh-keygen -lf`` prints: SHA256 of the key blob, base64 without padding."""
    digest = hashlib.sha256(blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def normalize_fingerprint(value: str) -> str:
    """``SHA256:<43 base64 chars>`` as ``ssh-keygen -lf`` prints it; the prefix may be omitted."""
    text = value.strip()
    if not text.startswith("SHA256:"):
        text = "SHA256:" + text
    if not _FINGERPRINT.match(text):
        raise InvalidKey(
            f"invalid key fingerprint {value!r}: expected SHA256:... as ssh-keygen -lf prints it"
        )
    return text


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key as OpenSSH writes it.

    ``openssh`` is the normalised ``ssh-ed25519 <base64>`` (no comment), ``comment`` what followed
    it on the line (usually an email), ``fingerprint`` exactly what ``ssh-keygen -lf`` prints.
    """

    openssh: str
    comment: str
    fingerprint: str

    @property
    def blob(self) -> bytes:
        """The SSH wire-format key blob (what the fingerprint hashes and ssh-agent is sent)."""
        return base64.b64decode(self.openssh.split()[1])

    @property
    def line(self) -> str:
        """The ``.pub`` line: the key, then the comment when there is one."""
        return f"{self.openssh} {self.comment}".rstrip()

    @cached_property
    def _key(self) -> Ed25519PublicKey:
        raw = self.blob[-_RAW_KEY_LENGTH:]
        return Ed25519PublicKey.from_public_bytes(raw)

    def verify(self, data: bytes, signature_b64: str) -> bool:
        """Whether ``signature_b64`` is this key's Ed25519 signature of ``data``.

        Anything that is not a valid signature, malformed base64 included, is just False: the
        signature comes from outside, and the caller only needs to know whether to trust it.
        """
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, ValueError, TypeError):
            return False
        if len(signature) != _SIGNATURE_LENGTH:
            return False
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


def _public_key_from_raw(raw: bytes, comment: str) -> PublicKey:
    blob = _string(_ED25519_BYTES) + _string(raw)
    openssh = f"{ED25519} {base64.b64encode(blob).decode('ascii')}"
    return PublicKey(openssh=openssh, comment=comment.strip(), fingerprint=_fingerprint(blob))


def _refuse_key_type(key_type: str) -> InvalidKey:
    if key_type.endswith("-cert-v01@openssh.com"):
        return InvalidKey(
            f"{key_type} is an OpenSSH certificate, which is not accepted: give the plain "
            "public key (the .pub file without -cert)"
        )
    if key_type in _SECURITY_KEY_TYPES:
        return InvalidKey(
            f"{key_type} keys (FIDO security keys) are not accepted: their signatures carry "
            f"fields jitflow does not verify; {_HOW_TO_CREATE} (ssh-agent can hold it)"
        )
    if key_type in _OTHER_KEY_TYPES:
        return InvalidKey(
            f"{key_type} keys are not accepted: jitflow verifies Ed25519 signatures; "
            f"{_HOW_TO_CREATE}"
        )
    return InvalidKey(
        "not an OpenSSH public key: expected one line such as 'ssh-ed25519 AAAA... "
        f"you@example.com' (the .pub file), got a line starting {key_type[:40]!r}"
    )


def parse_public_key(text: str) -> PublicKey:
    """The one ``ssh-ed25519`` key in ``text`` (a ``.pub`` file's content); else InvalidKey.

    Blank lines and ``#`` comment lines are ignored. The key data must be well-formed base64 of
    an Ed25519 key blob whose type agrees with the line's.
    """
    if "PRIVATE KEY" in text:
        raise InvalidKey(
            "this is a private key, not a public key: give the .pub file next to it "
            "(and keep the private key to yourself)"
        )
    if len(text) > _MAX_PUBLIC_KEY_TEXT:
        raise InvalidKey(f"{len(text)} characters is too long for one OpenSSH public key line")
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if not lines:
        raise InvalidKey(
            "empty public key: expected one line such as 'ssh-ed25519 AAAA... you@example.com' "
            "(the .pub file)"
        )
    if len(lines) > 1:
        raise InvalidKey(f"expected one public key line, found {len(lines)}: add keys one by one")
    parts = lines[0].split(None, 2)
    key_type = parts[0]
    if key_type != ED25519:
        raise _refuse_key_type(key_type)
    if len(parts) < 2:
        raise InvalidKey("the ssh-ed25519 line has no key data after the key type")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey("the key data of the ssh-ed25519 line is not valid base64") from None
    try:
        blob_type, offset = _read_string(blob, 0)
        raw, offset = _read_string(blob, offset)
    except ValueError:
        raise InvalidKey("the key data of the ssh-ed25519 line is truncated") from None
    if blob_type != _ED25519_BYTES:
        shown = blob_type.decode("ascii", "replace")[:40]
        raise InvalidKey(f"the line says ssh-ed25519 but its key data is a {shown!r} key")
    if len(raw) != _RAW_KEY_LENGTH or offset != len(blob):
        raise InvalidKey(
            f"the key data of the ssh-ed25519 line holds {len(raw)} key bytes "
            f"(and {len(blob) - offset} extra); an Ed25519 key has {_RAW_KEY_LENGTH}"
        )
    return _public_key_from_raw(raw, parts[2] if len(parts) > 2 else "")


def _key_kind(key: object) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "an RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "an ECDSA"
    if isinstance(key, dsa.DSAPrivateKey):
        return "a DSA"
    return f"a {type(key).__name__}"


def private_key_from_openssh(
    data: bytes, source: str, passphrase: Callable[[], str] | None = None
) -> Ed25519PrivateKey:
    """The Ed25519 key in OpenSSH private key text ``data``; ``source`` names it in messages.

    An encrypted key calls ``passphrase()`` once; without one it is refused. The messages name
    ``source`` and never quote ``data``.
    """
    if _PRIVATE_KEY_MARKER not in data:
        start = data.lstrip()[:60]
        if start.startswith((b"ssh-", b"ecdsa-", b"sk-")):
            raise InvalidKey(
                f"{source} is a public key: give the private key file (the one without .pub)"
            )
        if b"-----BEGIN RSA PRIVATE KEY" in start or b"-----BEGIN EC PRIVATE KEY" in start:
            raise InvalidKey(
                f"{source} holds a PEM RSA or ECDSA key; jitflow signs with Ed25519 keys: {_HOW_TO_CREATE}"
            )
        raise InvalidKey(
            f"{source} is not an OpenSSH private key: expected text starting "
            f"{_PRIVATE_KEY_MARKER.decode()}, as ssh-keygen writes"
        )
    try:
        key = load_ssh_private_key(data, None)
    except TypeError:  # cryptography's way of saying "encrypted, give a password"
        if passphrase is None:
            raise InvalidKey(f"{source} is encrypted and no passphrase was given") from None
        secret = passphrase()
        try:
            key = load_ssh_private_key(data, secret.encode())
        except (ValueError, TypeError):
            raise InvalidKey(f"wrong passphrase for {source}") from None
        except UnsupportedAlgorithm:
            raise InvalidKey(
                f"{source} is encrypted with a cipher jitflow cannot read; re-encrypt it with "
                "ssh-keygen -p -f FILE"
            ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidKey(
            f"{source} is not a readable OpenSSH private key (corrupt, truncated, or a key type "
            f"jitflow does not know); {_HOW_TO_CREATE}"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidKey(
            f"{source} holds {_key_kind(key)} key; jitflow signs with Ed25519 keys: {_HOW_TO_CREATE}"
        )
    return key


def load_private_key(path: Path, passphrase: Callable[[], str] | None = None) -> Ed25519PrivateKey:
    """The Ed25519 private key in ``path``, a file as ``ssh-keygen -t ed25519`` writes it.

    ``passphrase`` is called (once) only when the file is encrypted, so callers can prompt
    lazily. A missing file, a wrong passphrase or another key type raise InvalidKey.
    """
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_PRIVATE_KEY_FILE + 1)
    except FileNotFoundError:
        raise InvalidKey(f"no private key file at {str(path)!r}") from None
    except OSError as error:
        raise InvalidKey(f"cannot read private key {str(path)!r}: {error.strerror}") from None
    if len(data) > _MAX_PRIVATE_KEY_FILE:
        raise InvalidKey(f"{str(path)!r} is too large to be an OpenSSH private key")
    return private_key_from_openssh(data, repr(str(path)), passphrase)


def generate_private_key() -> Ed25519PrivateKey:
    """A new random Ed25519 key."""
    return Ed25519PrivateKey.generate()


def public_key_of(private_key: Ed25519PrivateKey, comment: str = "") -> PublicKey:
    """The public half of ``private_key``, carrying ``comment`` as its ``.pub`` line would."""
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return _public_key_from_raw(raw, comment)


def private_key_openssh(private_key: Ed25519PrivateKey) -> bytes:
    """``private_key`` as an unencrypted OpenSSH private key file (what ``ssh-keygen -N ''`` writes)."""
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )


def sign(private_key: Ed25519PrivateKey, data: bytes) -> str:
    """The base64 Ed25519 signature of ``data`` (``PublicKey.verify`` checks it)."""
    return base64.b64encode(private_key.sign(data)).decode("ascii")


def write_key_pair(
    path: Path, comment: str = "", private_key: Ed25519PrivateKey | None = None
) -> PublicKey:
    """Write ``path`` (mode 0600, unencrypted) and ``path.pub`` as ``ssh-keygen`` does.

    A new key unless ``private_key`` is given. An existing ``path`` is never overwritten: losing
    a key that is registered somewhere is worse than asking for another file name. The private
    file is created with its final mode, so it is never readable by others, even briefly.
    """
    key = private_key if private_key is not None else generate_private_key()
    public = public_key_of(key, comment)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidKey(
            f"{str(path)!r} already exists: jitflow does not overwrite a key"
        ) from None
    except OSError as error:
        raise InvalidKey(f"cannot create {str(path)!r}: {error.strerror}") from None
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), 0o600)  # the umask may have taken bits off, never added any
        file.write(private_key_openssh(key))
    public_path = path.with_name(path.name + ".pub")
    public_path.write_text(public.line + "\n", encoding="ascii")
    public_path.chmod(0o644)
    return public


# ssh-agent ---------------------------------------------------------------------------------

_SSH_AGENT_FAILURE = 5
_SSH2_AGENTC_SIGN_REQUEST = 13
_SSH2_AGENT_SIGN_RESPONSE = 14
_MAX_AGENT_REPLY = 256 * 1024


def _receive_exactly(connection: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = connection.recv(remaining)
        if not chunk:
            raise ConnectionError("ssh-agent closed the connection mid-reply")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _agent_call(socket_path: str, request: bytes, timeout_seconds: float) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout_seconds)
        connection.connect(socket_path)
        connection.sendall(_string(request))
        length = int.from_bytes(_receive_exactly(connection, 4), "big")
        if not 0 < length <= _MAX_AGENT_REPLY:
            raise ConnectionError(f"ssh-agent reply of {length} bytes")
        return _receive_exactly(connection, length)


def sign_with_agent(
    public_key: PublicKey,
    data: bytes,
    *,
    socket_path: str | None = None,
    timeout_seconds: float = 60.0,
) -> str | None:
    """Sign ``data`` with ``public_key``'s private half held by ssh-agent (``$SSH_AUTH_SOCK``).

    This lets keys that never leave the agent (a hardware token, a passphrase typed once into
    ``ssh-add``) sign decisions. Returns the base64 signature, or None when there is no agent,
    the agent does not hold the key, refuses, or answers with something that does not verify:
    the caller then falls back to the key file. ``timeout_seconds`` leaves time for an agent
    that asks the user to confirm (``ssh-add -c``).
    """
    path = socket_path or os.environ.get("SSH_AUTH_SOCK")
    if not path:
        return None
    request = (
        bytes([_SSH2_AGENTC_SIGN_REQUEST])
        + _string(public_key.blob)
        + _string(data)
        + (0).to_bytes(4, "big")  # flags: none apply to Ed25519
    )
    try:
        reply = _agent_call(path, request, timeout_seconds)
    except OSError:  # no socket, agent gone, timeout, short reply
        return None
    if reply[0] != _SSH2_AGENT_SIGN_RESPONSE:  # _SSH_AGENT_FAILURE: not held, or refused
        return None
    try:
        signature_blob, _ = _read_string(reply, 1)
        kind, offset = _read_string(signature_blob, 0)
        raw, _ = _read_string(signature_blob, offset)
    except ValueError:
        return None
    if kind != _ED25519_BYTES or len(raw) != _SIGNATURE_LENGTH:
        return None
    signature = base64.b64encode(raw).decode("ascii")
    return signature if public_key.verify(data, signature) else None
