"""Run the mesh's Airflow DAGs with `dag.test()`, inside Airflow's own virtualenv (tests/test_airflow.py starts
this script there with AIRFLOW_HOME set): it prepares Airflow's default SQLite metadata database, writes a DAG
file into the DAGs folder as a user would (Airflow 3 tests only DAGs it can serialize from a DAG bundle), runs
each DAG (per-team DAGs in the order given) and prints every task's final state as JSON.

    python tests/airflow_run.py GRAPH MESH_DIR MESH_EXECUTABLE MODE [DAG_ID ...]
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
from pathlib import Path

DAG_FILE = '''\
from mesh_cli.orchestrate.airflow_dags import mesh_dags

globals().update(mesh_dags({graph!r}, mesh_dir={mesh_dir!r}, mesh_executable={executable!r}, mode={mode!r},
                           retries=0))
'''


def main(graph: str, mesh_dir: str, executable: str, mode: str, order: list[str]) -> None:
    from airflow.models.pool import Pool
    from airflow.sdk import DAG
    from airflow.utils.db import initdb

    from mesh_cli.orchestrate.airflow_dags import DEFAULT_POOL

    initdb()
    Pool.create_or_update_pool(DEFAULT_POOL, slots=1, description="domain builds", include_deferred=False)
    dag_file = Path(os.environ["AIRFLOW_HOME"]) / "dags" / "mesh_dags.py"
    dag_file.parent.mkdir(parents=True, exist_ok=True)
    dag_file.write_text(DAG_FILE.format(graph=graph, mesh_dir=mesh_dir, executable=executable, mode=mode))
    started = time.perf_counter()
    parsed = {dag.dag_id: dag for dag in runpy.run_path(str(dag_file)).values() if isinstance(dag, DAG)}
    parse_seconds = time.perf_counter() - started
    states: dict[str, dict[str, str]] = {}
    schedules: dict[str, list[str]] = {}
    for dag_id in order or sorted(parsed):
        dag = parsed[dag_id]
        condition = getattr(dag.timetable, "asset_condition", None)   # an asset-scheduled DAG's condition
        schedules[dag_id] = sorted(asset.uri for asset in getattr(condition, "objects", ()))   # AssetAll(...)
        run = dag.test()
        states[dag_id] = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    print(json.dumps({"states": states, "schedules": schedules, "dags": sorted(parsed),
                      "outlets": {dag_id: sorted(a.uri for t in dag.tasks for a in t.outlets)
                                  for dag_id, dag in parsed.items()},
                      "parse_seconds": parse_seconds}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
