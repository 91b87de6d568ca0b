"""Run the mesh's Airflow DAGs with `dag.test()`, inside Airflow's own virtualenv (tests/test_airflow.py and
benchmark 14 start this script there with AIRFLOW_HOME set): it prepares Airflow's metadata database (its default
SQLite, or the one AIRFLOW__DATABASE__SQL_ALCHEMY_CONN names: benchmark 14's PostgreSQL), writes a DAG file into
the DAGs folder and loads it as Airflow's DAG processor does (a DagBag), runs the DAGs and prints every task's final
state, the runs in order, the asset events, and the seconds the runs and each task took, as JSON.

By default `dag.test()` runs one task at a time in this process (each task's `mesh` command a process of its
own). With a PARALLELISM, the tasks go to Airflow's LocalExecutor with that many worker processes, which report
to an Airflow API server this script starts beside it, as on a real deployment.

Per-team DAGs run as the scheduler would start them: a DAG that reads no product first (its `schedule`), then, round
after round, every DAG all of whose read products have an asset event in the metadata database (the events the
`publish` tasks' outlets emitted); a DAG whose products never all arrive is not run.

With AIRFLOW_RUN_PER_MODEL=1 the DAGs build the domains the graph file renders per model one task a model
(Cosmos).

    python tests/airflow_run.py GRAPH MESH_DIR MESH_EXECUTABLE MODE [PARALLELISM]
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DAG_FILE = '''\
from mesh_cli.orchestrate.airflow_dags import mesh_dags

globals().update(mesh_dags({graph!r}, mesh_dir={mesh_dir!r}, mesh_executable={executable!r}, mode={mode!r},
                           retries=0, per_model={per_model!r}))
'''


def _reads(dag: Any) -> list[str]:
    """The asset URIs an asset-scheduled DAG waits for (its `AssetAll` condition), none for any other."""
    condition = getattr(dag.timetable, "asset_condition", None)
    return sorted(asset.uri for asset in getattr(condition, "objects", ()))


def _asset_events() -> dict[str, str]:
    """Each asset with an event in the metadata database, and the task that emitted it."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(select(AssetModel.uri, AssetEvent.source_dag_id, AssetEvent.source_task_id)
                               .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)).all()
    return {uri: f"{dag_id}.{task_id}" for uri, dag_id, task_id in rows}


def _scheduler_order(dags: dict[str, Any], run: Any) -> list[str]:
    """Run the DAGs round by round as their schedules allow (see the module's docstring); the DAG ids in order."""
    ran: list[str] = []
    waiting = dict(sorted(dags.items()))
    while ready := [dag_id for dag_id, dag in waiting.items() if set(_reads(dag)) <= set(_asset_events())]:
        for dag_id in ready:
            run(waiting.pop(dag_id))
            ran.append(dag_id)
    return ran


def _executor_settings(parallelism: int) -> int:
    """Configure the LocalExecutor and its API server on a free local port, before Airflow is imported (it reads
    its settings at import); returns the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    os.environ.update({"AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__CORE__PARALLELISM": str(parallelism),
                       "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
                       "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(16).hex()})
    return port


@contextmanager
def _api_server(port: int | None) -> Iterator[None]:
    """Airflow's API server, which the LocalExecutor's workers report to (none for tasks run in this process)."""
    if port is None:
        yield
        return
    server = subprocess.Popen([sys.executable, "-m", "airflow", "api-server", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"Airflow's API server did not answer on port {port} within 2 minutes")
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(graph: str, mesh_dir: str, executable: str, mode: str, parallelism: int) -> None:
    port = _executor_settings(parallelism) if parallelism else None
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.pool import Pool
    from airflow.utils.db import initdb

    from mesh_cli.orchestrate.airflow_dags import DEFAULT_POOL

    initdb()
    Pool.create_or_update_pool(DEFAULT_POOL, slots=max(parallelism, 1), description="domain builds",
                               include_deferred=False)
    dag_file = Path(os.environ["AIRFLOW_HOME"]) / "dags" / "mesh_dags.py"
    dag_file.parent.mkdir(parents=True, exist_ok=True)
    dag_file.write_text(DAG_FILE.format(graph=graph, mesh_dir=mesh_dir, executable=executable, mode=mode,
                                        per_model=os.environ.get("AIRFLOW_RUN_PER_MODEL") == "1"))
    parsed = DagBag(dag_folder=str(dag_file)).dags
    states: dict[str, dict[str, str]] = {}
    durations: dict[str, float] = {}

    def run(dag: Any) -> None:
        task_instances = dag.test(use_executor=parallelism > 0).get_task_instances()
        states[dag.dag_id] = {ti.task_id: str(ti.state) for ti in task_instances}
        durations.update({ti.task_id: ti.duration for ti in task_instances if ti.duration is not None})

    with _api_server(port):
        started = time.perf_counter()
        order = _scheduler_order(parsed, run)
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "dags": sorted(parsed), "runs": order, "states": states,
                      "task_seconds": durations, "events": _asset_events(),
                      "schedules": {dag_id: _reads(dag) for dag_id, dag in parsed.items()},
                      "upstreams": {dag_id: {task.task_id: sorted(task.upstream_task_ids) for task in dag.tasks}
                                    for dag_id, dag in parsed.items()},
                      "outlets": {dag_id: sorted(a.uri for t in dag.tasks for a in t.outlets)
                                  for dag_id, dag in parsed.items()}}))


if __name__ == "__main__":
    main(*sys.argv[1:5], int(sys.argv[5]) if len(sys.argv) > 5 else 0)
