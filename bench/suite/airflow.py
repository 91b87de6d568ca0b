"""14. Airflow, in Airflow 3's own virtualenv (`--airflow-python`, which `make bench` passes): the orchestrated run
of a generated 12-domain mesh (whole-mesh DAG, LocalExecutor with 2 workers, on a PostgreSQL metadata database the
benchmark starts and stops: bench.postgres) against `mesh build --jobs 2` of the same mesh, and parsing the DAG file
of a generated mesh of 50 and 500 domains (both modes) against importing Airflow in the same process. The graph file
is written beforehand (`mesh orchestrate graph`): no dbt in a parse."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from bench.figures import Figure
from bench.measure import clean_env, median
from bench.meshes import MESH, Context, generated_mesh, mesh, mesh_build_json
from bench.postgres import PostgresMissing, PostgresServer, postgres_server
from testkit.mesh_copy import REPO

NAME = "14. airflow"
# In Airflow's python: import Airflow (what any DAG file pays), then run the DAG file alone; both in seconds.
_PARSE = """
import runpy, sys, time
started = time.perf_counter()
import airflow.sdk, airflow.providers.standard.operators.bash
imported = time.perf_counter()
runpy.run_path(sys.argv[1])
print(imported - started, time.perf_counter() - imported)
"""
_DAG_FILE = """from mesh_cli.orchestrate.airflow_dags import mesh_dags
globals().update(mesh_dags({graph!r}, mesh_dir="/opt/mesh", mode={mode!r}))
"""
_WORKERS = 2   # the LocalExecutor's worker processes, as `mesh build --jobs 2` has two
_RUN_TARGET = "≤ 1.5x on 2 cores"
_DRIVERS = "import psycopg2, asyncpg"   # Airflow's PostgreSQL drivers (its sync and async engines)


def _airflow_env(**extra: str) -> dict[str, str]:
    return clean_env(PYTHONPATH=str(REPO), AIRFLOW__CORE__LOAD_EXAMPLES="False", **extra)


def _graph(root: Path) -> Path:
    mesh(root, "orchestrate", "graph", "--out", str(root / "graph.json"))
    return root / "graph.json"


def _parse_seconds(python: Path, graph: Path, mode: str, repeat: int) -> tuple[float, float]:
    """Median seconds of importing Airflow, and of the DAG file after it, each run a new process."""
    dag_file = graph.with_name(f"dags_{mode}.py")
    dag_file.write_text(_DAG_FILE.format(graph=str(graph), mode=mode))
    runs = [[float(x) for x in subprocess.run(
        [str(python), "-c", _PARSE, str(dag_file)], check=True, capture_output=True, text=True,
        env=_airflow_env(AIRFLOW_HOME=str(graph.parent / "airflow"))).stdout.split()[-2:]] for _ in range(repeat)]
    return median([r[0] for r in runs]), median([r[1] for r in runs])


def _parse_figures(ctx: Context, python: Path) -> list[Figure]:
    figures = []
    for size in (3,) if ctx.smoke else (50, 500):
        root, _ = generated_mesh(ctx.folder(f"airflow-{size}") / "mesh", domains=size, models=2, public=1)
        graph = _graph(root)
        for mode in ("mesh", "team"):
            imported, parsed = _parse_seconds(python, graph, mode, ctx.repeat)
            dags = size if mode == "team" else 1
            figures.append(Figure(
                NAME, f"DAG file parse, {size} domains, {mode} mode ({dags} DAG{'s' if dags > 1 else ''})",
                parsed, "s", imported, "importing Airflow (airflow.sdk and the BashOperator)", "< 1 s",
                target_value=1.0,
                note=("Seconds to run the DAG file in Airflow 3's own virtualenv after Airflow is imported, median "
                      "of new processes: the graph file read and every DAG, task group and task built (three "
                      "BashOperator tasks a domain). No dbt and nothing of the mesh but the DAG factory is "
                      "imported; the baseline is the import of Airflow in the same process.")))
    return figures


def _orchestrated_run(python: Path, root: Path, graph: Path, home: Path, database: str) -> dict[str, Any]:
    """One run of the whole-mesh DAG with the LocalExecutor (tests/airflow_run.py) on a new, empty metadata
    database: its `seconds`, from the run's start to its last task's end (Airflow's start, its database and its API
    server come before), and each task's `task_seconds`."""
    done = subprocess.run([str(python), str(REPO / "tests" / "airflow_run.py"), str(graph), str(root), str(MESH),
                           "mesh", str(_WORKERS)], capture_output=True, text=True,
                          env=_airflow_env(AIRFLOW_HOME=str(home), AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=database))
    if done.returncode != 0:
        raise RuntimeError(f"the orchestrated run failed:\n{(done.stdout + done.stderr)[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    failed = {task: state for run in result["states"].values() for task, state in run.items() if state != "success"}
    if failed:
        raise RuntimeError(f"the orchestrated run's tasks did not all succeed: {failed}")
    return result


def _task_medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    """The median seconds of each kind of task (pull, build, publish) over the runs' tasks."""
    kinds: dict[str, list[float]] = {}
    for run in runs:
        for task, seconds in run["task_seconds"].items():
            kinds.setdefault(task.rsplit(".", 1)[1], []).append(seconds)
    return {kind: round(median(values), 2) for kind, values in sorted(kinds.items())}


def _busy_share(run: dict[str, Any]) -> float:
    """The share of the run's wall time its workers spent running tasks (their summed durations over the workers'
    time): what is left is Airflow's own time between tasks."""
    return float(sum(run["task_seconds"].values())) / (_WORKERS * run["seconds"])


def _run_name(domains: int) -> str:
    return f"orchestrated run, {domains} domains in 3 chains (whole-mesh DAG, {_WORKERS} workers)"


def _run_figure(ctx: Context, python: Path, postgres: PostgresServer) -> Figure:
    domains, models, public = (3, 2, 1) if ctx.smoke else (12, 8, 3)
    folder = ctx.folder("airflow-run")
    root, _ = generated_mesh(folder / "mesh", domains=domains, models=models, public=public, fan_in=1, chains=3,
                             layers=domains // 3)
    ctx.warm_up(root, "--jobs", "2")
    graph = _graph(root)
    built, domain_seconds, runs = [], [], []
    for attempt in range(ctx.repeat):
        done, report = mesh_build_json(root, "--jobs", "2")
        built.append(done.seconds)
        domain_seconds += [domain["seconds"] for domain in report["domains"]]
        runs.append(_orchestrated_run(python, root, graph, folder / f"airflow-{attempt}", postgres.database()))
    tasks = _task_medians(runs)
    busy = median([_busy_share(run) for run in runs])
    return Figure(
        NAME, _run_name(domains),
        median([run["seconds"] for run in runs]), "s", median(built), "`mesh build --jobs 2` of the same mesh",
        _RUN_TARGET,
        target_ratio=1.5,
        note=("Wall time of the whole-mesh DAG's run with `dag.test(use_executor=True)`: Airflow's LocalExecutor "
              f"with {_WORKERS} worker processes and its API server, on a PostgreSQL metadata database started for "
              "the benchmark (Airflow runs tasks in parallel only on PostgreSQL or MySQL; its default SQLite takes "
              "one writer at a time), each domain "
              "three tasks (`mesh state pull`, `mesh build DOMAIN --no-publish --jobs 1`, `mesh publish`), each a "
              "`mesh` process of its own; against `mesh build --jobs 2` of the same built mesh, whole process, "
              "median of the runs, alternated. Airflow's processes share the 2 cores with the builds. Median "
              f"task: pull {tasks.get('pull', 0):.1f} s, build {tasks.get('build', 0):.1f} s, publish "
              f"{tasks.get('publish', 0):.1f} s; a domain inside `mesh build --jobs 2` took "
              f"{median(domain_seconds):.1f} s (its two dbt workers import dbt once; each build task is a new "
              "process that imports dbt and parses its domain). The two workers were running tasks "
              f"{busy:.0%} of the run's wall time: the rest is Airflow between tasks (its scheduling loop and "
              "each task's start)."),
        details={"orchestrated_runs": [run["seconds"] for run in runs], "mesh_build_runs": built,
                 "median_task_seconds": tasks, "median_domain_seconds_in_mesh_build": median(domain_seconds),
                 "median_worker_busy_share": round(busy, 3)})


def _measured_run(ctx: Context, python: Path) -> Figure:
    """The orchestrated run's figure, or, without PostgreSQL or its drivers in Airflow's virtualenv, one line
    saying so (never the LocalExecutor on SQLite, which Airflow does not support)."""
    if subprocess.run([str(python), "-c", _DRIVERS], capture_output=True).returncode != 0:
        reason = "Airflow's virtualenv lacks the PostgreSQL drivers (make it again: `make .venv-airflow/.installed`)"
    else:
        try:
            with postgres_server() as postgres:
                return _run_figure(ctx, python, postgres)
        except PostgresMissing as missing:
            reason = str(missing)
    return Figure(NAME, _run_name(12), None, "s", None, "", _RUN_TARGET, note=f"not measured: {reason}")


def run(ctx: Context) -> list[Figure]:
    if ctx.airflow_python is None:
        note = "not measured: no Airflow virtualenv (`make bench` makes one; or --airflow-python)"
        return [Figure(NAME, name, None, "s", None, "", target, note=note) for name, target in (
            (_run_name(12), _RUN_TARGET), ("DAG file parse, 50 and 500 domains", "< 1 s"))]
    return [_measured_run(ctx, ctx.airflow_python), *_parse_figures(ctx, ctx.airflow_python)]
