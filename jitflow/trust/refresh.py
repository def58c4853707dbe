"""Keeping this worker's ``TrustDirectory`` in line with the identity store's registered keys."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Protocol

from jitflow.trust.directory import TrustDirectory
from jitflow.trust.keys import InvalidKey, PublicKey, parse_public_key

log = logging.getLogger("jitflow.trust")

#: How often people's keys are read again: a key added or removed counts within this time.
REFRESH_SECONDS = 2.0


class RegisteredKey(Protocol):
    @property
    def email(self) -> str: ...
    @property
    def public_key(self) -> str: ...


class KeyStore(Protocol):
    def all_keys(self) -> Iterable[RegisteredKey]: ...


def load_people(directory: TrustDirectory, store: KeyStore) -> int:
    """Replace the directory's people with the store's keys; returns how many there are."""
    people: list[tuple[str, PublicKey]] = []
    for record in store.all_keys():
        try:
            people.append((record.email, parse_public_key(record.public_key)))
        except InvalidKey as error:  # stored keys were checked on the way in; never fatal here
            log.warning("ignoring the stored key of %s: %s", record.email, error)
    directory.set_people(people)
    return len(people)


async def keep_people_fresh(
    directory: TrustDirectory, store: KeyStore, interval: float = REFRESH_SECONDS
) -> None:
    """Reload people's keys every ``interval`` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(load_people, directory, store)
        except Exception as error:  # a store hiccup must not stop the worker; try again soon
            log.warning("could not refresh registered keys: %s", error)
