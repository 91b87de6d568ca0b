"""Errors a user can act on (one line that names the file, the object and the fix), and the exit codes.

Every `mesh` command ends with one of these codes:

- `EXIT_OK` (0): done; a check found nothing at error level.
- `EXIT_FAILED` (1): a run or a check failed: a statement, a load or a dbt build failed, a check found an error.
- `EXIT_BAD_INPUT` (2): bad input: a declaration, a selection, a flag or missing credentials; nothing was applied
  for the input at fault.
- `EXIT_INTERNAL` (3): a bug in mesh itself; the traceback is saved to a file the message names.
- `EXIT_INTERRUPTED` (130): Ctrl-C; one line, no traceback from any process.
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130                  # Ctrl-C (128 + SIGINT), as shells report it
INTERRUPTED = "interrupted; nothing half-applied; run the same command again"


class MeshError(Exception):
    """Bad input or a broken mesh. The CLI prints the message on one line and exits with `exit_code`."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)


class EngineError(MeshError):
    """A warehouse refused or failed a statement: the engine's driver error, wrapped so that no feature catches a
    driver's own exception type. `code` keeps the driver's error number where it has one (Snowflake's errno)."""

    exit_code = 1

    def __init__(self, message: str, *, code: int | None = None) -> None:
        self.code = code
        super().__init__(message)
