"""Run the mesh's Airflow DAGs with `dag.test()`, inside Airflow's own virtualenv (tests/test_airflow.py starts
this script there with AIRFLOW_HOME set): it prepares Airflow's default SQLite metadata database, writes a DAG
file into the DAGs folder as a user would (Airflow 3 tests only DAGs it can serialize from a DAG bundle), runs
the DAGs and prints every task's final state, the runs in order and the asset events as JSON.

Per-team DAGs run as the scheduler would start them: a DAG that reads no product first (its `schedule`), then, round
after round, every DAG all of whose read products have an asset event in the metadata database (the events the
`publish` tasks' outlets emitted); a DAG whose products never all arrive is not run.

    python tests/airflow_run.py GRAPH MESH_DIR MESH_EXECUTABLE MODE
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

DAG_FILE = '''\
from mesh_cli.orchestrate.airflow_dags import mesh_dags

globals().update(mesh_dags({graph!r}, mesh_dir={mesh_dir!r}, mesh_executable={executable!r}, mode={mode!r},
                           retries=0))
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


def main(graph: str, mesh_dir: str, executable: str, mode: str) -> None:
    from airflow.models.pool import Pool
    from airflow.sdk import DAG
    from airflow.utils.db import initdb

    from mesh_cli.orchestrate.airflow_dags import DEFAULT_POOL

    initdb()
    Pool.create_or_update_pool(DEFAULT_POOL, slots=1, description="domain builds", include_deferred=False)
    dag_file = Path(os.environ["AIRFLOW_HOME"]) / "dags" / "mesh_dags.py"
    dag_file.parent.mkdir(parents=True, exist_ok=True)
    dag_file.write_text(DAG_FILE.format(graph=graph, mesh_dir=mesh_dir, executable=executable, mode=mode))
    parsed = {dag.dag_id: dag for dag in runpy.run_path(str(dag_file)).values() if isinstance(dag, DAG)}
    states: dict[str, dict[str, str]] = {}

    def run(dag: Any) -> None:
        states[dag.dag_id] = {ti.task_id: str(ti.state) for ti in dag.test().get_task_instances()}

    order = _scheduler_order(parsed, run)
    print(json.dumps({"dags": sorted(parsed), "runs": order, "states": states, "events": _asset_events(),
                      "schedules": {dag_id: _reads(dag) for dag_id, dag in parsed.items()},
                      "outlets": {dag_id: sorted(a.uri for t in dag.tasks for a in t.outlets)
                                  for dag_id, dag in parsed.items()}}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
