"""The meshes the benchmarks run on, and the commands they time: `mesh` and plain `dbt`, each a new process."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.generate import DomainSpec, plan_mesh, write_mesh
from bench.measure import Run, clean_env, run
from mesh_cli.api import DomainGraph, discover_domains, load_config

BIN = Path(sys.executable).parent
MESH = BIN / "mesh"
DBT = BIN / "dbt"


@dataclass(frozen=True)
class Context:
    """Where and how big: `smoke` runs every benchmark on tiny meshes once, to prove it still works."""

    workdir: Path
    smoke: bool = False
    repeat: int = 2
    loom_python: Path | None = None
    airflow_python: Path | None = None   # Airflow's own virtualenv (benchmark 14)
    large: bool = False   # also the largest sizes (10 million governed rows, 50 domains against one project)

    def warm_up(self, root: Path, *args: str) -> None:
        """A first `mesh build` so that measured runs are warm (skipped by the smoke run, to stay quick)."""
        if not self.smoke:
            mesh(root, "build", *args)

    def folder(self, name: str) -> Path:
        path = self.workdir / name
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path


def generated_mesh(dest: Path, domains: int, models: int, public: int, fan_in: int = 2, seed: int = 11,
                   **options: Any) -> tuple[Path, list[DomainSpec]]:
    """A synthetic mesh (see bench.generate) and its plan."""
    specs = plan_mesh(domains, models, public, fan_in, seed, **options)
    return write_mesh(dest, specs, seed=seed), specs


def domain_order(root: Path) -> list[str]:
    """The mesh's domains, upstreams first."""
    domains = discover_domains(load_config(root))
    return DomainGraph(domains).order(domains)


def mesh(root: Path, *args: str, tree_memory: bool = False, env: dict[str, str] | None = None) -> Run:
    """`mesh --mesh-dir ROOT ARGS` as a new process (in `env`, by default the caller's without MESH_ variables)."""
    return run([MESH, "--mesh-dir", root, *args], root, env, tree_memory=tree_memory)


def mesh_build_json(root: Path, *args: str) -> tuple[Run, dict[str, Any]]:
    """`mesh build --json`, with its report."""
    done = mesh(root, "build", "--json", *args)
    return done, json.loads(done.output[done.output.index("{"):])


def plain_env() -> dict[str, str]:
    """What plain dbt inside a domain of `root` runs with: no mesh variable, as an engineer's shell has it (the
    profiles' default finds the DuckDB files at `../../.mesh/duckdb`, as in every generated or example mesh)."""
    return clean_env()


def dbt(project: Path, *args: str, dbt_bin: Path = DBT, env: dict[str, str] | None = None,
        tree_memory: bool = False) -> Run:
    """Plain `dbt ARGS` inside a project, as a new process."""
    return run([dbt_bin, *args], project, env, tree_memory=tree_memory)


def shell_loop(root: Path, domains: list[str]) -> Run:
    """A shell loop of plain `dbt build` per domain, in order: what a team does without the wrapper."""
    script = f'set -e\nfor d in {" ".join(domains)}; do (cd "domains/$d" && "{DBT}" build); done\n'
    return run(["bash", "-c", script], root, plain_env())
