"""The public keys this worker trusts, in memory, so update validators check signatures at once.

Validators must answer synchronously and without I/O, so they cannot ask the identity store. The
worker fills this directory when it starts (its own keys, every person's registered key) and
refreshes people's keys every few seconds; a key added with ``jitflow users add-key`` is known
within that time. Validators never run on replay, so a change here never alters a history; the
grant path checks everything again from the store itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from jitflow.contracts.base import normalize_email
from jitflow.trust.keys import PublicKey


@dataclass(frozen=True)
class PersonKey:
    """A registered key and the one person it belongs to."""

    email: str
    key: PublicKey


class TrustDirectory:
    """People's keys by fingerprint, the worker's keys by id, and whether proofs are required."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._people: dict[str, PersonKey] = {}
        self._worker: dict[str, PublicKey] = {}
        self._front_doors: dict[str, PublicKey] = {}
        self.signed_decisions = True
        """Whether decisions need a person's proof (a worker setting; off only for experiments)."""

    def set_people(self, keys: Iterable[tuple[str, PublicKey]]) -> None:
        people = {key.fingerprint: PersonKey(normalize_email(email), key) for email, key in keys}
        with self._lock:
            self._people = people

    def add_worker_keys(self, keys: Iterable[PublicKey]) -> None:
        """Trust these worker keys too (a worker's current and previous keys)."""
        with self._lock:
            self._worker = {**self._worker, **{key.fingerprint: key for key in keys}}

    def set_front_door_keys(self, keys: Iterable[PublicKey]) -> None:
        """Trust exactly these keys of front doors (``jitflow slack serve``): each vouches for
        the person a verified Slack click came from, whoever that is."""
        front_doors = {key.fingerprint: key for key in keys}
        with self._lock:
            self._front_doors = front_doors

    def front_door_key(self, fingerprint: str) -> PublicKey | None:
        with self._lock:
            return self._front_doors.get(fingerprint)

    def person(self, fingerprint: str) -> PersonKey | None:
        with self._lock:
            return self._people.get(fingerprint)

    def worker_key(self, key_id: str) -> PublicKey | None:
        with self._lock:
            return self._worker.get(key_id)


#: The directory of this worker process (workflow code reads it through a passed-through import).
DIRECTORY = TrustDirectory()
