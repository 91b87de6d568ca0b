"""A store in a folder: on this machine, or a shared mount every deploying machine sees.

A conditional write holds an exclusive `flock` on the store's lock file while it compares the generation and renames a
fully written temporary file into place, so a killed writer leaves the old object whole. The generation is a
checksum of the object's bytes, as S3's ETag of a simple upload is: it survives a copy or a restore of the folder,
and no two writes of the mesh carry the same bytes (a record names its writer and time, a lease its token).
`flock` serialises writers on one machine and on file systems that honour it across machines (NFSv4,
SMB); a folder on a file system that does not is safe for one deploying machine only (docs/deploying.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mesh_cli.core.safe_io import os_error_message
from mesh_cli.core.store import StaleGeneration, StateStore, StoredObject, StoreUnavailable

LOCK_NAME = ".store.lock"
_TEMPORARY = ".incoming-"


def generation_of(data: bytes) -> str:
    """The generation of an object in a folder: a checksum of its bytes."""
    return hashlib.sha256(data).hexdigest()[:32]


class FolderStore(StateStore):
    """Objects as files under `root` (`<root>/<key>`)."""

    def __init__(self, root: Path, location: str | None = None) -> None:
        self.root = root
        self.location = location or str(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The store's write lock: one file at its root, held for a compare and a rename (milliseconds)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = os.open(self.root / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as exc:
            raise StoreUnavailable(f"state store {self.location}: {os_error_message(exc)}") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)    # closing releases the lock

    def get(self, key: str) -> StoredObject | None:
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreUnavailable(f"state store {self.location}: {os_error_message(exc)}") from exc
        return StoredObject(data, generation_of(data))

    def head(self, key: str) -> str | None:
        found = self.get(key)    # a checksum needs the bytes; a local read is what a HEAD costs elsewhere
        return found.generation if found else None

    def put(self, key: str, data: bytes, expected: str | None) -> str:
        path = self._path(key)
        with self._locked():
            current = self.get(key)
            if (current.generation if current else None) != expected:
                raise StaleGeneration(f"state store {self.location}: {key} changed since it was read")
            temporary = path.with_name(f"{_TEMPORARY}{os.getpid()}-{path.name}")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with temporary.open("wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                temporary.replace(path)
                return generation_of(data)
            except OSError as exc:
                temporary.unlink(missing_ok=True)
                raise StoreUnavailable(f"state store {self.location}: {os_error_message(exc)}") from exc

    def delete(self, key: str, expected: str) -> None:
        path = self._path(key)
        with self._locked():
            current = self.get(key)
            if current is not None and current.generation == expected:
                path.unlink(missing_ok=True)

    def keys(self, prefix: str) -> list[str]:
        base = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not base.is_dir():
            return []
        found = []
        for parent, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if not name.startswith("."):
                    found.append(Path(parent, name).relative_to(self.root).as_posix())
        return sorted(found)
