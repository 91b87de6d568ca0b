"""Governed models on DuckDB are built straight into `mesh_protected` and exposed as a governed view under their
own name: one copy of the clear rows, none left at the model's name, masking, row access and contracts as before,
for tables, incremental models and views (real dbt on a copy of the package's integration_tests project)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).parent / "dbt"
PACKAGE = ("dbt_project.yml", "macros", "models")
LEFTOVERS = shutil.ignore_patterns("target", "dbt_packages", "logs", "package-lock.yml")
MODELS = {"customers": "main", "customer_names": "marts", "customer_events": "main"}  # model: its schema
EVENTS_SQL = """{{ config(materialized='incremental', unique_key='customer_id', on_schema_change='fail',
          contract={'enforced': true}) }}
select cast(customer_id as integer) as customer_id, cast(email as varchar) as email, cast(region as varchar) as region
from {{ ref('customers_input') }}
{% if is_incremental() %}where customer_id > (select max(customer_id) from {{ this }}){% endif %}
"""
EVENTS_YML = """version: 2
models:
  - name: customer_events
    config:
      meta: {data_mesh: {row_access: {policy: region_entitlement, columns: [region]}}}
    columns:
      - name: customer_id
        data_type: integer
        constraints: [{type: not_null}]
      - name: email
        data_type: varchar
        config: {meta: {data_mesh: {masking: mask_email}}}
      - name: region
        data_type: varchar
"""


def _dbt(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MESH_", "DBT_"))}
    return subprocess.run([str(DBT), *args, "--profiles-dir", str(project)], cwd=project, capture_output=True,
                          text=True, env={**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})


def _build(project: Path) -> None:
    done = _dbt(project, "build", "--select", "+" + " +".join(MODELS), "--exclude", "test_type:data")
    assert done.returncode == 0, done.stdout + done.stderr


def _objects(project: Path) -> dict[tuple[str, str], str]:
    with duckdb.connect(str(project / "target" / "integration_tests.duckdb"), read_only=True) as connection:
        rows = connection.execute("select table_schema, table_name, table_type from information_schema.tables "
                                  "where table_schema in ('main', 'marts', 'mesh_protected')").fetchall()
    return {(schema, name): kind for schema, name, kind in rows}


def _query(project: Path, sql: str, *roles: str) -> list[tuple]:
    with duckdb.connect(str(project / "target" / "integration_tests.duckdb"), read_only=True) as connection:
        connection.execute("set variable mesh_roles = $roles", {"roles": list(roles)})
        return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The integration_tests project with one more governed model, an incremental one, built once."""
    root = tmp_path_factory.mktemp("protected")
    for name in (*PACKAGE, "integration_tests"):
        source = REPO / name
        (shutil.copytree(source, root / name, ignore=LEFTOVERS) if source.is_dir()
         else shutil.copy(source, root / name))
    project = root / "integration_tests"
    (project / "models" / "governed" / "customer_events.sql").write_text(EVENTS_SQL)
    (project / "models" / "governed" / "_customer_events.yml").write_text(EVENTS_YML)
    deps = _dbt(project, "deps")
    assert deps.returncode == 0, deps.stdout + deps.stderr
    _build(project)
    return project


def test_each_governed_model_keeps_one_clear_copy_in_mesh_protected(project: Path) -> None:
    objects = _objects(project)
    for model, schema in MODELS.items():
        assert objects[(schema, model)] == "VIEW", model
    assert objects[("mesh_protected", "main__customers")] == "BASE TABLE"
    assert objects[("mesh_protected", "main__customer_events")] == "BASE TABLE"
    assert objects[("mesh_protected", "marts__customer_names")] == "VIEW"
    assert not [name for _, name in objects if "__dbt_tmp" in name or "__dbt_backup" in name]
    # the rows were written once, straight into mesh_protected: no copy after the build
    run = next((project / "target" / "run").rglob("customers.sql")).read_text()
    assert re.search(r'create\s+table\s+"integration_tests"\."mesh_protected"\."main__customers"', run)
    assert "create or replace table mesh_protected." not in (project / "logs" / "dbt.log").read_text()


def test_the_governed_view_masks_and_filters_the_clear_rows(project: Path) -> None:
    clear = _query(project, "select customer_id, email, region from mesh_protected.main__customer_events order by 1")
    assert len(clear) == 4
    assert _query(project, "select count(*) from main.customer_events") == [(0,)]
    emea = _query(project, "select customer_id, email, region from main.customer_events order by 1", "EMEA_ANALYST")
    assert emea == [(i, "*****@" + e.split("@")[1], r) for i, e, r in clear if r == "EMEA"]
    assert _query(project, "select customer_id, email, region from main.customer_events order by 1",
                  "TEST_DEPLOYER") == clear  # it inherits PII_READER and ALL_REGIONS


def test_a_rebuild_replaces_the_clear_rows_in_place(project: Path) -> None:
    _build(project)
    objects = _objects(project)
    assert objects[("main", "customer_events")] == "VIEW" and objects[("main", "customers")] == "VIEW"
    assert _query(project, "select count(*) from mesh_protected.main__customer_events") == [(4,)]
    assert _query(project, "select count(*) from mesh_protected.main__customers") == [(4,)]


def test_a_broken_contract_fails_and_keeps_the_previous_build(project: Path) -> None:
    model = project / "models" / "governed" / "customer_events.sql"
    model.write_text(EVENTS_SQL.replace("cast(customer_id as integer) as customer_id",
                                        "cast(null as integer) as customer_id"))
    try:
        done = _dbt(project, "run", "--select", "customer_events", "--full-refresh")
    finally:
        model.write_text(EVENTS_SQL)
    assert done.returncode == 1
    assert "NOT NULL constraint failed" in done.stdout
    assert _objects(project)[("main", "customer_events")] == "VIEW"
    assert _query(project, "select count(*) from mesh_protected.main__customer_events where customer_id is not null"
                  ) == [(4,)]


def test_a_table_governed_after_its_first_build_moves_to_mesh_protected(project: Path) -> None:
    meta = project / "models" / "governed" / "_customer_events.yml"
    meta.write_text(EVENTS_YML.replace("meta: {data_mesh: {row_access: {policy: region_entitlement, "
                                       "columns: [region]}}}", "meta: {}").replace(
        "config: {meta: {data_mesh: {masking: mask_email}}}", "config: {}"))
    try:
        ungoverned = _dbt(project, "run", "--select", "customer_events", "--full-refresh")
        assert ungoverned.returncode == 0, ungoverned.stdout
        assert _objects(project)[("main", "customer_events")] == "BASE TABLE"
    finally:
        meta.write_text(EVENTS_YML)
    governed = _dbt(project, "run", "--select", "customer_events")  # incremental: appends in place, then moves
    assert governed.returncode == 0, governed.stdout
    assert _objects(project)[("main", "customer_events")] == "VIEW"
    assert _query(project, "select count(*) from main.customer_events") == [(0,)]
    assert _query(project, "select count(*) from mesh_protected.main__customer_events") == [(4,)]
