"""Ingestion on DuckDB: real files into a real database file, each file once, on_error, partitions, evolution."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import duckdb
import pytest
from conftest import run_cli
from ingest_helpers import COLUMNS, make_mesh, query, run_ingest, source, write_file, write_sources

from mesh_cli.core.destroy import DestructionRefused
from mesh_cli.core.errors import EXIT_FAILED, MeshError, RunFailed
from mesh_cli.core.plan import Plan

CSV = {"mode": "copy", "location": "landing/orders/", "pattern": ".*[.]csv",
       "file_format": {"type": "csv", "skip_header": 1}}


def _csv(*rows: str) -> str:
    return "id,name,amount\n" + "".join(f"{row}\n" for row in rows)


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "mesh"
    domain = make_mesh(root, [source(CSV)])
    write_file(domain, "landing/orders/a.csv", _csv("1,apple,1.50", "2,pear,2.25"), mtime=1_700_000_000)
    write_file(domain, "landing/orders/b.csv", _csv("3,plum,0.99"), mtime=1_700_000_000)
    return root, domain


def test_each_file_loads_once_new_files_alone_edited_files_again(shop: tuple[Path, Path]) -> None:
    root, domain = shop
    first = run_ingest(root)
    assert (first.files, first.rows) == (2, 3)
    assert query(root, "select id, name, cast(amount as varchar), _file, _file_row from landing.orders order by id") \
        == [(1, "apple", "1.50", "landing/orders/a.csv", 1), (2, "pear", "2.25", "landing/orders/a.csv", 2),
            (3, "plum", "0.99", "landing/orders/b.csv", 1)]
    assert query(root, "select count(distinct _loaded_at), min(_file_last_modified) from landing.orders") == [
        (1, query(root, "select make_timestamp(1700000000::bigint * 1000000)")[0][0])]

    assert first.plan is not None and [(s.action, s.object_name) for s in first.plan.statements] == [
        ("create", "mesh_ingest"), ("create", "mesh_ingest.load_history"), ("create", "landing"),
        ("create", "landing.orders")]
    again = run_ingest(root)
    assert (again.files, again.rows) == (0, 0)
    assert again.plan is not None and again.plan.empty   # converged: the landing plan changes nothing

    write_file(domain, "landing/orders/c.csv", _csv("4,fig,3.00"))
    write_file(domain, "landing/orders/notes.txt", "not matched by the pattern")
    added = run_ingest(root)
    assert added.tables[0].files_loaded == ["landing/orders/c.csv"] and added.rows == 1

    write_file(domain, "landing/orders/b.csv", _csv("3,plum,1.09", "5,kiwi,0.50"), mtime=1_800_000_000)
    edited = run_ingest(root)
    assert edited.tables[0].files_loaded == ["landing/orders/b.csv"] and edited.rows == 2
    # Snowflake's rule: an edited file loads again, its earlier rows stay (staging keeps the latest version)
    assert query(root, "select _file, count(*) from landing.orders group by 1 order by 1") == [
        ("landing/orders/a.csv", 2), ("landing/orders/b.csv", 3), ("landing/orders/c.csv", 1)]
    assert query(root, "select file, size, status, rows_loaded from mesh_ingest.load_history "
                       "where file like '%b.csv' order by last_modified") == [
        ("landing/orders/b.csv", len(_csv("3,plum,0.99")), "loaded", 1),
        ("landing/orders/b.csv", len(_csv("3,plum,1.09", "5,kiwi,0.50")), "loaded", 2)]


def _die_during_second_file(root: str) -> None:
    """Child process: load, and die (no cleanup, like a kill) while inserting the second file's rows."""
    from mesh_cli.engines import duckdb_ingest as local

    real, inserts = local._rows, []

    def dying(connection: object, sql: str, parameters: list[object] | None = None) -> list[tuple[object, ...]]:
        if sql.startswith("insert into"):
            inserts.append(sql)
            if len(inserts) == 2:
                os._exit(9)
        return real(connection, sql, parameters)

    local._rows = dying  # type: ignore[assignment]
    run_ingest(Path(root))


def test_a_load_killed_midway_leaves_nothing_and_the_rerun_loads_every_row_once(shop: tuple[Path, Path]) -> None:
    root, _ = shop
    child = multiprocessing.get_context("fork").Process(target=_die_during_second_file, args=(str(root),))
    child.start()
    child.join()
    assert child.exitcode == 9
    assert query(root, "select count(*) from landing.orders") == [(0,)]
    assert query(root, "select count(*) from mesh_ingest.load_history") == [(0,)]
    rerun = run_ingest(root)
    assert (rerun.files, rerun.rows) == (2, 3)
    assert query(root, "select id, count(*) from landing.orders group by id order by id") == [(1, 1), (2, 1), (3, 1)]


@pytest.mark.parametrize(("on_error", "files", "rows", "rejected"), [
    ("skip_file", ["landing/orders/a.csv"], 2, 0),
    ("continue", ["landing/orders/a.csv", "landing/orders/bad.csv"], 3, 1),
])
def test_on_error_skip_file_and_continue(tmp_path: Path, on_error: str, files: list[str], rows: int,
                                         rejected: int) -> None:
    root = tmp_path / "mesh"
    domain = make_mesh(root, [source({**CSV, "on_error": on_error})])
    write_file(domain, "landing/orders/a.csv", _csv("1,apple,1.50", "2,pear,2.25"))
    write_file(domain, "landing/orders/bad.csv", _csv("3,plum,0.99", "four,fig,1.00"))
    result = run_ingest(root)
    load = result.tables[0]
    assert (load.files_loaded, load.rows_loaded, load.rows_rejected) == (files, rows, rejected)
    assert load.rejected == ["landing/orders/bad.csv row 2: id = 'four'"]
    if on_error == "skip_file":
        assert load.files_skipped == ["landing/orders/bad.csv: 1 row(s) do not cast (on_error: skip_file)"]
        assert run_ingest(root).tables[0].files_skipped == load.files_skipped  # retried until fixed
    else:
        assert query(root, "select status, rows_loaded, rows_rejected from mesh_ingest.load_history "
                           "where file like '%bad.csv'") == [("partially_loaded", 1, 1)]
        assert run_ingest(root).rows == 0


def test_on_error_abort_statement_loads_nothing(tmp_path: Path) -> None:
    """A file that does not load fails the run (exit 1, as Snowflake's COPY fails): the data, not the declaration."""
    root = tmp_path / "mesh"
    domain = make_mesh(root, [source(CSV)])
    write_file(domain, "landing/orders/a.csv", _csv("1,apple,1.50"))
    write_file(domain, "landing/orders/bad.csv", _csv("2,pear,1.00", "3,plum,cheap"))
    with pytest.raises(RunFailed, match=r"1 row\(s\) of landing/orders/bad.csv do not cast to the declared types "
                       r"\(first: landing/orders/bad.csv row 2: amount = 'cheap'\); nothing loaded") as uncast:
        run_ingest(root)
    assert query(root, "select count(*) from landing.orders") == [(0,)]
    write_file(domain, "landing/orders/bad.csv", "id,name,amount\n2,pear\n")  # too few columns: unreadable
    with pytest.raises(RunFailed, match=r"cannot read landing/orders/bad.csv: .*nothing loaded") as unreadable:
        run_ingest(root)
    assert uncast.value.exit_code == unreadable.value.exit_code == EXIT_FAILED
    write_sources(root, [source({**CSV, "on_error": "skip_file"})])
    result = run_ingest(root)
    assert result.rows == 1 and result.tables[0].files_skipped[0].startswith("landing/orders/bad.csv: ")


@pytest.mark.parametrize(("reader", "error"), [
    (("selec 1", []), duckdb.ParserException),                            # SQL that does not parse
    (("select 1 as one", [("id", "no_such_column")]), duckdb.BinderException),   # a column the SQL does not have
])
def test_a_fault_in_the_loader_is_no_unreadable_file(shop: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
                                                     reader: tuple[str, list[tuple[str, str]]],
                                                     error: type[Exception]) -> None:
    """Only DuckDB's errors for a file it cannot read are bad input in that file; broken SQL of the loader's own is a
    bug, raised as it is (the CLI reports an internal error), never "cannot read <file>"."""
    from mesh_cli.engines import duckdb_ingest

    monkeypatch.setattr(duckdb_ingest, "_reader", lambda table, file: reader)
    with pytest.raises(error):
        run_ingest(shop[0])


def test_a_parquet_file_without_a_declared_column_is_an_unreadable_file(tmp_path: Path) -> None:
    """Found before reading it (DuckDB's own error would be a BinderException, which is also a fault in mesh's SQL):
    skipped under `skip_file`, a failed run under `abort_statement`."""
    root = tmp_path / "mesh"
    parquet = {**CSV, "pattern": ".*[.]parquet", "file_format": {"type": "parquet"}}
    domain = make_mesh(root, [source({**parquet, "on_error": "skip_file"})])
    (domain / "landing/orders").mkdir(parents=True)
    with duckdb.connect() as connection:
        for name, columns in (("good", "1 as id, 'apple' as name, 1.5 as amount"), ("bad", "2 as ID, 'pear' as name")):
            connection.execute(f"copy (select {columns}) to '{domain}/landing/orders/{name}.parquet' (format parquet)")
    load = run_ingest(root).tables[0]
    assert (load.files_loaded, load.rows_loaded) == (["landing/orders/good.parquet"], 1)
    assert load.files_skipped == ["landing/orders/bad.parquet: the file has no column amount (its columns: id, name)"]
    write_sources(root, [source(parquet)])
    with pytest.raises(RunFailed, match=r"cannot read landing/orders/bad\.parquet: the file has no column amount"):
        run_ingest(root)


def test_hive_partitions_and_external_tables_follow_the_files(tmp_path: Path) -> None:
    root = tmp_path / "mesh"
    domain = make_mesh(root, [
        source({**CSV, "location": "landing/sales/**/*.csv", "partitions": [{"name": "region", "data_type": "varchar"},
                                                                          {"name": "day", "data_type": "date"}]},
               table="sales"),
        source({"mode": "external_table", "location": "landing/catalogue/", "file_format": {"type": "json"},
                "partitions": [{"name": "category", "data_type": "varchar"}],
                "stage": {"name": "catalogue", "url": "s3://bucket/shop/"}},   # external tables need one
               columns=[{"name": "sku", "data_type": "varchar"}, {"name": "price", "data_type": "float"}],
               name="catalogue", table="items")])
    write_file(domain, "landing/sales/region=EU/day=2026-01-02/part.csv", _csv("1,a,1.00", "2,b,2.00"))
    write_file(domain, "landing/sales/region=US/day=2026-01-03/part.csv", _csv("3,c,3.00"))
    write_file(domain, "landing/catalogue/category=toys/items.json", '{"sku": "t1", "price": 9.5}\n')
    write_file(domain, "landing/catalogue/category=home/items.json", '{"sku": "h1", "price": 20}\n')
    run_ingest(root)
    assert query(root, "select region, cast(day as varchar), count(*) from landing.sales group by all order by 1") == [
        ("EU", "2026-01-02", 2), ("US", "2026-01-03", 1)]
    assert query(root, "select category, sku, price from landing.items order by 1") == [
        ("home", "h1", 20.0), ("toys", "t1", 9.5)]

    (domain / "landing/catalogue/category=home/items.json").unlink()  # an external table shows the files there are
    reloaded = run_ingest(root)
    assert [t.files_loaded for t in reloaded.tables] == [[], ["landing/catalogue/category=toys/items.json"]]
    assert query(root, "select category, sku from landing.items") == [("toys", "t1")]
    assert run_ingest(root).files == 0


def test_kafka_records_land_raw_and_read_typed(tmp_path: Path) -> None:
    root = tmp_path / "mesh"
    columns = [{"name": "order_id", "data_type": "number(38,0)"}, {"name": "lines", "data_type": "variant"}]
    domain = make_mesh(root, [source({"mode": "kafka", "topic": "orders", "location": "landing/events/",
                                      "on_error": "continue"}, columns=columns, table="events")])
    created = 1_767_225_600_000  # 2026-01-01 00:00 UTC, in ms
    records = [{"RECORD_METADATA": {"topic": "orders", "partition": 0, "offset": i, "CreateTime": created + i},
                "RECORD_CONTENT": {"order_id": 10 + i, "lines": [{"sku": "a", "qty": i}]}} for i in range(3)]
    text = "".join(json.dumps(r) + "\n" for r in records) + '{"not": "a connector record"}\n'
    write_file(domain, "landing/events/part-0.json", text)
    result = run_ingest(root)
    assert (result.rows, result.rejected) == (3, 1)
    assert run_ingest(root).plan == Plan("ingestion of shop")   # the typed view stands as declared: not replaced
    assert query(root, "select order_id, lines->>'$[0].qty', _offset, _topic, cast(_loaded_at as varchar) "
                       "from landing.events order by order_id") == [
        (10, "0", 0, "orders", "2026-01-01 00:00:00"), (11, "1", 1, "orders", "2026-01-01 00:00:00.001"),
        (12, "2", 2, "orders", "2026-01-01 00:00:00.002")]
    assert query(root, "select count(*) from landing.events_records where record_metadata is not null") == [(3,)]
    write_sources(root, [source({"mode": "kafka", "topic": "orders", "location": "landing/events/",
                                 "on_error": "continue"}, columns=[{**columns[0], "data_type": "varchar"}, columns[1]],
                                table="events")])
    retyped = run_ingest(root).plan   # a retyped column: the view alone changes
    assert retyped is not None and [(s.action, s.object_name) for s in retyped.statements] == [
        ("replace", "landing.events")]
    assert query(root, "select typeof(order_id) from landing.events limit 1") == [("VARCHAR",)]


def test_a_new_yaml_column_is_added_in_place_and_a_retyped_one_needs_full_refresh(shop: tuple[Path, Path]) -> None:
    root, domain = shop
    run_ingest(root)
    write_sources(root, [source({**CSV, "pattern": ".*[.]csv"}, columns=[*COLUMNS, {"name": "note",
                                                                                    "data_type": "varchar"}])])
    write_file(domain, "landing/orders/c.csv", _csv("4,fig,3.00,ripe"))
    evolved = run_ingest(root)
    assert evolved.plan is not None and [s.sql for s in evolved.plan.statements] == [
        'alter table "landing"."orders" add column "note" VARCHAR']
    assert evolved.tables[0].files_loaded == ["landing/orders/c.csv"]  # the history survived: no reload
    assert query(root, "select id, note from landing.orders order by id") == [
        (1, None), (2, None), (3, None), (4, "ripe")]

    (domain / "landing/orders/c.csv").unlink()
    retyped = [{**COLUMNS[0], "data_type": "varchar"}, *COLUMNS[1:]]
    write_sources(root, [source(CSV, columns=retyped)])
    with pytest.raises(MeshError, match=r"landing table landing.orders of shop.raw.orders: column\(s\) "
                       r"id \(BIGINT → VARCHAR\), note \(VARCHAR → removed\) changed; run with --full-refresh"):
        run_ingest(root)
    with pytest.raises(DestructionRefused, match=r'drop table "landing"."orders" .*--allow-destroy'):
        run_ingest(root, full_refresh=True)   # the plan drops rows and history: allowed explicitly, as on Snowflake
    assert query(root, "select typeof(id) from landing.orders limit 1") == [("BIGINT",)]
    refreshed = run_ingest(root, full_refresh=True, allow_destroy=True)
    assert refreshed.plan is not None and [s.action for s in refreshed.plan.statements][:2] == ["drop", "delete"]
    assert refreshed.rows == 3 and query(root, "select typeof(id) from landing.orders limit 1") == [("VARCHAR",)]


def test_mesh_ingest_plan_lists_new_files_without_loading(shop: tuple[Path, Path]) -> None:
    root, _ = shop
    planned = run_cli(root, "ingest", "--plan", "--json")
    assert planned.exit_code == 0, planned.output
    [domain] = json.loads(planned.output)
    assert domain["tables"][0]["pending"] == ["landing/orders/a.csv", "landing/orders/b.csv"]
    assert not (root / ".mesh/duckdb/shop.duckdb").exists()
    done = run_cli(root, "ingest")
    assert done.exit_code == 0 and "shop.raw.orders" in done.output
    assert json.loads(run_cli(root, "ingest", "--plan", "--json").output)[0]["tables"][0]["pending"] == []
