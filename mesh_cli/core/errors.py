"""Errors a user can act on: one line that names the file, the object and the fix."""

from __future__ import annotations

from pathlib import Path


class MeshError(Exception):
    """Bad input or a broken mesh. The CLI prints the message on one line and exits with `exit_code`."""

    exit_code = 2

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
