"""Errors a user can act on (one line that names the file, the object and the fix), and the exit codes.

Every `mesh` command ends with one of these codes:

- `EXIT_OK` (0): done; a check found nothing at error level.
- `EXIT_FAILED` (1): a run or a check failed: a statement, a load or a dbt build failed, a check found an error.
- `EXIT_BAD_INPUT` (2): bad input: a declaration, a selection, a flag or missing credentials; nothing was applied
  for the input at fault.
- `EXIT_INTERNAL` (3): a bug in mesh itself; the traceback is saved to a file the message names.
- `EXIT_INTERRUPTED` (130): Ctrl-C; one line, no traceback from any process.

The one failure convention: the exception carries its exit code (`MeshError.exit_code`: bad input by default,
`RunFailed` and its `EngineError` for a run that failed), and every result is derived from it: a unit of a command
that ends on an exception keeps `exit_code_of(exc)`, a command exits with `worst` of its units' codes. A warehouse
failure is an `EngineError`, never bad input; an exception that is no `MeshError` is a bug (`EXIT_INTERNAL`),
reported with the line of mesh it was raised at (`raised_at`), in this process or a worker's.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]   # mesh_cli/
_RAISED_IN_WORKER = "raised in a worker process at "

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130                  # Ctrl-C (128 + SIGINT), as shells report it
INTERRUPTED = "interrupted; nothing half-applied; run the same command again"


class MeshError(Exception):
    """Bad input or a broken mesh. The CLI prints the message on one line and exits with `exit_code`."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)


class RunFailed(MeshError):
    """A run failed (a statement, a load, a build, a deploy refused): not the mesh's input, exit 1."""

    exit_code = EXIT_FAILED


class EngineError(RunFailed):
    """A warehouse refused or failed a statement: the engine's driver error, wrapped so that no feature catches a
    driver's own exception type. `code` keeps the driver's error number where it has one (Snowflake's errno)."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        self.code = code
        super().__init__(message)


def exit_code_of(error: BaseException) -> int:
    """The exit code an exception ends a command (or one unit of it) with: its own for a `MeshError`, the
    interrupted code for Ctrl-C, the internal error code for anything else (a bug in mesh).

    >>> exit_code_of(MeshError("domain.yml: unknown key")), exit_code_of(EngineError("SQL compilation error"))
    (2, 1)
    >>> exit_code_of(KeyError("views")), exit_code_of(KeyboardInterrupt())
    (3, 130)
    """
    if isinstance(error, MeshError):
        return error.exit_code
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return EXIT_INTERNAL


def worst(codes: Iterable[int]) -> int:
    """The exit code of a command whose units ended with `codes`: bad input (2) over a failed run (1) over done.

    >>> worst([]), worst([0, 1, 0]), worst([1, 2, 0])
    (0, 1, 2)
    """
    return max(codes, default=EXIT_OK)


def raised_at(error: BaseException) -> str:
    """Where a bug is: `file:line` of the innermost frame of mesh's own code the exception passed through (the file
    relative to the folder holding mesh_cli/), or, for an exception a worker process sent back (its frames stay
    there), the line `note_raised_at` noted in the worker."""
    for note in getattr(error, "__notes__", ()):
        if isinstance(note, str) and note.startswith(_RAISED_IN_WORKER):
            return note.removeprefix(_RAISED_IN_WORKER)
    frame = [frame for frame in traceback.extract_tb(error.__traceback__)
             if Path(frame.filename).resolve().is_relative_to(_PACKAGE)][-1]
    return f"{Path(frame.filename).resolve().relative_to(_PACKAGE.parent)}:{frame.lineno}"


def note_raised_at(error: BaseException) -> None:
    """Note on an exception leaving a worker process where in mesh it was raised: a process pool sends the
    exception back without its frames, and `raised_at` then reads the note (it is in the saved traceback too)."""
    error.add_note(f"{_RAISED_IN_WORKER}{raised_at(error)}")
