"""Shared fixtures: copies of the example mesh in temporary folders, built with real dbt and DuckDB."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mesh_cli.build.run import BuildOptions, BuildReport, build
from mesh_cli.cli import main
from mesh_cli.core.config import load_config
from mesh_cli.core.plan import RecordedState, ShowTooLarge, show_statement
from testkit.mesh_copy import example_mesh

REPO = Path(__file__).resolve().parents[1]
# Each test process keeps its dbt workers from build to build (mesh_cli.dbt.invoke.build_workers): dbt is imported
# once per worker instead of once per build. A test that changes the environment gets fresh workers.
os.environ.setdefault("MESH_KEEP_WORKERS", "1")
# The example mesh copied without build leftovers (tests/mesh_copy.py, which the benchmarks use too).
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


def git(root: Path, *args: str) -> str:
    """Run git in `root` as a committer with a name, and return its output."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def git_mesh(mesh_copy: Path) -> Path:
    """A copy of the example mesh committed to a new git repository on branch main."""
    (mesh_copy / ".gitignore").write_text("target/\ndbt_packages/\nlogs/\n.mesh/\n")
    git(mesh_copy, "init", "-q", "-b", "main")
    git(mesh_copy, "add", ".")
    git(mesh_copy, "commit", "-q", "-m", "deployed")
    return mesh_copy


class TooLargeState(RecordedState):
    """Recorded SHOW output of an account too large for some SHOW statements: Snowflake refuses those."""

    def __init__(self, recorded: dict[str, list[dict[str, Any]]], refused: set[str]) -> None:
        super().__init__(recorded)
        self.refused = refused

    def show(self, kind: str, scope: str | None = None, like: str | None = None) -> list[dict[str, Any]]:
        if show_statement(kind, scope, like) in self.refused:
            self.queries += 1
            raise ShowTooLarge(f"{show_statement(kind, scope, like)}: more than 10,000 rows")
        return super().show(kind, scope, like)
