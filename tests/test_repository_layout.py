"""The README's "Repository layout" matches the tree: every committed top-level entry, every package of mesh_cli/
and every page of docs/ is named there, and every path and file name it names exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

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


# a file name in an entry's text: `cli.py`, `floor.txt`, `docs/dbt-package.md`, `.ci/run` (not `plan/apply`)
_FILE_NAME = re.compile(r"(?<![\w./-])((?:\.?[\w<>-]+/)*\.?[\w<>-]+\.(?:py|ya?ml|md|txt|toml|json|csv|sql)|\.ci/run)\b")


def missing_files(entries: dict[str, str]) -> list[str]:
    """Each file name an entry names that exists neither in a folder its first column names (`<domain>`: in some
    domain) nor from the repository's root."""
    missing = []
    for key, text in entries.items():
        folders = ["", *(name.strip() for name in key.split(",") if name.strip().endswith("/"))]
        for name in _FILE_NAME.findall(f"{key} {text}"):
            if not any(next(REPO.glob(f"{folder}{name}".replace("<domain>", "*")), None) for folder in folders):
                missing.append(f"{key.strip(', ')}: {name}")
    return missing


def test_every_file_name_an_entry_lists_exists() -> None:
    assert not missing_files(_layout()), f"named in the README's layout but missing: {missing_files(_layout())}"


@pytest.mark.parametrize(("entry", "added", "missing"), [
    ("mesh_cli/", " dbt_invoke.py, resolver.py", ["mesh_cli/: dbt_invoke.py", "mesh_cli/: resolver.py"]),
    ("scripts/", " generate_exemple_data.py", ["scripts/: generate_exemple_data.py"]),
    ("constraints/", " ceiling.txt", ["constraints/: ceiling.txt"]),
    ("domains/<domain>/", " domains.yml", ["domains/<domain>/: domains.yml"]),
])
def test_a_file_name_the_tree_lacks_is_found(entry: str, added: str, missing: list[str]) -> None:
    entries = _layout()
    entries[entry] += added
    assert missing_files(entries) == missing
