"""Shared fixtures: copies of the example mesh in temporary folders, built with real dbt and DuckDB."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bench.meshes import example_mesh
from mesh_cli.build import BuildOptions, BuildReport, build
from mesh_cli.cli import main
from mesh_cli.core.config import MeshConfig, load_config

REPO = Path(__file__).resolve().parents[1]
# The example mesh copied without build leftovers: the benchmarks' copy serves the tests too.
copy_mesh = example_mesh


def copy_built_mesh(source: Path, dest: Path) -> Path:
    """A copy of a built mesh, state folder and databases included."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("dbt_packages", "package-lock.yml", "logs"))
    return dest


def run_build(root: Path, *selectors: str, **options: object) -> BuildReport:
    return build(load_config(root), BuildOptions(selectors=selectors, **options))  # type: ignore[arg-type]


def run_cli(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--mesh-dir", str(root), *args], catch_exceptions=False)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MESH_STATE_DIR", "MESH_DUCKDB_DIR", "MESH_TARGET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


@pytest.fixture(scope="session")
def built_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, BuildReport]]:
    """The example mesh, copied and built once for the session on DuckDB."""
    root = copy_mesh(tmp_path_factory.mktemp("built") / "mesh")
    report = run_build(root, jobs=2)
    assert report.ok, [(r.domain, r.status, r.reason, r.failures) for r in report.results]
    yield root, report


@pytest.fixture
def mesh_copy(tmp_path: Path) -> Path:
    """A fresh, unbuilt copy of the example mesh."""
    return copy_mesh(tmp_path / "mesh")


@pytest.fixture
def built_copy(tmp_path: Path, built_mesh: tuple[Path, BuildReport]) -> Path:
    """A private copy of the built example mesh, for tests that change it."""
    return copy_built_mesh(built_mesh[0], tmp_path / "mesh")


def config_of(root: Path) -> MeshConfig:
    return load_config(root)
