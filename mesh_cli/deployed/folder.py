"""A store in a folder: on this machine, or a shared mount every deploying machine sees.

A conditional write holds an exclusive `flock` on the key's folder while it compares the generation and renames a
fully written temporary file into place, so a killed writer leaves the old object whole. The generation is the
file's identity (inode, modification time in nanoseconds, size), read from the same open file as its bytes: every
write makes a new file, so writing the same bytes again is still a new generation.
`flock` serialises writers on one machine and on file systems that honour it across machines (NFSv4,
SMB); a folder on a file system that does not is safe for one deploying machine only (docs/deploying.md).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mesh_cli.core.safe_io import os_error_message
from mesh_cli.core.store import StaleGeneration, StateStore, StoredObject, StoreUnavailable

LOCK_NAME = ".store.lock"
_TEMPORARY = ".incoming-"


def _generation(stat: os.stat_result) -> str:
    return f"{stat.st_ino:x}-{stat.st_mtime_ns:x}-{stat.st_size:x}"


class FolderStore(StateStore):
    """Objects as files under `root` (`<root>/<key>`)."""

    def __init__(self, root: Path, location: str | None = None) -> None:
        self.root = root
        self.location = location or str(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    @contextmanager
    def _locked(self, folder: Path) -> Iterator[None]:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle = os.open(folder / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as exc:
            raise StoreUnavailable(f"state store {self.location}: {os_error_message(exc)}") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)    # closing releases the lock

    def get(self, key: str) -> StoredObject | None:
        try:
            with self._path(key).open("rb") as handle:
                return StoredObject(handle.read(), _generation(os.fstat(handle.fileno())))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreUnavailable(f"state store {self.location}: {os_error_message(exc)}") from exc

    def put(self, key: str, data: bytes, expected: str | None) -> str:
        path = self._path(key)
        with self._locked(path.parent):
            current = self.get(key)
            if (current.generation if current else None) != expected:
                raise StaleGeneration(f"state store {self.location}: {key} changed since it was read")
            temporary = path.with_name(f"{_TEMPORARY}{os.getpid()}-{path.name}")
            try:
                with temporary.open("wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                temporary.replace(path)
                return _generation(path.stat())
            except OSError as exc:
                temporary.unlink(missing_ok=True)
                raise StoreUnavailable(f"state store {self.location}: {os_error_message(exc)}") from exc

    def delete(self, key: str, expected: str) -> None:
        path = self._path(key)
        with self._locked(path.parent):
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
