"""Reading the build history the state folder keeps (`history/`, gzipped JSON written by `mesh build`)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from mesh_cli.core.errors import MeshError


def read_kept(path: Path, what: str, key: str) -> dict[str, Any]:
    """A gzipped JSON object with `key`; a corrupt one is an error naming the file and the fix."""
    fix = "delete the file, the history goes on with the next build"
    try:
        data = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError, EOFError) as exc:
        raise MeshError(f"cannot read this {what} of the build history ({exc}); {fix}", path=path) from exc
    if not isinstance(data, dict) or key not in data:
        raise MeshError(f"not a {what} (no `{key}`); {fix}", path=path)
    return data
