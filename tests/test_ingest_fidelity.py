"""Ingestion as Snowflake accepts it: external tables on external stages only
(https://docs.snowflake.com/en/sql-reference/sql/create-external-table), and no stage or file format recreated (or
stage URL altered) under dependent external tables (behaviour change 2025_05,
https://docs.snowflake.com/en/release-notes/bcr-bundles/2025_05/bcr-1989): refused without --full-refresh, and with
it the external tables are dropped before the change and created again after it."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli
from ingest_helpers import make_mesh, source

from mesh_cli.core.domains import load_domain
from mesh_cli.core.ingest_spec import BLOCKED
from mesh_cli.core.plan import Plan, RecordedState
from mesh_cli.engines.snowflake_ingest import plan_domain
from mesh_cli.ingest import load_ingest_tables

STAGE = {"name": "raw_s3", "url": "s3://bucket/new/", "storage_integration": "s3_int"}
EXTERNAL = {"mode": "external_table", "location": "items/", "file_format": {"type": "parquet"}, "stage": STAGE}
COLUMNS = [{"name": "sku", "data_type": "varchar"}]


def _state(url: str = "s3://bucket/new/", format_type: str = "PARQUET",
           foreign: bool = False) -> dict[str, list[dict[str, object]]]:
    """SHOW output of a converged external table ITEMS over stage RAW_S3 (SHOW EXTERNAL TABLES columns `stage`,
    `file_format_name` as documented at https://docs.snowflake.com/en/sql-reference/sql/show-external-tables)."""
    tables = [{"name": "ITEMS", "stage": "@SHOP.LANDING.RAW_S3", "file_format_name": "SHOP.LANDING.ITEMS_FORMAT"}]
    if foreign:
        tables.append({"name": "LEGACY", "stage": "@SHOP.LANDING.RAW_S3", "file_format_name": ""})
    return {"SHOW SCHEMAS LIKE 'LANDING' IN DATABASE SHOP": [{"name": "LANDING"}],
            "SHOW STAGES IN SCHEMA SHOP.LANDING": [{"name": "RAW_S3", "url": url}],
            "SHOW FILE FORMATS IN SCHEMA SHOP.LANDING": [{"name": "ITEMS_FORMAT", "type": format_type,
                                                          "format_options": f'{{"TYPE": "{format_type}"}}'}],
            "SHOW TABLES IN SCHEMA SHOP.LANDING": [],
            "SHOW EXTERNAL TABLES IN SCHEMA SHOP.LANDING": tables}


def _plan(tmp_path: Path, state: dict, full_refresh: bool = False, block: dict = EXTERNAL) -> Plan:
    root = tmp_path / "mesh"
    make_mesh(root, [source(block, columns=COLUMNS, table="items")])
    tables = load_ingest_tables(load_domain(root / "domains/shop"))
    return plan_domain("shop", tables, "SHOP", RecordedState(state), full_refresh)


def test_an_external_table_on_an_internal_stage_is_refused_in_one_line(tmp_path: Path) -> None:
    root = tmp_path / "mesh"
    make_mesh(root, [source({**EXTERNAL, "stage": "landing"}, columns=COLUMNS, table="items")])
    result = run_cli(root, "ingest", "--target", "prod", "--plan")
    assert result.exit_code == 2
    line = " ".join(result.output.split())
    assert "domains/shop/models/_sources.yml: source raw.items: an external table reads an external stage only, " \
           "and stage 'landing' is internal" in line
    assert "https://docs.snowflake.com/en/sql-reference/sql/create-external-table" in line


def test_a_stage_named_alone_takes_the_url_declared_elsewhere(tmp_path: Path) -> None:
    root = tmp_path / "mesh"
    make_mesh(root, [source({**EXTERNAL, "stage": "raw_s3"}, columns=COLUMNS, table="items"),
                     source({"mode": "snowpipe", "location": "e/", "file_format": {"type": "json"}, "stage": STAGE},
                            columns=COLUMNS, name="events", table="clicks")])
    tables = load_ingest_tables(load_domain(root / "domains/shop"))
    assert {t.stage.url for t in tables} == {"s3://bucket/new/"}
    sqls = [s.sql for s in plan_domain("shop", tables, "SHOP", RecordedState()).statements]
    assert [s for s in sqls if s.startswith("CREATE STAGE")] == [
        "CREATE STAGE SHOP.LANDING.RAW_S3 URL = 's3://bucket/new/' STORAGE_INTEGRATION = s3_int"]


def test_converged_external_table_plans_only_its_refresh(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _state())
    assert [s.sql for s in plan.statements] == ["ALTER EXTERNAL TABLE SHOP.LANDING.ITEMS REFRESH"]


def test_a_stage_url_change_under_an_external_table_is_blocked_without_full_refresh(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _state(url="s3://bucket/old/"))
    assert not [s for s in plan.statements if s.object_kind == "stage"]
    [note] = [n for n in plan.notes if n.startswith(BLOCKED)]
    assert "SHOP.LANDING.RAW_S3 changes and external tables read it (SHOP.LANDING.ITEMS)" in note
    assert "bcr-1989" in note and "--full-refresh" in note


def test_with_full_refresh_the_external_table_is_dropped_before_and_created_after(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _state(url="s3://bucket/old/"), full_refresh=True)
    sqls = [s.sql for s in plan.statements]
    assert sqls == ["DROP EXTERNAL TABLE SHOP.LANDING.ITEMS",
                    "ALTER STAGE SHOP.LANDING.RAW_S3 SET URL = 's3://bucket/new/'",
                    sqls[2]]
    assert sqls[2].startswith("CREATE EXTERNAL TABLE SHOP.LANDING.ITEMS (")   # not OR REPLACE: it was dropped
    assert plan.statements[0].destructive and not [n for n in plan.notes if n.startswith(BLOCKED)]


def test_a_file_format_change_under_an_external_table(tmp_path: Path) -> None:
    blocked = _plan(tmp_path, _state(format_type="CSV"))
    assert not [s for s in blocked.statements if s.object_kind == "file format"]
    assert any(n.startswith(f"{BLOCKED}: SHOP.LANDING.ITEMS_FORMAT changes") for n in blocked.notes)
    forced = [s.sql for s in _plan(tmp_path, _state(format_type="CSV"), full_refresh=True).statements]
    assert [s.split(" (")[0] for s in forced] == [
        "DROP EXTERNAL TABLE SHOP.LANDING.ITEMS",
        "CREATE OR REPLACE FILE FORMAT SHOP.LANDING.ITEMS_FORMAT TYPE = PARQUET",
        "CREATE EXTERNAL TABLE SHOP.LANDING.ITEMS"]


def test_an_external_table_the_domain_does_not_declare_blocks_even_with_full_refresh(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _state(url="s3://bucket/old/", foreign=True), full_refresh=True)
    assert not [s for s in plan.statements if s.object_kind == "stage" or s.action == "drop"]
    assert any("drop SHOP.LANDING.LEGACY (not declared here) first" in n for n in plan.notes)
