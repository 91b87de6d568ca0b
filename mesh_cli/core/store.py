"""The state store: where each domain's deployed record lives, shared by every machine that deploys (DESIGN.md,
"Production: deployed state and orchestration").

A store is a flat set of keyed objects with four operations: read, write, list, and a compare-and-swap that
never overwrites an object newer than the one the writer read. Each backend (the local folder, object storage,
a Snowflake stage) implements them with its own atomic primitive; what a record holds and how deploys take
leases is written once, above the backends (`mesh_cli/deployed/`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from mesh_cli.core.errors import MeshError, RunFailed

STORE_ENV = "MESH_STORE"                   # the store of the target for one command (docs/deploying.md)
LEASE_SECONDS_ENV = "MESH_LEASE_SECONDS"   # a deploy's lease term


@dataclass(frozen=True)
class StoredObject:
    """An object as read: its bytes and its generation, the opaque token a conditional write compares."""

    data: bytes
    generation: str


class StaleGeneration(RunFailed):
    """A conditional write found a newer object than the one the writer read (or one where it expected none)."""


class StoreUnavailable(MeshError):
    """The store cannot be reached, read or written (exit 2: a setting or a permission to fix)."""


class StateStore(ABC):
    """A store of objects keyed by `/`-separated paths."""

    location: str     # how the user wrote it, for messages

    @abstractmethod
    def get(self, key: str) -> StoredObject | None:
        """The object at `key`, or None when there is none."""

    @abstractmethod
    def head(self, key: str) -> str | None:
        """The generation of the object at `key`, without reading it (None when there is none)."""

    @abstractmethod
    def put(self, key: str, data: bytes, expected: str | None) -> str:
        """Write `data` at `key` only if its generation is still `expected` (None: only if there is no object);
        returns the new generation, raises `StaleGeneration` otherwise. A write is whole or absent: a writer
        killed midway leaves the previous object readable."""

    @abstractmethod
    def delete(self, key: str, expected: str) -> None:
        """Remove the object at `key` if its generation is still `expected` (else leave it)."""

    @abstractmethod
    def keys(self, prefix: str) -> list[str]:
        """The keys in the folder `prefix` and below (`prod/` lists `prod/orders/record.tar.gz`), sorted."""
