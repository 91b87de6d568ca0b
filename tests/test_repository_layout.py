"""The README's "Repository layout" matches the tree: every committed top-level entry, every package of mesh_cli/
and every page of docs/ is named there, and every path it names exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _layout() -> dict[str, str]:
    """The layout block: each entry's first-column text -> its whole text (continuation lines included)."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("## Repository layout\n\n```\n", 1)[1].split("```", 1)[0]
    entries: dict[str, str] = {}
    key = ""
    for line in block.splitlines():
        if line[:1].strip():
            key = line[:27].strip()
            entries[key] = line[27:]
        else:
            entries[key] += " " + line.strip()
    return entries


def _named(entries: dict[str, str]) -> set[str]:
    """The top-level names the first column names: `dbt_project.yml, macros/,` -> {dbt_project.yml, macros}."""
    return {name.strip().split("/")[0] for key in entries for name in key.split(",") if name.strip()}


def test_every_committed_top_level_entry_is_in_the_layout() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    top = {path.split("/")[0] for path in tracked.splitlines()} - {".gitignore", "README.md"}
    named = _named(_layout())
    assert top <= named, f"not in the README's layout: {sorted(top - named)}"
    missing = sorted(name for name in named if not (REPO / name).exists())
    assert not missing, f"named in the README's layout but missing: {missing}"


def test_every_package_of_mesh_cli_and_every_doc_page_is_named() -> None:
    entries = _layout()
    packages = {path.name for path in (REPO / "mesh_cli").iterdir() if (path / "__init__.py").is_file()}
    described = set(re.findall(r"(\w+)/(?=[\s,;)]|$)", entries["mesh_cli/"]))   # `core/`, not `plan/apply`
    assert packages <= described, f"mesh_cli packages missing from the layout: {sorted(packages - described)}"
    assert described <= packages | {"mesh_cli"}, f"named but no package: {sorted(described - packages)}"
    pages = {path.stem for path in (REPO / "docs").glob("*.md")}
    words = set(re.findall(r"[\w-]+", entries["docs/"]))
    assert pages <= words, f"docs pages missing from the layout: {sorted(pages - words)}"
