"""Errors a user can act on: one line that names the file, the object and the fix."""

from __future__ import annotations

from pathlib import Path


class MeshError(Exception):
    """Bad input or a broken mesh. The CLI prints the message on one line and exits with `exit_code`."""

    exit_code = 2

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)
