"""The example mesh through Airflow 3 (docs/orchestration.md), end to end: the DAGs `mesh_dags` builds from the
graph file run with `dag.test()` in Airflow's own virtualenv, on its default SQLite metadata database, every task
a `mesh` process of this environment; the results equal `mesh build`'s.

Airflow's environment is made by `make test-airflow` from constraints/airflow.txt (committed: Airflow's own
constraint files live outside the package registries), which passes its python as AIRFLOW_PYTHON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import REPO, run_cli

pytestmark = pytest.mark.skipif(not os.environ.get("AIRFLOW_PYTHON"),
                                reason="Airflow's environment: run `make test-airflow`")
MESH = str(Path(sys.executable).parent / "mesh")
TABLES = {"customers": "marts.dim_customers_v2", "orders": "marts.fct_orders",
          "finance": "marts.revenue_by_region_month"}


def _airflow(root: Path, tmp_path: Path, mode: str, *order: str) -> dict[str, Any]:
    graph = tmp_path / "mesh_graph.json"
    assert run_cli(root, "orchestrate", "graph", "--out", str(graph)).exit_code == 0
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "PYTHONPATH": str(REPO), "MESH_KEEP_WORKERS": ""}
    done = subprocess.run([os.environ["AIRFLOW_PYTHON"], str(REPO / "tests" / "airflow_run.py"), str(graph),
                           str(root), MESH, mode, *order], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _rows(root: Path, domain: str) -> int:
    with duckdb.connect(str(root / ".mesh/duckdb" / f"{domain}.duckdb"), read_only=True) as con:
        return int(con.execute(f"select count(*) from {TABLES[domain]}").fetchone()[0])  # type: ignore[index]


def _products(root: Path, domain: str) -> dict[str, Any]:
    record = json.loads((root / ".mesh/state/dev" / domain / "publish.json").read_text())["products"]
    return {name: {k: v for k, v in entry.items() if k != "published_at"} for name, entry in record.items()}


def _same_as_mesh_build(root: Path, built: Path) -> None:
    for domain in TABLES:
        assert _rows(root, domain) == _rows(built, domain), domain
        assert _products(root, domain) == _products(built, domain), domain
        assert (root / ".mesh/store/dev" / domain / "record.tar.gz").is_file(), domain


def test_the_whole_mesh_as_one_dag(mesh_copy: Path, built_mesh: tuple[Path, Any], tmp_path: Path) -> None:
    result = _airflow(mesh_copy, tmp_path, "mesh")
    assert result["dags"] == ["mesh_retail_dev"]
    states = result["states"]["mesh_retail_dev"]
    assert states == {f"{domain}.{task}": "success" for domain in TABLES for task in ("pull", "build", "publish")}
    assert result["outlets"]["mesh_retail_dev"] == ["mesh://retail/dev/customers/customer_master",
                                                    "mesh://retail/dev/finance/revenue_reporting",
                                                    "mesh://retail/dev/orders/order_facts"]
    _same_as_mesh_build(mesh_copy, built_mesh[0])


def test_one_dag_per_team_scheduled_on_the_products_it_reads(mesh_copy: Path, built_mesh: tuple[Path, Any],
                                                            tmp_path: Path) -> None:
    order = [f"mesh_retail_dev_{domain}" for domain in TABLES]
    result = _airflow(mesh_copy, tmp_path, "team", *order)
    assert result["dags"] == sorted(order)
    assert result["schedules"] == {
        "mesh_retail_dev_customers": [],
        "mesh_retail_dev_orders": ["mesh://retail/dev/customers/customer_master"],
        "mesh_retail_dev_finance": ["mesh://retail/dev/customers/customer_master",
                                    "mesh://retail/dev/orders/order_facts"]}
    assert all(state == "success" for run in result["states"].values() for state in run.values())
    _same_as_mesh_build(mesh_copy, built_mesh[0])


def test_a_failing_domain_stops_exactly_its_downstream(mesh_copy: Path, tmp_path: Path) -> None:
    broken = mesh_copy / "domains/orders/models/marts/fct_orders.sql"
    broken.write_text(broken.read_text().replace("select", "select no_such_column,", 1))
    states = _airflow(mesh_copy, tmp_path, "mesh")["states"]["mesh_retail_dev"]
    assert {task: state for task, state in states.items() if state != "success"} == {
        "orders.build": "failed", "orders.publish": "upstream_failed", "finance.pull": "upstream_failed",
        "finance.build": "upstream_failed", "finance.publish": "upstream_failed"}
    assert {task for task, state in states.items() if state == "success"} == {
        "customers.pull", "customers.build", "customers.publish", "orders.pull"}
