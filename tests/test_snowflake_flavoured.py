"""A domain written for Snowflake (SQL and contract types) builds unchanged on DuckDB with `mesh build`, and a
contract that would fail on Snowflake fails locally in one line per model (tests/fixtures/snowflake_mesh)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import REPO, run_cli

from mesh_cli.core.types import parse_type
from mesh_cli.engines.duckdb_types import duckdb_type
from mesh_cli.plugin.dialect import mesh_dialect
from testkit.mesh_copy import fixture_mesh

FIXTURE = REPO / "tests" / "fixtures" / "snowflake_mesh"


def _mesh(dest: Path) -> Path:
    return fixture_mesh(dest, FIXTURE)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = _mesh(tmp_path_factory.mktemp("snowflake") / "mesh")
    result = run_cli(root, "build", "--no-publish")
    assert result.exit_code == 0, result.output
    return root


def _rows(root: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(root / ".mesh" / "duckdb" / "events.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_snowflake_sql_gives_snowflakes_results(built: Path) -> None:
    # QUALIFY kept each event's latest copy; `:` paths read strings; TRY_TO_NUMBER is NULL on bad input
    assert _rows(built, "select event_id, user_name, amount, amount_status, first_tag, tag_number, is_promo "
                        "from main.stg_events order by event_id") == [
        (1, "ann", pytest.approx(12.5), "ok", "new", 7, True),
        (2, "bob", None, "missing", "promo3", 3, True),
        (3, "cy", None, "missing", "none", None, False)]
    # LATERAL FLATTEN: one row per array element, 0-based index, the string itself
    assert _rows(built, "select * from main.event_tags order by event_id, position") == [
        (1, 0, "new"), (1, 1, "promo7"), (2, 0, "promo3")]
    assert _rows(built, "select users, event_ids::varchar, bounds::varchar, span_hours from main.daily_events "
                        "order by event_day") == [("ann,bob", "[1,2]", '{"first":1,"last":2}', 1),
                                                  ("cy", "[3]", '{"first":3,"last":3}', 0)]


NATIVE_INTEGERS = {"integer": "INTEGER", "int": "INTEGER", "int4": "INTEGER", "bigint": "BIGINT", "int8": "BIGINT",
                   "smallint": "SMALLINT", "int2": "SMALLINT", "tinyint": "TINYINT", "hugeint": "HUGEINT"}


def _table_type(declared: str) -> str | None:
    """DuckDB's own integer spellings stay as written (an incremental run compares the table with the model's
    select by type name); every other type is spelled as the DuckDB engine spells it."""
    if declared.strip().lower() in NATIVE_INTEGERS:
        return NATIVE_INTEGERS[declared.strip().lower()]
    return duckdb_type(parse_type(declared))


def test_contracted_tables_hold_duckdbs_spelling_of_the_declared_types(built: Path) -> None:
    # the DDL macro (macros/contracts_local) spells each type as the DuckDB engine does (engines/duckdb_types.py)
    models = yaml.safe_load((FIXTURE / "domains" / "events" / "models" / "_models.yml").read_text())["models"]
    for model in models:
        if model["config"]["materialized"] != "table":
            continue
        types = dict(_rows(built, "select column_name, data_type from information_schema.columns "
                                  f"where table_name = '{model['name']}'"))
        assert types == {column["name"]: _table_type(column["data_type"]) for column in model["columns"]}, model["name"]
    assert dict(_rows(built, "select column_name, data_type from information_schema.columns "
                             "where table_name = 'daily_events'"))["total_amount"] == "DECIMAL(38,2)"


def test_compiled_folder_shows_the_sql_that_ran(built: Path) -> None:
    compiled = built / "domains" / "events" / "target" / "compiled" / "events" / "models"
    tags = (compiled / "event_tags.sql").read_text()
    assert "JSON_EACH" in tags and "flatten" not in tags.lower()
    assert (compiled / "native_duckdb.sql").read_text().strip().endswith("[1, 2, 3][1] as first_item")


def test_a_domain_in_duckdb_sql_is_left_alone(built: Path) -> None:
    assert _rows(built, "select * from main.native_duckdb") == [(3, 1)]


def test_plain_dbt_in_the_domain_transpiles_too(built: Path) -> None:
    domain = built / "domains" / "events"
    compiled = domain / "target" / "compiled" / "events" / "models" / "stg_events.sql"
    compiled.unlink()
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run([str(dbt), "compile", "--select", "stg_events", "--profiles-dir", "."], cwd=domain, env=env,
                   check=True, capture_output=True)
    text = " ".join(compiled.read_text().split())
    assert "QUALIFY ROW_NUMBER()" in text and "TRY_CAST(amount_text AS DECIMAL(10, 2))" in text
    assert "iff(" not in text.lower()


BAD_MODEL = "select 1.5::float as ratio, 'x' as code, 1 as n, 2.5::float4 as share"
BAD_DUCKDB_MODEL = "select 2.5::float as share"   # DuckDB's FLOAT: 32-bit
BAD_CONTRACTS = """version: 2
models:
  - name: bad_types
    config: {materialized: table}
    columns:
      - {name: ratio, data_type: "NUMBER(38,0)"}
      - {name: code, data_type: NUMBER}
      - {name: n, data_type: INT}
      - {name: share, data_type: FLOAT}
  - name: bad_float
    config: {materialized: view, meta: {sql_dialect: duckdb}}
    columns:
      - {name: share, data_type: FLOAT}
  - name: bad_dialect
    config: {meta: {sql_dialect: oracle}}
    columns: [{name: n, data_type: INT}]
  - name: geo
    columns: [{name: cell, data_type: NUMBER}]
"""


def test_a_contract_snowflake_would_refuse_fails_locally_in_one_line(tmp_path: Path) -> None:
    root = _mesh(tmp_path / "mesh")
    models = root / "domains" / "events" / "models"
    for name in ("stg_events.sql", "event_tags.sql", "daily_events.sql", "native_duckdb.sql", "_models.yml"):
        (models / name).unlink()
    (models / "bad_types.sql").write_text(BAD_MODEL)
    (models / "bad_float.sql").write_text(BAD_DUCKDB_MODEL)
    (models / "_bad.yml").write_text(BAD_CONTRACTS)
    (models / "bad_dialect.sql").write_text("select 1 as n")
    (models / "geo.sql").write_text("select h3_latlng_to_cell(1.0, 2.0, 3) as cell")
    result = run_cli(root, "build", "--no-publish")
    assert result.exit_code == 1
    failures = [line for line in result.output.splitlines() if line.startswith("  - model.events.")]
    # FLOAT is never a NUMBER, nor is a string; INT holds an INTEGER; Snowflake's FLOAT4 is 64-bit, and
    # DuckDB's 32-bit FLOAT never holds a Snowflake FLOAT: one line per model, each column with both types and the fix
    bad_types = next(line for line in failures if line.startswith("  - model.events.bad_types:"))
    assert bad_types.endswith(
        "model bad_types breaks its contract: column ratio is DOUBLE here (REAL on Snowflake), declared NUMBER(38,0) "
        "(FIXED), a data type mismatch: cast it in the select (::NUMBER(38,0)) or declare data_type: float; column "
        "code is VARCHAR here (TEXT on Snowflake), declared NUMBER (FIXED), a data type mismatch: cast it in the "
        "select (::NUMBER) or declare data_type: varchar"), bad_types
    assert any(line.startswith("  - model.events.bad_float:") and line.endswith(
        "model bad_float breaks its contract: column share is FLOAT here (DuckDB's 32-bit FLOAT; Snowflake's FLOAT "
        "is 64-bit), declared FLOAT, a data type mismatch: cast it in the select to DOUBLE")
        for line in failures), failures
    assert "column_name" not in result.output     # no multi-line table
    assert any(line.startswith("  - model.events.geo:") and line.endswith(
        "model geo: function H3_LATLNG_TO_CELL has no DuckDB equivalent; rewrite it in SQL both engines run, "
        "or set `sql_dialect: duckdb` in the model's meta") for line in failures), failures
    assert any(line.startswith("  - model.events.bad_dialect:") and "model bad_dialect: sql_dialect 'oracle' is "
               "not one of snowflake, duckdb" in line for line in failures), failures


def test_mesh_wide_dialect_is_read_from_mesh_yml_again_when_it_changes(tmp_path: Path) -> None:
    domain = tmp_path / "domains" / "sales"
    domain.mkdir(parents=True)
    mesh_file = tmp_path / "mesh.yml"
    mesh_file.write_text("mesh: {name: m}\n")
    assert mesh_dialect(str(domain)) is None
    mesh_file.write_text("mesh: {name: m}\nsql: {dialect: Snowflake}\n")
    os.utime(mesh_file, ns=(1, 10**18))   # a later modification time than the first write
    assert mesh_dialect(str(domain)) == "snowflake"
    assert mesh_dialect(str(tmp_path.parent)) is None   # no mesh above: nothing is transpiled
