"""`mesh build` lands each domain's raw files before its models build, and reports source freshness."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from conftest import run_build

from mesh_cli.build.run import SUCCESS, BuildReport
from mesh_cli.commands.build import _print_ingestion, _report_json, _summary
from mesh_cli.commands.common import console


def _count(root: Path, domain: str, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(root / f".mesh/duckdb/{domain}.duckdb"), read_only=True) as connection:
        connection.execute("set variable mesh_roles = ['ALL_REGIONS']")  # row access on public models
        return connection.execute(sql).fetchall()


def test_build_lands_the_example_raw_files_and_checks_freshness(built_mesh: tuple[Path, BuildReport]) -> None:
    root, report = built_mesh
    customers, orders, finance = report.results
    assert (customers.ingested.files, customers.ingested.rows) == (2, 2_000)  # type: ignore[union-attr]
    assert (orders.ingested.files, orders.ingested.rows) == (22 + 8, 10_000 + 150)  # type: ignore[union-attr]
    assert finance.ingested is not None and finance.ingested.tables == []
    assert _count(root, "orders", "select count(*), count(distinct order_id) from landing.order_events") == [
        (10_000, 10_000)]
    assert _count(root, "orders", "select count(distinct category), count(*) from landing.products") == [(8, 150)]
    assert _count(root, "customers", "select count(*) from mesh_ingest.load_history") == [(2,)]
    # freshness ran in the build: the CRM exports were just landed; the order events are historical
    # (their Kafka CreateTime ends on 2026-10-31, and the source warns after a day)
    assert customers.stale_sources == [] and customers.count("source", "pass") == 1
    assert orders.stale_sources == ["order_stream.order_events (warn)"]
    freshness = json.loads((root / "domains/orders/target/sources.json").read_text())["results"]
    assert [(r["unique_id"], r["status"]) for r in freshness] == [
        ("source.orders.order_stream.order_events", "warn")]


def test_the_summary_shows_ingestion_and_stale_sources(built_mesh: tuple[Path, BuildReport]) -> None:
    _, report = built_mesh
    with console.capture() as captured:
        console.print(_summary(report))
        _print_ingestion(report)
    text = captured.get()
    assert "ingested" in text and "2 file(s), 2000 row(s)" in text and "30 file(s), 10150 row(s)" in text
    assert "stale sources in orders: order_stream.order_events (warn)" in text
    assert json.loads(_report_json(report))["domains"][1]["stale_sources"] == ["order_stream.order_events (warn)"]


def test_a_new_landing_file_is_picked_up_by_the_next_build_and_only_it(built_copy: Path) -> None:
    landing = built_copy / "domains/customers/landing/customers"
    header = (landing / "customers_0001.csv").read_text().splitlines()[0]
    (landing / "customers_0003.csv").write_text(
        header + "\n2001,Ada,Lovelace,ada@example.org,+44 20 7946 0001,1990-12-10,EMEA,GB,2026-11-01\n"
        "2002,Alan,Turing,alan@example.org,+44 20 7946 0002,1992-06-23,EMEA,GB,2026-11-02\n")
    report = run_build(built_copy, "customers", changed=True)
    [customers] = report.results
    assert customers.status == SUCCESS
    load = customers.ingested.tables[0]  # type: ignore[union-attr]
    assert (load.files_loaded, load.rows_loaded) == (["landing/customers/customers_0003.csv"], 2)
    # --changed: the new rows select their source's children, not the whole domain's unchanged rest
    ran = json.loads((built_copy / ".mesh/state/dev/customers/run_results.json").read_text())["results"]
    assert {r["unique_id"] for r in ran if r["unique_id"].startswith("model.")} >= {
        "model.customers.stg_customers", "model.customers.dim_customers.v2"}
    assert _count(built_copy, "customers", "select count(*) from marts.dim_customers_v2") == [(2_002,)]
