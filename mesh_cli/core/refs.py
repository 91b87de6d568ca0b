"""Static discovery of the refs a dbt project makes, without running dbt's parser.

dbt's own static extractor (`dbt_extractor`, the parser dbt uses for simple models) reads most files; a file it
cannot read (Jinja control flow) is scanned for literal `ref(...)` calls, and a ref whose arguments are not
literals marks the project as dynamic so that callers can fall back to a safe superset.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dbt_extractor import ExtractionError, py_extract_from_source

_LITERAL_REF = re.compile(
    r"""\bref\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])([^'"]+)\3\s*)?"""
    r"""(?:,\s*(?:v|version)\s*=\s*(['"]?)([\w.]+)\5\s*)?\)"""
)
_ANY_REF = re.compile(r"\bref\s*\(")


@dataclass(frozen=True)
class ModelRef:
    """One `ref()` call: `package` is set for the two-argument form."""

    name: str
    package: str | None
    version: str | None
    file: Path


@dataclass(frozen=True)
class ProjectRefs:
    """The refs found in a project, and the files whose refs could not all be read statically."""

    refs: tuple[ModelRef, ...]
    dynamic_files: tuple[Path, ...]


def _regex_refs(text: str, path: Path) -> tuple[list[ModelRef], bool]:
    found = []
    for match in _LITERAL_REF.finditer(text):
        first, second, version = match.group(2), match.group(4), match.group(6)
        if second is None:
            found.append(ModelRef(first, None, version, path))
        else:
            found.append(ModelRef(second, first, version, path))
    dynamic = len(_ANY_REF.findall(text)) > len(found)
    return found, dynamic


def refs_in_sql(text: str, path: Path) -> tuple[list[ModelRef], bool]:
    """The refs of one SQL file, and whether some of them are dynamic."""
    if "ref" not in text:
        return [], False
    try:
        extracted = py_extract_from_source(text)
    except ExtractionError:
        return _regex_refs(text, path)
    refs = [ModelRef(r["name"], r.get("package"),
                     None if r.get("version") is None else str(r["version"]), path)
            for r in extracted["refs"]]
    return refs, False


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    for root in paths:
        if root.is_dir():
            yield from sorted(p for p in root.rglob("*") if p.suffix in {".sql", ".yml", ".yaml"})


def scan_refs(source_paths: Iterable[Path]) -> ProjectRefs:
    """Every ref in the SQL and YAML files under `source_paths`."""
    refs: list[ModelRef] = []
    dynamic: list[Path] = []
    for path in _files(source_paths):
        text = path.read_text(encoding="utf-8")
        found, is_dynamic = refs_in_sql(text, path) if path.suffix == ".sql" else _regex_refs(text, path)
        refs.extend(found)
        if is_dynamic:
            dynamic.append(path)
    return ProjectRefs(tuple(refs), tuple(dynamic))
