"""Writing the mesh's own files safely: atomically (a temporary file renamed into place, removed on any failure),
and every operating-system error (disk full, name too long, permission) turned into one line naming the file
and the fix."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable
from pathlib import Path

from mesh_cli.core.errors import MeshError

_FIXES = {
    errno.ENOSPC: "free disk space and run again",
    errno.EDQUOT: "free disk space (quota) and run again",
    errno.ENAMETOOLONG: "use a shorter domain or file name",
    errno.EACCES: "make the folder writable for this user, or move the state folder (MESH_STATE_DIR)",
    errno.EPERM: "make the folder writable for this user, or move the state folder (MESH_STATE_DIR)",
    errno.EROFS: "the file system is read-only: move the state folder (MESH_STATE_DIR)",
    errno.ENOENT: "the file or folder is missing: rebuild, or check the path",
}


def os_error_message(exc: OSError) -> str:
    """One line for an OSError: what failed on which file, and the fix."""
    where = exc.filename if exc.filename is not None else "file system"
    reason = exc.strerror or str(exc) or type(exc).__name__
    fix = _FIXES.get(exc.errno or 0, "check the path and the disk, then run again")
    return f"{where}: {reason}; {fix}"


def mesh_error(exc: OSError) -> MeshError:
    """The OSError as a MeshError (one line, exit 2)."""
    return MeshError(os_error_message(exc))


def _atomic(path: Path, write: Callable[[Path], object]) -> Path:
    temporary = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(temporary)
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise mesh_error(exc) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file; on failure, no temporary file and the old file stays."""
    return _atomic(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def copy_atomic(source: Path, path: Path) -> Path:
    """Copy `source` to `path` through a temporary file, as `write_text_atomic`."""
    return _atomic(path, lambda temporary: shutil.copyfile(source, temporary))


def set_aside(path: Path) -> Path:
    """Move a state file that cannot be read out of the way (`.<name>.unreadable` beside it, never packed into a
    deployed record), so that the command that writes it can write it again; returns where it went."""
    aside = path.with_name(f".{path.name}.unreadable")
    try:
        path.replace(aside)
    except OSError as exc:
        raise mesh_error(exc) from exc
    return aside
