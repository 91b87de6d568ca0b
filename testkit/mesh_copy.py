"""Copies of a mesh repository without build leftovers: the tests' example mesh, also the benchmarks' and
`make test-floor`'s (`python -m testkit.mesh_copy DEST`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_FILES = ("mesh.yml", "governance.yml", "dbt_project.yml", "packages.yml", "macros", "models",
                 "domains")
LEFTOVERS = shutil.ignore_patterns("target", "dbt_packages", "logs", "package-lock.yml", "*.duckdb*")


def example_mesh(dest: Path, root: Path = REPO) -> Path:
    """A copy of a mesh repository (the repository's example mesh by default), without build leftovers."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in EXAMPLE_FILES:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=LEFTOVERS)
        elif source.is_file():
            shutil.copy(source, dest / name)
    (dest / ".mesh" / "duckdb").mkdir(parents=True, exist_ok=True)
    return dest


PACKAGE_FILES = ("dbt_project.yml", "packages.yml", "macros", "models")


def fixture_mesh(dest: Path, fixture: Path) -> Path:
    """A mesh of tests/fixtures (its mesh.yml and domains) with the repository's data_mesh package beside it, which
    its domains install as `local: ../..`."""
    example_mesh(dest, root=fixture)
    for name in PACKAGE_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=LEFTOVERS)
        else:
            shutil.copy(source, dest / name)
    return dest


if __name__ == "__main__":
    example_mesh(Path(sys.argv[1]))
