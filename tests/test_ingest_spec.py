"""Ingestion declarations: what a source may say, and one clear line (file, table, fix) for every bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, run_cli
from ingest_helpers import COLUMNS, make_mesh, source, write_sources

from mesh_cli.core.domains import load_domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.types import DataType
from mesh_cli.ingest import load_ingest_tables

CSV = {"mode": "copy", "location": "landing/orders/", "file_format": {"type": "csv"}}


def test_the_example_mesh_declares_every_kind_of_raw_input() -> None:
    found = {t.label: t for name in ("customers", "orders", "finance")
             for t in load_ingest_tables(load_domain(REPO / "domains" / name))}
    assert {label: (t.mode, t.file_format.type) for label, t in found.items()} == {
        "customers.crm.customers": ("copy", "csv"), "orders.order_stream.order_events": ("kafka", "json"),
        "orders.catalogue.products": ("external_table", "parquet")}
    assert found["orders.order_stream.order_events"].topic == "orders.order_events"
    assert found["orders.order_stream.order_events"].landing_identifier == "order_events_records"
    assert found["customers.crm.customers"].freshness and not found["orders.catalogue.products"].freshness
    assert found["customers.crm.customers"].columns[0].data_type == DataType("number", (38, 0))


def test_a_table_block_is_merged_over_its_sources_block(tmp_path: Path) -> None:
    root = tmp_path / "mesh"
    entry = source(CSV)
    entry["tables"][0]["config"] = {"meta": {"data_mesh": {"ingest": {"on_error": "continue",
                                                                      "location": "elsewhere/"}}}}
    entry["tables"].append({"name": "plain", "columns": COLUMNS, "identifier": "plain_rows"})
    make_mesh(root, [entry, {"name": "untouched", "tables": [{"name": "x"}]}])
    tables = load_ingest_tables(load_domain(root / "domains/shop"))
    assert [(t.name, t.identifier, t.location, t.on_error) for t in tables] == [
        ("orders", "orders", "elsewhere/", "continue"), ("plain", "plain_rows", "landing/orders/", "abort_statement")]


def _kafka(**block: Any) -> dict[str, Any]:
    return source({"mode": "kafka", "location": "events/", **block})


BAD: list[tuple[Any, str]] = [
    (source({**CSV, "mode": "stream"}), "source raw.orders: ingest mode 'stream' is not one of copy, snowpipe, "
     "external_table, kafka"),
    (source({"mode": "copy", "file_format": {"type": "csv"}}), "source raw.orders: `location` is required"),
    (source({**CSV, "location": "../other/"}), "`location` is required: a folder or glob relative to the domain"),
    (source(CSV, columns=[{"name": "where", "data_type": "geography"}]),
     "column 'where' has type 'geography', which the engines cannot cast raw values to"),
    (source(CSV, columns=[{"name": "id", "data_type": "money"}]), "column 'id' has type 'money'"),
    (source(CSV, columns=[{"name": "id"}]), "column 'id' needs a `data_type`"),
    (source(CSV, columns=[]), "list the landing columns under `columns:`, each with a `data_type`"),
    (source(CSV, columns=[COLUMNS[0], COLUMNS[0]]), "column 'id' is listed twice"),
    (source(CSV, columns=[{"name": "_loaded_at", "data_type": "timestamp"}]), "not a metadata column"),
    (source(CSV, columns=[{"name": "a b", "data_type": "varchar"}]), "column 'a b' must be a plain identifier"),
    (_kafka(), "source raw.orders: a kafka source needs its `topic`"),
    (_kafka(topic="t", file_format={"type": "csv"}), "a kafka source lands JSON records"),
    (source({**CSV, "topic": "t"}), "`topic` applies to kafka sources only"),
    (source({**CSV, "aws_sns_topic": "arn"}), "`aws_sns_topic` applies to snowpipe sources only"),
    (source({**CSV, "colour": "red"}), "unknown ingest key(s) colour"),
    (source({**CSV, "on_error": "ignore"}), "on_error 'ignore' is not one of abort_statement, skip_file, continue"),
    (source({**CSV, "pattern": "(["}), "pattern '([' is not a regular expression"),
    (source({**CSV, "file_format": {"type": "xml"}}), "`file_format` needs a `type` of csv, json, parquet"),
    (source({**CSV, "file_format": {"type": "csv", "strip_outer_array": True}}),
     "unknown csv file_format option 'strip_outer_array'"),
    (source({**CSV, "file_format": {"type": "csv", "skip_header": "one"}}),
     "file_format option 'skip_header' must be a int"),
    (source({**CSV, "stage": {"name": "s", "storage_integration": "i"}}),
     "a stage with a storage_integration needs its `url`"),
    (source({**CSV, "stage": {"name": "my-stage"}}), "stage name 'my-stage' must be a plain identifier"),
    (source({**CSV, "auto_refresh": "yes"}), "`auto_refresh` must be true or false"),
    (source(CSV, schema="landing zone"), "schema 'landing zone' must be a plain identifier"),
    (source("copy everything"), "`meta.data_mesh.ingest` must be a mapping"),  # type: ignore[arg-type]
    ([source(CSV), source(CSV, name="again")], "lands in landing.orders, like raw.orders; give one an `identifier:`"),
]


@pytest.mark.parametrize(("sources", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_every_bad_declaration_is_one_clear_line(tmp_path: Path, sources: Any, message: str) -> None:
    root = tmp_path / "mesh"
    make_mesh(root, sources if isinstance(sources, list) else [sources])
    with pytest.raises(MeshError) as raised:
        load_ingest_tables(load_domain(root / "domains/shop"))
    text = str(raised.value)
    assert message in text and "\n" not in text
    assert text.startswith(str(root / "domains/shop/models/_sources.yml"))


def test_the_cli_exits_2_with_the_line_and_ingests_nothing(tmp_path: Path) -> None:
    root = tmp_path / "mesh"
    make_mesh(root, [source(CSV), _kafka()])
    result = run_cli(root, "ingest")
    assert result.exit_code == 2
    assert "a kafka source needs its `topic`" in result.output
    assert not (root / ".mesh/duckdb/shop.duckdb").exists()


def test_a_bad_declaration_fails_its_domain_in_mesh_build(tmp_path: Path) -> None:
    root = tmp_path / "mesh"
    make_mesh(root, [source(CSV)])
    write_sources(root, [source({**CSV, "mode": "ftp"})])
    result = run_cli(root, "build", "--json")
    assert result.exit_code == 2           # refused before anything builds (build/validate.py)
    assert "ingest mode 'ftp'" in result.output
