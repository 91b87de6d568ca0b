"""Ingestion on Snowflake: the plan of every mode (golden files), valid Snowflake SQL (sqlfluff), reconciliation
against recorded SHOW output, and the stage / file format / landing table / COPY path on a fakesnow server.

What fakesnow 0.12 cannot run is checked by the golden files only: COPY with a transforming SELECT
(`$1`, `METADATA$...`), PATTERN, ON_ERROR other than ABORT_STATEMENT, pipes, external tables, `SHOW PIPES`,
`SHOW EXTERNAL TABLES`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import REPO, TooLargeState, run_cli
from ingest_helpers import COLUMNS, FAKESNOW_SERVER, make_mesh, source, write_file, write_sources
from sql_oracle import assert_snowflake_sql

from mesh_cli.core.config import load_config
from mesh_cli.core.domains import load_domain
from mesh_cli.core.ingest_spec import BLOCKED
from mesh_cli.core.plan import Plan, RecordedState, StateReader, apply
from mesh_cli.engines.snowflake import SnowflakeEngine
from mesh_cli.engines.snowflake_ingest import plan_domain
from mesh_cli.ingest import load_ingest_tables
from testkit.show_log import ShowLog

GOLDEN = Path(__file__).parent / "golden" / "ingest"
EVERY_MODE = [
    source({"mode": "copy", "location": "landing/orders/", "pattern": ".*[.]csv", "on_error": "continue",
            "file_format": {"type": "csv", "skip_header": 1, "null_if": ["\\N", ""]},
            "partitions": [{"name": "region", "data_type": "varchar"}]}, table="orders"),
    source({"mode": "snowpipe", "location": "events/", "file_format": {"type": "json", "strip_outer_array": True},
            "stage": {"name": "raw_s3", "url": "s3://bucket/shop/", "storage_integration": "s3_int"},
            "aws_sns_topic": "arn:aws:sns:eu-west-1:1:shop", "backfill": True},
           columns=[{"name": "id", "data_type": "number(38,0)"}, {"name": "payload", "data_type": "variant"}],
           name="events", table="clicks"),
    source({"mode": "external_table", "location": "catalogue/*.parquet", "file_format": {"type": "parquet"},
            "partitions": [{"name": "category", "data_type": "varchar"}], "stage": "raw_s3"},
           columns=[{"name": "sku", "data_type": "varchar(20)"}, {"name": "price", "data_type": "number(10,2)"}],
           name="catalogue", table="items"),
    source({"mode": "kafka", "topic": "shop.payments", "location": "payments/"},
           columns=[{"name": "payment_id", "data_type": "number(38,0)"}, {"name": "paid_at", "data_type": "timestamp"}],
           name="payments", table="payments"),
    source({"mode": "kafka", "topic": "shop.refunds", "schematized": True, "location": "refunds/"},
           columns=[{"name": "refund_id", "data_type": "number(38,0)"}], name="refunds", table="refunds"),
]


def _plan(root: Path, reader: StateReader | None = None, full_refresh: bool = False, database: str = "SHOP") -> Plan:
    tables = load_ingest_tables(load_domain(root / "domains/shop"))
    return plan_domain("shop", tables, database, reader or RecordedState(), full_refresh)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{path.name} differs; rerun with UPDATE_GOLDEN=1 and review"


def _parses(plan: Plan) -> None:
    """Every statement is valid Snowflake SQL by sqlfluff's Snowflake dialect (tests/sql_oracle.py)."""
    assert_snowflake_sql(s.sql for s in plan.statements)


def test_every_mode_plans_the_golden_statements_in_valid_snowflake_sql(tmp_path: Path) -> None:
    root = tmp_path / "mesh"
    make_mesh(root, EVERY_MODE)
    plan = _plan(root)
    _golden("every_mode.sql", plan.to_sql())
    _parses(plan)
    kinds = [(s.action, s.object_kind) for s in plan.statements]
    assert kinds.count(("create", "stage")) == 2 and ("create", "pipe") in kinds and ("load", "table") in kinds
    assert kinds[-1] == ("load", "table")  # loads run after every object exists


def test_the_example_mesh_prod_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SNOWFLAKE_ACCOUNT", raising=False)
    monkeypatch.setenv("MESH_SNOWFLAKE_DATABASE_PREFIX", "DEV_")
    result = run_cli(REPO, "ingest", "--target", "prod", "--plan")
    assert result.exit_code == 0, result.output
    _golden("example_prod.sql", result.output)
    assert "CREATE STAGE DEV_CUSTOMERS.LANDING.LANDING;" in result.output


def _columns(table: str, schema: str = "LANDING") -> list[dict[str, object]]:
    """`SHOW COLUMNS` rows of a converged copy landing table of COLUMNS (id, name, amount)."""
    return [{"table_name": table, "schema_name": schema, "column_name": name, "data_type": kind,
             "database_name": "SHOP"} for name, kind in (
                ("ID", '{"type":"FIXED","precision":38,"scale":0}'), ("NAME", '{"type":"TEXT","length":16777216}'),
                ("AMOUNT", '{"type":"FIXED","precision":10,"scale":2}'), ("_FILE", '{"type":"TEXT","length":16777216}'),
                ("_FILE_ROW", '{"type":"FIXED","precision":38,"scale":0}'),
                ("_FILE_LAST_MODIFIED", '{"type":"TIMESTAMP_NTZ","scale":9}'),
                ("_LOADED_AT", '{"type":"TIMESTAMP_TZ","scale":9}'))]


def _existing() -> dict[str, list[dict[str, object]]]:
    """SHOW output of a converged `shop` with one copy source (orders: id, name, amount), hand-written with the
    documented columns (https://docs.snowflake.com/en/sql-reference/sql/show-file-formats, show-stages,
    show-columns)."""
    return {
        "SHOW SCHEMAS LIKE 'LANDING' IN DATABASE SHOP": [{"name": "LANDING"}],
        "SHOW FILE FORMATS IN SCHEMA SHOP.LANDING": [{"name": "ORDERS_FORMAT", "type": "CSV",
                                                      "format_options": '{"TYPE": "CSV", "SKIP_HEADER": 1}'}],
        "SHOW STAGES IN SCHEMA SHOP.LANDING": [{"name": "LANDING", "url": ""}],
        "SHOW TABLES IN SCHEMA SHOP.LANDING": [{"name": "ORDERS"}],
        "SHOW COLUMNS IN SCHEMA SHOP.LANDING": _columns("ORDERS"),
    }


COPY = {"mode": "copy", "location": "landing/orders/", "file_format": {"type": "csv", "skip_header": 1}}


def test_reconciliation_adds_columns_in_place_and_blocks_destructive_changes(tmp_path: Path) -> None:
    root = tmp_path / "mesh"
    make_mesh(root, [source(COPY)])
    state = _existing()
    converged = _plan(root, RecordedState(state))
    assert [s.action for s in converged.statements] == ["load"] and not converged.notes

    write_sources(root, [source(COPY, columns=[*COLUMNS, {"name": "note", "data_type": "varchar"}])])
    added = _plan(root, RecordedState(state))
    assert [s.sql for s in added.statements][:-1] == ["ALTER TABLE SHOP.LANDING.ORDERS ADD COLUMN NOTE VARCHAR"]

    write_sources(root, [source({**COPY, "file_format": {"type": "csv", "skip_header": 0}},
                                columns=[{**COLUMNS[0], "data_type": "varchar"}, *COLUMNS[1:]])])
    blocked = _plan(root, RecordedState(state))
    assert [s.action for s in blocked.statements] == ["replace", "load"]  # the file format holds no data
    assert blocked.notes == [f"{BLOCKED}: landing table SHOP.LANDING.ORDERS: ID number(38,0) → varchar(16777216); "
                             "recreating it drops its rows and load history (every staged file loads again): run "
                             "with --full-refresh"]
    forced = _plan(root, RecordedState(state), full_refresh=True)
    replace = [s for s in forced.statements if s.object_kind == "table" and s.action == "replace"]
    assert len(replace) == 1 and replace[0].destructive and replace[0].sql.startswith("CREATE OR REPLACE TABLE")
    assert "-- ID number(38,0) → varchar(16777216) (--full-refresh: rows and load history dropped); destructive" \
        in forced.to_sql()


TWO_SCHEMAS = [("LANDING", "ORDERS_0"), ("LANDING", "ORDERS_1"), ("LANDING", "ORDERS_2"), ("EVENTS", "CLICKS")]


def _two_schema_sources(columns: list[dict[str, str]] = COLUMNS) -> list[dict[str, object]]:
    return [source(COPY, columns=columns, name=f"raw_{table.lower()}", table=table.lower(), schema=schema.lower())
            for schema, table in TWO_SCHEMAS]


def _two_schemas() -> dict[str, list[dict[str, object]]]:
    """SHOW output once the sources of `_two_schema_sources` landed: one query per kind over the database, which
    also holds the domain's models (MARTS)."""
    options = '{"TYPE": "CSV", "SKIP_HEADER": 1}'
    return {
        "SHOW SCHEMAS IN DATABASE SHOP": [{"name": name, "database_name": "SHOP"}
                                          for name in ("EVENTS", "INFORMATION_SCHEMA", "LANDING", "MARTS")],
        "SHOW FILE FORMATS IN DATABASE SHOP": [{"name": f"{table}_FORMAT", "schema_name": schema, "type": "CSV",
                                                "format_options": options} for schema, table in TWO_SCHEMAS],
        "SHOW STAGES IN DATABASE SHOP": [{"name": "LANDING", "schema_name": schema, "url": ""}
                                         for schema in ("EVENTS", "LANDING")],
        "SHOW TABLES IN DATABASE SHOP": [{"name": table, "schema_name": schema} for schema, table in
                                         [*TWO_SCHEMAS, ("MARTS", "ORDERS_0")]],
        "SHOW COLUMNS IN DATABASE SHOP": [row for schema, table in TWO_SCHEMAS for row in _columns(table, schema)]
        + [{"table_name": "ORDERS_0", "schema_name": "MARTS", "column_name": "TOTAL", "database_name": "SHOP",
            "data_type": '{"type":"TEXT","length":16777216}'}],
    }


def test_landing_schemas_of_a_database_are_read_with_one_show_per_kind(tmp_path: Path) -> None:
    """Four landing tables in two schemas: one SHOW per kind over the database, columns included (not one per
    schema and one per table); the models' table of the same name in MARTS is not taken for a landing table."""
    root = tmp_path / "mesh"
    make_mesh(root, _two_schema_sources())
    reader = ShowLog(RecordedState(_two_schemas()))
    plan = _plan(root, reader)
    assert [s.action for s in plan.statements] == ["load"] * 4 and not plan.notes
    assert reader.kinds == {"SCHEMAS": 1, "FILE FORMATS": 1, "STAGES": 1, "TABLES": 1, "COLUMNS": 1}
    write_sources(root, _two_schema_sources([*COLUMNS, {"name": "note", "data_type": "varchar"}]))
    added = _plan(root, RecordedState(_two_schemas()))
    assert [s.sql for s in added.statements if s.action == "alter"] == [
        f"ALTER TABLE SHOP.{schema}.{table} ADD COLUMN NOTE VARCHAR" for schema, table in TWO_SCHEMAS]



def test_a_database_too_large_to_show_at_once_is_read_schema_by_schema_and_table_by_table(tmp_path: Path) -> None:
    root = tmp_path / "mesh"
    make_mesh(root, _two_schema_sources())
    state = _two_schemas()
    for kind in ("FILE FORMATS", "STAGES", "TABLES"):
        for row in state[f"SHOW {kind} IN DATABASE SHOP"]:
            state.setdefault(f"SHOW {kind} IN SCHEMA SHOP.{row['schema_name']}", []).append(row)
    for schema, table in TWO_SCHEMAS:
        state[f"SHOW COLUMNS IN TABLE SHOP.{schema}.{table}"] = _columns(table, schema)
    reader = ShowLog(TooLargeState(state, {f"SHOW {kind} IN DATABASE SHOP"
                                       for kind in ("FILE FORMATS", "STAGES", "TABLES", "COLUMNS")}))
    plan = _plan(root, reader)
    assert [s.action for s in plan.statements] == ["load"] * 4 and not plan.notes
    assert reader.kinds == {"SCHEMAS": 1, "FILE FORMATS": 3, "STAGES": 3, "TABLES": 3, "COLUMNS": 1 + 4}


def test_a_changed_pipe_needs_full_refresh_and_an_external_table_is_refreshed(tmp_path: Path) -> None:
    root = tmp_path / "mesh"
    make_mesh(root, [EVERY_MODE[1], EVERY_MODE[2]])
    state = {"SHOW SCHEMAS LIKE 'LANDING' IN DATABASE SHOP": [{"name": "LANDING"}],
             "SHOW STAGES IN SCHEMA SHOP.LANDING": [{"name": "RAW_S3", "url": "s3://bucket/shop/"}],
             "SHOW TABLES IN SCHEMA SHOP.LANDING": [{"name": "CLICKS"}],
             "SHOW PIPES IN SCHEMA SHOP.LANDING": [{"name": "CLICKS_PIPE", "definition": "COPY INTO old"}],
             "SHOW EXTERNAL TABLES IN SCHEMA SHOP.LANDING": [{"name": "ITEMS"}],
             "SHOW COLUMNS IN SCHEMA SHOP.LANDING": []}
    plan = _plan(root, RecordedState(state))
    assert any(note.startswith(f"{BLOCKED}: pipe SHOP.LANDING.CLICKS_PIPE changed") for note in plan.notes)
    assert "ALTER EXTERNAL TABLE SHOP.LANDING.ITEMS REFRESH" in [s.sql for s in plan.statements]
    assert not any(s.object_kind == "pipe" for s in plan.statements)
    forced = _plan(root, RecordedState(state), full_refresh=True)
    pipes = [s for s in forced.statements if s.object_kind == "pipe"]
    assert [s.action for s in pipes] == ["replace", "refresh"] and pipes[0].destructive
    _parses(forced)


def test_prod_ingest_refuses_a_blocked_plan_and_needs_credentials(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SNOWFLAKE_ACCOUNT", raising=False)
    root = tmp_path / "mesh"
    make_mesh(root, [source(COPY)])
    result = run_cli(root, "ingest", "--target", "prod")
    assert result.exit_code == 2 and "SNOWFLAKE_ACCOUNT is not set" in result.output


def test_stage_file_format_table_and_copy_on_fakesnow(tmp_path: Path) -> None:
    """Applies the plan's object statements on a fakesnow server with a file:// stage, re-plans against the live
    SHOW output (converged: only the load is left), adds a YAML column in place, and loads the staged CSV through
    the planned stage and file format. The planned COPY itself (METADATA$ columns) is golden-file only."""
    if FAKESNOW_SERVER is None:
        pytest.skip("fakesnow is not installed")
    import snowflake.connector

    DB = "SHOP_STAGED"

    root = tmp_path / "mesh"
    make_mesh(root, [source({**COPY, "stage": {"name": "landing", "url": f"file://{tmp_path}/stage/"}})])
    write_file(tmp_path, "stage/landing/orders/a.csv", "id,name,amount\n1,apple,1.50\n2,pear,2.25\n")
    with FAKESNOW_SERVER() as parameters:
        connection = snowflake.connector.connect(**parameters)
        engine = SnowflakeEngine(load_config(root), "prod", connection=connection)
        # fakesnow keeps its databases for the process and cannot drop one: a database no other test lands in
        engine.execute(f"CREATE DATABASE {DB}")
        first = _plan(root, engine.state_reader(), database=DB)  # type: ignore[arg-type]
        assert [(s.action, s.object_kind) for s in first.statements] == [
            ("create", "schema"), ("create", "stage"), ("create", "file format"), ("create", "table"),
            ("load", "table")]
        applied = apply(Plan("objects", [s for s in first.statements if s.action != "load"]), engine.execute)
        assert applied.ok, applied.failed

        again = _plan(root, engine.state_reader(), database=DB)  # type: ignore[arg-type]
        assert [s.action for s in again.statements] == ["load"] and not again.notes

        write_sources(root, [source({**COPY, "stage": {"name": "landing", "url": f"file://{tmp_path}/stage/"}},
                                    columns=[*COLUMNS, {"name": "note", "data_type": "varchar"}])])
        evolved = _plan(root, engine.state_reader(), database=DB)  # type: ignore[arg-type]
        assert [s.sql for s in evolved.statements][:-1] == [f"ALTER TABLE {DB}.LANDING.ORDERS ADD COLUMN NOTE VARCHAR"]
        assert apply(Plan("alter", evolved.statements[:-1]), engine.execute).ok
        assert "NOTE" in [r["column_name"] for r in engine.execute(f"SHOW COLUMNS IN TABLE {DB}.LANDING.ORDERS")]

        copy = (f"COPY INTO {DB}.LANDING.ORDERS (ID, NAME, AMOUNT) FROM @{DB}.LANDING.LANDING/landing/orders/ "
                f"FILE_FORMAT = (FORMAT_NAME = '{DB}.LANDING.ORDERS_FORMAT')")
        assert [r["status"] for r in engine.execute(copy)] == ["LOADED"]
        assert [r["status"] for r in engine.execute(copy)] == ["LOAD_SKIPPED"]  # load once
        assert engine.execute(f"SELECT ID, NAME FROM {DB}.LANDING.ORDERS ORDER BY ID") == [
            {"id": 1, "name": "apple"}, {"id": 2, "name": "pear"}]
        connection.close()

