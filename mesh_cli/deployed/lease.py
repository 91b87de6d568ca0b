"""Leases: one deploy of a domain at a time on a store.

A lease is a small object beside the domain's record (`<target>/<domain>/lease.json`) naming its holder and
when it expires. It is taken and renewed with the store's compare-and-swap, so two deploys racing for it cannot
both win; a deploy that dies stops renewing and its lease expires, after which the next deploy takes it over.
The lease keeps deploys of one domain apart; the record's own conditional write is what guarantees that no
deploy overwrites a record newer than the one it read, even one whose lease ran out.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mesh_cli.core.errors import MeshError
from mesh_cli.core.lock import wait_deadline
from mesh_cli.core.store import StaleGeneration, StateStore, StoredObject

DEFAULT_LEASE_SECONDS = 600.0
_EXPIRED = "1970-01-01T00:00:00+00:00"   # an unreadable lease counts as expired: it is taken over


class LeaseHeld(MeshError):
    """Another deploy holds the domain's lease (exit 2: wait, or run again when it ends)."""


@dataclass(frozen=True)
class Lease:
    key: str
    token: str
    generation: str


def _now() -> datetime:
    return datetime.now(UTC)


def _body(holder: str, token: str, seconds: float) -> bytes:
    return json.dumps({"holder": holder, "token": token, "since": _now().isoformat(timespec="seconds"),
                       "expires_at": (_now() + timedelta(seconds=seconds)).isoformat(timespec="seconds")}).encode()


def _read(found: StoredObject) -> dict[str, str]:
    try:
        data = json.loads(found.data)
        datetime.fromisoformat(str(data["expires_at"]))
    except (ValueError, KeyError, TypeError):
        return {"holder": "unknown (unreadable lease)", "token": "", "since": "?", "expires_at": _EXPIRED}
    return {key: str(value) for key, value in data.items()}


def take_lease(store: StateStore, key: str, what: str, holder: str, seconds: float,
               wait: float | None = None) -> Lease:
    """Take the lease at `key`, waiting up to `wait` seconds (MESH_LOCK_WAIT, default 10) while another live
    deploy holds it; an expired lease is taken over."""
    deadline = wait_deadline(wait)
    token = uuid.uuid4().hex
    while True:
        found = store.get(key)
        current = _read(found) if found else None
        if current is None or datetime.fromisoformat(current["expires_at"]) <= _now():
            try:
                generation = store.put(key, _body(holder, token, seconds), found.generation if found else None)
                return Lease(key, token, generation)
            except StaleGeneration:
                continue       # another deploy took it first: read who
        if time.monotonic() >= deadline:
            raise LeaseHeld(f"{what} is being deployed by {current['holder']} since {current['since']} (lease on "
                            f"{store.location} until {current['expires_at']}): wait for it to end and run again")
        time.sleep(0.5)


def renew_lease(store: StateStore, lease: Lease, holder: str, seconds: float) -> Lease:
    """Extend the lease; raises `StaleGeneration` when it was lost (expired and taken over)."""
    return Lease(lease.key, lease.token, store.put(lease.key, _body(holder, lease.token, seconds), lease.generation))


def release_lease(store: StateStore, lease: Lease) -> None:
    store.delete(lease.key, lease.generation)


@contextmanager
def held_leases(store: StateStore, keys: dict[str, str], holder: str, seconds: float) -> Iterator[dict[str, Lease]]:
    """Hold the leases `{key: what}` (taken in key order, so two deploys never wait on each other in a circle),
    renewed in the background every third of their term, released at the end."""
    leases: dict[str, Lease] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def renew() -> None:
        while not stop.wait(seconds / 3):
            with lock:
                for key, lease in list(leases.items()):
                    try:
                        leases[key] = renew_lease(store, lease, holder, seconds)
                    except MeshError:
                        leases.pop(key)   # lost: the record's conditional write still refuses a stale deploy

    try:
        for key in sorted(keys):
            leases[key] = take_lease(store, key, keys[key], holder, seconds)
        renewer = threading.Thread(target=renew, name="mesh-lease-renewal", daemon=True)
        renewer.start()
        yield leases
    finally:
        stop.set()
        with lock:
            for lease in leases.values():
                with suppress(MeshError):   # unreachable now: the lease expires on its own
                    release_lease(store, lease)
