"""The mesh's domain graph as Airflow DAGs (docs/orchestration.md), built from the graph file `mesh orchestrate
graph` writes, so parsing a DAG file runs no dbt and imports nothing of the mesh but this module.

Each domain is three tasks, each its own `mesh` process (dbt runs in the mesh's own environment, never in
Airflow's): `pull` brings the deployed records of the domain's upstreams from the target's state store (and
fails, naming the upstream, when one has none); `build` builds the domain under its lease and pushes its record;
`publish` reconciles its shares and marks its data products (Airflow assets) updated. A failed domain's
downstream tasks end `upstream_failed`, and the other domains go on.

With `per_model=True`, the domains the graph file renders per model (`mesh orchestrate graph --per-model`) build
one task a model instead: `prepare` (the deploy's first half, under the domain's lease), a Cosmos `DbtTaskGroup`
(each model and its tests one `dbt build` process of the mesh's environment) and `record` (the second half: the
record pushed when every node succeeded), build/handover.py. Cosmos is imported only then.

    from mesh_cli.orchestrate.airflow_dags import mesh_dags

    globals().update(mesh_dags("/opt/mesh/mesh_graph.json", mesh_dir="/opt/mesh",
                               mesh_executable="/opt/mesh/.venv/bin/mesh", mode="mesh"))
"""

from __future__ import annotations

import json
import shlex
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

MODES = ("mesh", "team")
DEFAULT_POOL = "mesh_domains"   # one slot a domain build: how many warehouses build at once
MESH_DIR = "{mesh_dir}"   # in the graph file's dbt environment of a per-model domain: `mesh_dir` on the workers
RUN_ID = "{{ run_id }}"   # rendered by Airflow: a per-model domain's prepare and record of one run share it


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


def _beside(executable: str, name: str) -> str:
    """The program `name` in the folder of `executable` (`name` on the PATH when it is given by name alone).

    >>> _beside("/opt/mesh/.venv/bin/mesh", "dbt")
    '/opt/mesh/.venv/bin/dbt'
    """
    return str(Path(executable).with_name(name)) if "/" in executable else name


def _command(executable: str, mesh_dir: str, *args: str) -> str:
    return " ".join(shlex.quote(part) for part in (executable, "--mesh-dir", mesh_dir, *args))


def _domain_tasks(domain: str, entry: dict[str, Any], graph: dict[str, Any], settings: dict[str, Any],
                  assets: dict[str, Any], after: list[Any]) -> Any:
    """The domain's task group, pull >> build >> publish (build per model where the settings ask for it and the
    graph file has the domain's manifest), its pull after the tasks `after` (its upstreams' publish tasks, in
    whole-mesh mode) and publish's outlets its products' assets; returns publish."""
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import TaskGroup

    target = graph["target"]
    common = _common(settings)
    with TaskGroup(group_id=domain):
        pull = BashOperator(task_id="pull", bash_command=_mesh(settings, "state", "pull", domain, "--target", target),
                            **common)
        if settings["per_model"] and "models" in entry:
            first, last = _per_model_build(domain, entry["models"], graph, settings)
        else:
            first = last = BashOperator(task_id="build", bash_command=_mesh(
                settings, "build", domain, "--target", target, "--no-publish", "--jobs", "1"),
                pool=settings["pool"], **common)
        publish = BashOperator(task_id="publish", bash_command=_mesh(settings, "publish", domain, "--target", target),
                               outlets=[assets[uri] for uri in entry["products"].values()], **common)
        # Edges are set while the DAG is small (Airflow hashes the whole DAG on each): one call per task.
        if after:
            pull.set_upstream(after)
        pull >> first
        last >> publish
    return publish


def _common(settings: dict[str, Any]) -> dict[str, Any]:
    return {"env": settings["env"], "append_env": True, "retries": settings["retries"],
            "retry_delay": settings["retry_delay"]}


def _mesh(settings: dict[str, Any], *args: str) -> str:
    return _command(settings["executable"], settings["mesh_dir"], *args)


def _per_model_build(domain: str, models: dict[str, Any], graph: dict[str, Any],
                     settings: dict[str, Any]) -> tuple[Any, Any]:
    """prepare >> one Cosmos task a model (rendered from the graph file's manifest of the domain, no dbt at parse
    time) >> record, which runs once prepare succeeded whatever the model tasks did (and not after a failed
    prepare, which released the lease itself); returns prepare and record."""
    from airflow.providers.standard.operators.bash import BashOperator
    from cosmos import (
        DbtTaskGroup,
        ExecutionConfig,
        ExecutionMode,
        InvocationMode,
        LoadMode,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
        TestBehavior,
    )

    target, mesh_dir = graph["target"], settings["mesh_dir"]
    project = Path(mesh_dir) / models["project"]
    env = {**{name: value.replace(MESH_DIR, mesh_dir) for name, value in models["env"].items()}, **settings["env"]}
    prepare = BashOperator(task_id="prepare", bash_command=_mesh(
        settings, "orchestrate", "prepare", domain, "--target", target, "--run-id", RUN_ID),
        pool=settings["pool"], **_common(settings))
    results = str(Path(mesh_dir) / models["results"])
    dbt = DbtTaskGroup(
        group_id="models",
        project_config=ProjectConfig(dbt_project_path=project, manifest_path=settings["graph_dir"] / models["manifest"],
                                     install_dbt_deps=False),
        profile_config=ProfileConfig(profile_name=models["profile"], target_name=target,
                                     profiles_yml_filepath=project / "profiles.yml"),
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.SUBPROCESS,
                                         dbt_executable_path=settings["dbt"]),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD,
                                   emit_datasets=False),
        operator_args={**_common(settings), "env": env, "pool": settings["pool"], "install_deps": False,
                       "callback": keep_run_results, "callback_args": {"into": results}})
    record = BashOperator(task_id="record", bash_command=_mesh(
        settings, "orchestrate", "record", domain, "--target", target, "--run-id", RUN_ID),
        trigger_rule="all_done_min_one_success",
        **{**_common(settings), "retries": 0})   # its first try frees the lease
    prepare >> dbt >> record
    prepare >> record
    return prepare, record


def keep_run_results(project_dir: str, *, into: str, context: Any) -> None:
    """Cosmos's callback after each model task's dbt run (failed ones too), in the temporary project folder it ran
    in: the run's run_results.json goes to the domain's state folder, one file a task, for `record`."""
    results = Path(project_dir) / "target" / "run_results.json"
    if results.is_file():   # none when dbt stopped before running a node: record reports the node as not run
        Path(into).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(results, Path(into) / f"{context['ti'].task_id}.json")


def mesh_dags(graph_path: Path | str, *, mesh_dir: Path | str, mesh_executable: str = "mesh",
              mode: str = "mesh", schedule: Any = None, start_date: datetime | None = None,
              pool: str = DEFAULT_POOL, retries: int = 1, retry_delay: timedelta = timedelta(minutes=2),
              env: dict[str, str] | None = None, dag_prefix: str = "mesh", per_model: bool = False,
              dbt_executable: str | None = None) -> dict[str, Any]:
    """Airflow DAGs for the mesh, by DAG id.

    - `mode="mesh"`: one DAG, a task group per domain, edges from the domain graph, run on `schedule`.
    - `mode="team"`: one DAG per domain; a domain that reads other domains' products runs when all of them were
      updated (their assets), one that reads none on `schedule`.

    `mesh_dir` is the mesh repository on the workers; `mesh_executable` the `mesh` of its own environment;
    `env` is added to each task's environment (e.g. MESH_STORE, the SNOWFLAKE_* variables); `pool` caps the
    domains that build at once (create it: `airflow pools set mesh_domains 4 "domain builds"`).

    `per_model=True` builds the domains the graph file renders per model one task a model (Cosmos must be installed
    in Airflow's environment), their dbt the `dbt_executable` of the mesh's environment (default: the `dbt` beside
    `mesh_executable`); a task of theirs takes a slot of `pool`.
    """
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    graph = load_graph(graph_path)
    if per_model and not any("models" in entry for entry in graph["domains"].values()):
        raise ValueError(f"{graph_path} renders no domain per model: write it again with `mesh orchestrate graph "
                         "--per-model DOMAIN --out FILE`")
    settings = {"executable": mesh_executable, "mesh_dir": str(mesh_dir), "env": dict(env or {}), "pool": pool,
                "retries": retries, "retry_delay": retry_delay, "per_model": per_model,
                "graph_dir": Path(graph_path).parent, "dbt": dbt_executable or _beside(mesh_executable, "dbt")}
    from airflow.sdk import DAG, Asset

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
