"""The mesh's domain graph as Airflow DAGs (docs/orchestration.md), built from the graph file `mesh orchestrate
graph` writes, so parsing a DAG file runs no dbt and imports nothing of the mesh but this module.

Each domain is three tasks, each its own `mesh` process (dbt runs in the mesh's own environment, never in
Airflow's): `pull` brings the deployed records of the domain's upstreams from the target's state store (and
fails, naming the upstream, when one has none); `build` builds the domain under its lease and pushes its record;
`publish` reconciles its shares and marks its data products (Airflow assets) updated. A failed domain's
downstream tasks end `upstream_failed`, and the other domains go on.

    from mesh_cli.orchestrate.airflow_dags import mesh_dags

    globals().update(mesh_dags("/opt/mesh/mesh_graph.json", mesh_dir="/opt/mesh",
                               mesh_executable="/opt/mesh/.venv/bin/mesh", mode="mesh"))
"""

from __future__ import annotations

import json
import shlex
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

MODES = ("mesh", "team")
DEFAULT_POOL = "mesh_domains"   # one slot a domain build: how many warehouses build at once


def load_graph(path: Path | str) -> dict[str, Any]:
    """The graph file's content; a file of another format is an error naming the command that rewrites it."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rewrite = "write it again with `mesh orchestrate graph --target TARGET --out FILE`"
    if not isinstance(data, dict) or data.get("format") != 1 or not isinstance(data.get("domains"), dict):
        raise ValueError(f"{path} is not a mesh graph file of format 1: {rewrite}")
    seen: set[str] = set()
    for name, entry in data["domains"].items():   # build order: each domain's tasks are wired as they are made
        if not set(entry["upstreams"]) <= seen:
            raise ValueError(f"{path}: domain {name} comes before its upstreams "
                             f"{', '.join(sorted(set(entry['upstreams']) - seen))}: {rewrite}")
        seen.add(name)
    return data


def _command(executable: str, mesh_dir: str, *args: str) -> str:
    return " ".join(shlex.quote(part) for part in (executable, "--mesh-dir", mesh_dir, *args))


def _domain_tasks(domain: str, entry: dict[str, Any], graph: dict[str, Any], settings: dict[str, Any],
                  assets: dict[str, Any], after: list[Any]) -> Any:
    """The domain's task group, pull >> build >> publish, its pull after the tasks `after` (its upstreams'
    publish tasks, in whole-mesh mode) and publish's outlets its products' assets; returns publish."""
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import TaskGroup

    target, executable, mesh_dir = graph["target"], settings["executable"], settings["mesh_dir"]
    common = {"env": settings["env"], "append_env": True, "retries": settings["retries"],
              "retry_delay": settings["retry_delay"]}
    with TaskGroup(group_id=domain):
        pull = BashOperator(task_id="pull", bash_command=_command(executable, mesh_dir, "state", "pull", domain,
                                                                   "--target", target), **common)
        build = BashOperator(task_id="build", bash_command=_command(
            executable, mesh_dir, "build", domain, "--target", target, "--no-publish", "--jobs", "1"),
            pool=settings["pool"], **common)
        publish = BashOperator(task_id="publish", bash_command=_command(
            executable, mesh_dir, "publish", domain, "--target", target),
            outlets=[assets[uri] for uri in entry["products"].values()], **common)
        # Edges are set while the DAG is small (Airflow hashes the whole DAG on each): one call per task.
        if after:
            pull.set_upstream(after)
        pull >> build >> publish
    return publish


def mesh_dags(graph_path: Path | str, *, mesh_dir: Path | str, mesh_executable: str = "mesh",
              mode: str = "mesh", schedule: Any = None, start_date: datetime | None = None,
              pool: str = DEFAULT_POOL, retries: int = 1, retry_delay: timedelta = timedelta(minutes=2),
              env: dict[str, str] | None = None, dag_prefix: str = "mesh") -> dict[str, Any]:
    """Airflow DAGs for the mesh, by DAG id.

    - `mode="mesh"`: one DAG, a task group per domain, edges from the domain graph, run on `schedule`.
    - `mode="team"`: one DAG per domain; a domain that reads other domains' products runs when all of them were
      updated (their assets), one that reads none on `schedule`.

    `mesh_dir` is the mesh repository on the workers; `mesh_executable` the `mesh` of its own environment;
    `env` is added to each task's environment (e.g. MESH_STORE, the SNOWFLAKE_* variables); `pool` caps the
    domains that build at once (create it: `airflow pools set mesh_domains 4 "domain builds"`).
    """
    from airflow.sdk import DAG, Asset

    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    graph = load_graph(graph_path)
    settings = {"executable": mesh_executable, "mesh_dir": str(mesh_dir), "env": dict(env or {}), "pool": pool,
                "retries": retries, "retry_delay": retry_delay}
    started = start_date or datetime(2026, 1, 1)
    base = f"{dag_prefix}_{graph['mesh']}_{graph['target']}"
    tags = ["mesh", graph["mesh"], graph["target"]]
    domains: dict[str, dict[str, Any]] = graph["domains"]
    assets = {uri: Asset(uri) for entry in domains.values() for uri in [*entry["products"].values(), *entry["reads"]]}
    if mode == "mesh":
        with DAG(dag_id=base, schedule=schedule, start_date=started, catchup=False, tags=tags,
                 doc_md=f"The {graph['mesh']} mesh on {graph['target']}: one task group per domain.") as dag:
            ends: dict[str, Any] = {}
            for name, entry in domains.items():
                ends[name] = _domain_tasks(name, entry, graph, settings, assets,
                                           [ends[upstream] for upstream in entry["upstreams"]])
        return {base: dag}
    dags = {}
    for name, entry in domains.items():
        reads = [assets[uri] for uri in entry["reads"]]
        with DAG(dag_id=f"{base}_{name}", schedule=reads or schedule, start_date=started, catchup=False,
                 tags=[*tags, name], doc_md=f"Domain {name} of the {graph['mesh']} mesh on {graph['target']}: "
                 "runs when the products it reads were updated.") as dag:
            _domain_tasks(name, entry, graph, settings, assets, [])
        dags[dag.dag_id] = dag
    return dags
