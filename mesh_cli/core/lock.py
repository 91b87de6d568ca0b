"""One lock per state folder: every command that writes (`mesh build`, publish, ingest, provision) takes it; a
second one on the same state waits briefly, then says who holds it (pid, command, since; exit 2) instead of
failing on DuckDB's raw lock error half-way. `mesh query` waits for a writer the same way, then names it."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from mesh_cli.core.errors import EXIT_BAD_INPUT, MeshError
from mesh_cli.core.safe_io import mesh_error

LOCK_FILE = "mesh.lock"
WAIT_ENV = "MESH_LOCK_WAIT"        # seconds a second command waits for the lock (default 10)


class StateLocked(MeshError):
    """Another mesh command holds the state folder."""

    exit_code = EXIT_BAD_INPUT


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(path: Path) -> dict[str, object] | None:
    """Who holds the lock, or None when it is free or held by a process that is gone (a stale lock)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pid = int(data["pid"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return {"pid": "?", "command": "unknown (unreadable lock file)", "since": "?"}
    return data if _alive(pid) else None


def _try_take(path: Path, command: str) -> bool:
    record = json.dumps({"pid": os.getpid(), "command": command,
                         "since": datetime.now(UTC).isoformat(timespec="seconds")})
    try:
        handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        if _holder(path) is None:        # stale: its process is gone
            path.unlink(missing_ok=True)
            return _try_take(path, command)
        return False
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(record)
    return True


def wait_deadline(wait: float | None) -> float:
    """The monotonic time a wait of `wait` seconds ends (MESH_LOCK_WAIT, default 10, when not given)."""
    return time.monotonic() + (float(os.environ.get(WAIT_ENV, "10")) if wait is None else wait)


def _in_use(path: Path, state_dir: Path, fix: str) -> StateLocked:
    holder = _holder(path) or {}
    return StateLocked(f"the state folder is in use by pid {holder.get('pid', '?')} ({holder.get('command', '?')}, "
                       f"since {holder.get('since', '?')}): {fix}, or delete {path} if that process is gone",
                       path=state_dir)


def wait_for_writers(state_dir: Path, wait: float | None = None) -> None:
    """Wait up to `wait` seconds (MESH_LOCK_WAIT, default 10) for the command holding the state folder's lock to
    end (a reader of the databases it writes), then name it."""
    path = state_dir / LOCK_FILE
    deadline = wait_deadline(wait)
    while _holder(path) is not None:
        if time.monotonic() >= deadline:
            raise _in_use(path, state_dir, "run the query when it ends")
        time.sleep(0.2)


@contextmanager
def state_lock(state_dir: Path, command: str, wait: float | None = None) -> Iterator[None]:
    """Hold the state folder's lock for the block; wait up to `wait` seconds (MESH_LOCK_WAIT, default 10)."""
    path = state_dir / LOCK_FILE
    deadline = wait_deadline(wait)
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        while not _try_take(path, command):
            if time.monotonic() >= deadline:
                raise _in_use(path, state_dir, "wait for it to end")
            time.sleep(0.2)
    except OSError as exc:
        raise mesh_error(exc) from exc
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
