"""The example mesh through Airflow 3 (docs/orchestration.md), end to end: the DAGs `mesh_dags` builds from the
graph file run with `dag.test()` in Airflow's own virtualenv, on its default SQLite metadata database, every task
a `mesh` process of this environment; the results equal `mesh build`'s.

Airflow's environment is made by `make test` (and `make test-airflow`) from constraints/airflow.txt (committed:
Airflow's own constraint files live outside the package registries), which passes its python as AIRFLOW_PYTHON.
Without it the tests skip, except in CI (CI=true), where a missing Airflow is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import REPO, run_cli

from mesh_cli.orchestrate.airflow_dags import load_graph  # imports Airflow only when it builds DAGs

MESH = str(Path(sys.executable).parent / "mesh")
DOMAINS = ("customers", "orders", "finance")
DAG = "mesh_retail_dev"
PRODUCTS = {"customers": "mesh://retail/dev/customers/customer_master",
            "orders": "mesh://retail/dev/orders/order_facts",
            "finance": "mesh://retail/dev/finance/revenue_reporting"}
# What differs between two runs of the same build: when, by which process, and the run's own id.
RUN_FIELDS = {"written_at", "writer", "generation", "published_at"}


@pytest.fixture(scope="session")
def airflow_python() -> str:
    """Airflow's python; CI must have it (`make test` makes it), a developer's run may skip. Session-scoped, so it
    is decided before the session's mesh build."""
    python = os.environ.get("AIRFLOW_PYTHON")
    if python:
        return python
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail("AIRFLOW_PYTHON is not set: CI runs the Airflow tests through `make test`, which sets it")
    pytest.skip("Airflow's environment: run `make test` or `make test-airflow`")


def _airflow(python: str, root: Path, tmp_path: Path, mode: str, *, per_model: str = "") -> dict[str, Any]:
    """The DAGs of `mode` for the mesh at `root`, run in Airflow's virtualenv by tests/airflow_run.py, their tasks
    one at a time: SQLite, the default metadata database the issue asks for, takes one writer, and Airflow supports
    no executor running tasks side by side on it (a LocalExecutor run on SQLite hung once in CI for 15 minutes).
    With `per_model` (a domain), that domain's models run one task each (Cosmos)."""
    graph = tmp_path / "mesh_graph.json"
    chosen = ["--per-model", per_model] if per_model else []
    assert run_cli(root, "orchestrate", "graph", "--out", str(graph), *chosen).exit_code == 0
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "PYTHONPATH": str(REPO), "MESH_KEEP_WORKERS": "", "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
           "AIRFLOW__COSMOS__CACHE_DIR": str(tmp_path / "cosmos"),   # its partial-parse cache: this test's own
           "AIRFLOW_RUN_PER_MODEL": "1" if per_model else ""}
    done = subprocess.run([python, str(REPO / "tests" / "airflow_run.py"), str(graph), str(root), MESH, mode],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row_counts(root: Path, domain: str) -> dict[str, int]:
    """Every table of the domain's database and its rows."""
    with duckdb.connect(str(root / ".mesh/duckdb" / f"{domain}.duckdb"), read_only=True) as con:
        tables = con.execute("select table_schema || '.' || table_name from information_schema.tables "
                             "where table_type = 'BASE TABLE' order by 1").fetchall()
        return {name: con.execute(f"select count(*) from {name}").fetchone()[0]  # type: ignore[index]
                for (name,) in tables}


def _without_run_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_run_fields(v) for k, v in value.items() if k not in RUN_FIELDS}
    return [_without_run_fields(v) for v in value] if isinstance(value, list) else value


def _records(root: Path, domain: str) -> dict[str, Any]:
    """The domain's state records (deploy record, fingerprint, models, publish state, the account's shares) without
    the fields of the run that wrote them, and the files of its record in the store."""
    folder = root / ".mesh/state/dev" / domain
    records: dict[str, Any] = {name: _without_run_fields(json.loads((folder / name).read_text()))
                               for name in ("record.json", "fingerprint.json", "publish.json", "shares.json")}
    records["models.jsonl"] = (folder / "models.jsonl").read_text()
    with tarfile.open(root / ".mesh/store/dev" / domain / "record.tar.gz") as stored:
        records["store"] = sorted(stored.getnames())
    return records


def _same_as_mesh_build(root: Path, built: Path, domains: tuple[str, ...] = DOMAINS) -> None:
    for domain in domains:
        assert _row_counts(root, domain) == _row_counts(built, domain), domain
        assert _records(root, domain) == _records(built, domain), domain


def _nothing_deployed(root: Path, domain: str) -> None:
    """No record of the domain in the store nor in the state folder (its released lease leaves an empty folder; a
    failed build keeps only its run in the domain's history and the freshness dbt read, for the catalogue's health)."""
    assert not (root / ".mesh/store/dev" / domain / "record.tar.gz").exists(), domain
    state = root / ".mesh/state/dev" / domain
    kept = sorted(path.relative_to(state).parts[:2] for path in state.rglob("*") if path.is_file())
    assert set(kept) <= {("history", "runs"), ("sources.json",)}, (domain, kept)


def test_the_whole_mesh_as_one_dag(airflow_python: str, mesh_copy: Path, built_mesh: tuple[Path, Any],
                                   tmp_path: Path) -> None:
    result = _airflow(airflow_python, mesh_copy, tmp_path, "mesh")
    assert result["dags"] == result["runs"] == [DAG]
    assert result["states"][DAG] == {f"{domain}.{task}": "success" for domain in DOMAINS
                                     for task in ("pull", "build", "publish")}
    assert result["outlets"][DAG] == sorted(PRODUCTS.values())
    assert result["events"] == {uri: f"{DAG}.{domain}.publish" for domain, uri in PRODUCTS.items()}
    _same_as_mesh_build(mesh_copy, built_mesh[0])


CUSTOMER_MODELS = {"stg_customers": ["customers.prepare"], "mesh_entitlements": ["customers.prepare"],
                   "dim_customers_v1": ["customers.models.stg_customers_model_build"],
                   "dim_customers_v2": ["customers.models.stg_customers_model_build"],
                   "dim_regions": ["customers.models.stg_customers_model_build"]}


def _per_model_tasks() -> dict[str, list[str]]:
    """The customers DAG one task a model: each model's `dbt build` (with its tests) after its parents', the
    package's mesh_entitlements model among them, between prepare and record (which also waits on prepare: it runs
    when prepare succeeded, whatever the models did)."""
    models = {f"customers.models.{model}_model_build": parents for model, parents in CUSTOMER_MODELS.items()}
    return {"customers.pull": [], "customers.prepare": ["customers.pull"], **models,
            "customers.record": sorted([*(name for name in models if "stg_" not in name), "customers.prepare"]),
            "customers.publish": ["customers.record"]}


def _released(root: Path, domain: str) -> None:
    """The lease given back, the handover and the per-model results gone: nothing is left of the run but its
    record (when it deployed one)."""
    assert not (root / ".mesh/store/dev" / domain / "lease.json").exists()
    assert not [path.name for path in (root / ".mesh/state/dev" / domain).glob(".*")]


def _run_results(root: Path, domain: str) -> list[tuple[str, str]]:
    run = json.loads((root / ".mesh/state/dev" / domain / "run_results.json").read_text())
    return sorted((result["unique_id"], result["status"]) for result in run["results"])


def test_one_dag_per_team_runs_when_the_products_it_reads_were_updated(
        airflow_python: str, mesh_copy: Path, built_mesh: tuple[Path, Any], tmp_path: Path) -> None:
    """Per-team DAGs, the customers domain built one task a model (Cosmos), orders and finance one build task each:
    each DAG runs once the products it reads were updated, and every domain deploys what `mesh build` deploys."""
    result = _airflow(airflow_python, mesh_copy, tmp_path, "team", per_model="customers")
    customers = f"{DAG}_customers"
    assert result["schedules"] == {customers: [], f"{DAG}_orders": [PRODUCTS["customers"]],
                                   f"{DAG}_finance": sorted([PRODUCTS["customers"], PRODUCTS["orders"]])}
    assert result["upstreams"][customers] == _per_model_tasks()
    assert result["upstreams"][f"{DAG}_orders"] == {   # a domain the graph file does not render per model
        "orders.pull": [], "orders.build": ["orders.pull"], "orders.publish": ["orders.build"]}
    assert result["runs"] == [f"{DAG}_{domain}" for domain in DOMAINS]   # each one on its upstreams' assets
    assert all(state == "success" for run in result["states"].values() for state in run.values())
    assert result["events"] == {uri: f"{DAG}_{domain}.{domain}.publish" for domain, uri in PRODUCTS.items()}
    _same_as_mesh_build(mesh_copy, built_mesh[0])
    assert _run_results(mesh_copy, "customers") == _run_results(built_mesh[0], "customers")   # every node, merged
    _released(mesh_copy, "customers")


def test_a_failing_domain_stops_exactly_its_downstream(airflow_python: str, mesh_copy: Path,
                                                       built_mesh: tuple[Path, Any], tmp_path: Path) -> None:
    """In the whole-mesh DAG, finance's tasks end upstream_failed in the same run. (Per-team DAGs: a failed domain's
    publish does not run, so its products get no asset event and the DAGs reading them never start, as
    test_a_failing_model_deploys_nothing_and_frees_the_domain shows.)"""
    broken = mesh_copy / "domains/orders/models/marts/fct_orders.sql"
    broken.write_text(broken.read_text().replace("select", "select no_such_column,", 1))
    result = _airflow(airflow_python, mesh_copy, tmp_path, "mesh")
    states = {task: state for run in result["states"].values() for task, state in run.items()}
    assert {task: state for task, state in states.items() if state != "success"} == {
        "orders.build": "failed", "orders.publish": "upstream_failed", "finance.pull": "upstream_failed",
        "finance.build": "upstream_failed", "finance.publish": "upstream_failed"}
    assert {task for task, state in states.items() if state == "success"} == {
        "customers.pull", "customers.build", "customers.publish", "orders.pull"}
    assert list(result["events"]) == [PRODUCTS["customers"]]
    _same_as_mesh_build(mesh_copy, built_mesh[0], ("customers",))
    _nothing_deployed(mesh_copy, "orders")
    _nothing_deployed(mesh_copy, "finance")


def test_a_failing_model_deploys_nothing_and_frees_the_domain(airflow_python: str, mesh_copy: Path,
                                                              tmp_path: Path) -> None:
    broken = mesh_copy / "domains/customers/models/staging/stg_customers.sql"
    broken.write_text(broken.read_text().replace("select", "select no_such_column,", 1))
    result = _airflow(airflow_python, mesh_copy, tmp_path, "team", per_model="customers")
    assert result["runs"] == [f"{DAG}_customers"]   # orders and finance never start: no product of theirs updated
    models = "customers.models"
    assert result["states"][f"{DAG}_customers"] == {
        **dict.fromkeys(_per_model_tasks(), "upstream_failed"), "customers.pull": "success",
        "customers.prepare": "success", f"{models}.mesh_entitlements_model_build": "success",
        f"{models}.stg_customers_model_build": "failed", "customers.record": "failed"}   # record runs all the same
    assert result["events"] == {}
    assert not (mesh_copy / ".mesh/store/dev/customers/record.tar.gz").exists()
    _released(mesh_copy, "customers")


def test_a_graph_file_the_dag_factory_cannot_use_is_refused_with_the_fix(tmp_path: Path) -> None:
    graph = tmp_path / "mesh_graph.json"
    graph.write_text(json.dumps({"format": 2, "domains": {}}))
    with pytest.raises(ValueError, match=r"not a mesh graph file of format 1: write it again with `mesh orches"):
        load_graph(graph)
    entry = {"products": {}, "reads": []}
    graph.write_text(json.dumps({"format": 1, "mesh": "retail", "target": "dev", "domains": {
        "finance": {**entry, "upstreams": ["customers", "orders"]}, "customers": {**entry, "upstreams": []}}}))
    with pytest.raises(ValueError, match=r"domain finance comes before its upstreams customers, orders: write it"):
        load_graph(graph)


def test_the_dag_factory_imports_nothing_of_the_mesh_but_itself() -> None:
    """What parsing a DAG file pays for the mesh (Airflow's own import aside): no dbt, networkx, DuckDB or YAML,
    no other module of mesh_cli; so the factory also installs without dependencies in Airflow's environment."""
    code = ("import json, sys, mesh_cli.orchestrate.airflow_dags; print(json.dumps(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('mesh_cli', 'dbt', 'networkx', 'duckdb', 'yaml', 'click', 'airflow'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert json.loads(done.stdout) == ["mesh_cli", "mesh_cli.orchestrate", "mesh_cli.orchestrate.airflow_dags"]
