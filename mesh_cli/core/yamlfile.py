"""Strict YAML reading: every failure names the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mesh_cli.core.errors import MeshError

# libyaml's safe loader when PyYAML was built with it: ten times faster on large files (a domain.yml listing
# thousands of models is read on every parse of its downstream), same results.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path, *, default: Any = None) -> Any:
    """Parse a YAML file; a missing file gives `default` (or an error when no default is given)."""
    if not path.exists():
        if default is not None:
            return default
        raise MeshError("file not found", path=path)
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = str(getattr(exc, "problem", exc))
        lines = text.splitlines()
        if mark is not None and mark.line < len(lines) and "\t" in lines[mark.line]:
            problem = "a tab character: YAML indents with spaces only; replace the tab with spaces"
        raise MeshError(f"invalid YAML{where}: {problem}", path=path) from exc
    return default if data is None else data


def read_mapping(path: Path, *, default: dict[str, Any] | None = None) -> dict[str, Any]:
    """Parse a YAML file whose top level must be a mapping."""
    data = read_yaml(path, default=default)
    if not isinstance(data, dict):
        raise MeshError(f"expected a mapping at the top level, got {type(data).__name__}", path=path)
    return data
