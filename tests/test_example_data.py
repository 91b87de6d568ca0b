"""The example mesh's raw data: committed files match the generator, and the data keeps its invariants."""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ROOT / "domains"
GENERATOR = ROOT / "scripts" / "generate_example_data.py"
REGIONS = {"EMEA", "NA", "APAC", "LATAM"}


def _rows(relative: str) -> list[dict[str, str]]:
    with (DOMAINS / relative).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _events() -> list[dict[str, object]]:
    return [json.loads(line) for path in sorted((DOMAINS / "orders/landing/order_events").glob("*.ndjson.gz"))
            for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()]


@pytest.fixture(scope="module")
def customers() -> list[dict[str, str]]:
    files = sorted((DOMAINS / "customers/landing/customers").glob("*.csv"))
    assert len(files) == 2
    return [row for path in files for row in _rows(str(path.relative_to(DOMAINS)))]


@pytest.fixture(scope="module")
def orders() -> list[dict[str, str]]:
    return [{key: str(value) for key, value in event["RECORD_CONTENT"].items() if key != "lines"}  # type: ignore[union-attr]
            for event in _events()]


@pytest.fixture(scope="module")
def order_lines() -> list[dict[str, str]]:
    return [{"order_id": str(event["RECORD_CONTENT"]["order_id"]), **{k: str(v) for k, v in line.items()}}  # type: ignore[index]
            for event in _events() for line in event["RECORD_CONTENT"]["lines"]]  # type: ignore[index]


def _products() -> list[dict[str, str]]:
    with duckdb.connect() as connection:
        rows = connection.execute("select product_id, product_name, category from read_parquet(?, "
                                  "hive_partitioning = true)", [str(DOMAINS / "orders/landing/products/*/*.parquet")])
        return [{"product_id": str(i), "product_name": name, "category": category}
                for i, name, category in rows.fetchall()]


def test_order_events_are_kafka_shaped() -> None:
    events = _events()
    assert {tuple(sorted(e)) for e in events} == {("RECORD_CONTENT", "RECORD_METADATA")}
    metadata = [e["RECORD_METADATA"] for e in events]
    assert [m["offset"] for m in metadata] == list(range(len(events)))  # type: ignore[index]
    assert {m["topic"] for m in metadata} == {"orders.order_events"}  # type: ignore[index]
    assert all(str(m["key"]) == str(e["RECORD_CONTENT"]["order_id"]) for m, e in zip(metadata, events, strict=True))  # type: ignore[index]


def test_committed_files_match_the_generator() -> None:
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_check_fails_on_a_stale_csv(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), "--domains-dir", str(tmp_path)], check=True,
                   capture_output=True)
    stale = tmp_path / "finance" / "seeds" / "revenue_targets.csv"
    stale.write_text(stale.read_text(encoding="utf-8") + "NA,2099-01-01,1.00\n", encoding="utf-8")
    result = subprocess.run([sys.executable, str(GENERATOR), "--check", "--domains-dir", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "revenue_targets.csv" in result.stderr


def test_row_counts(customers: list[dict[str, str]], orders: list[dict[str, str]],
                    order_lines: list[dict[str, str]]) -> None:
    assert len(customers) == 2_000
    assert len(orders) == 10_000
    assert 20_000 <= len(order_lines) <= 30_000
    assert len(_products()) == 150


def test_keys_are_unique(customers: list[dict[str, str]], orders: list[dict[str, str]],
                         order_lines: list[dict[str, str]]) -> None:
    assert len({c["customer_id"] for c in customers}) == len(customers)
    assert len({c["email"] for c in customers}) == len(customers)
    assert len({o["order_id"] for o in orders}) == len(orders)
    assert len({(line["order_id"], line["line_number"]) for line in order_lines}) == len(order_lines)


def test_referential_integrity(customers: list[dict[str, str]], orders: list[dict[str, str]],
                               order_lines: list[dict[str, str]]) -> None:
    customer_ids = {c["customer_id"] for c in customers}
    order_ids = {o["order_id"] for o in orders}
    product_ids = {p["product_id"] for p in _products()}
    assert {o["customer_id"] for o in orders} <= customer_ids
    assert {line["order_id"] for line in order_lines} == order_ids  # every order has at least one line
    assert {line["product_id"] for line in order_lines} <= product_ids


def test_domains_of_values(customers: list[dict[str, str]], orders: list[dict[str, str]]) -> None:
    assert {c["region"] for c in customers} == REGIONS
    assert {o["status"] for o in orders} == {"placed", "shipped", "delivered", "returned", "cancelled"}
    dates = [date.fromisoformat(o["order_date"]) for o in orders]
    assert min(dates) >= date(2025, 1, 1) and max(dates) <= date(2026, 10, 31)
    signups = {c["customer_id"]: date.fromisoformat(c["signup_date"]) for c in customers}
    assert all(date.fromisoformat(o["order_date"]) >= signups[o["customer_id"]] for o in orders)


def test_revenue_targets_cover_every_region_and_month() -> None:
    targets = _rows("finance/seeds/revenue_targets.csv")
    months = {(y, m) for y in (2025, 2026) for m in range(1, 13) if (y, m) <= (2026, 10)}
    expected = {(region, date(y, m, 1)) for region in REGIONS for y, m in months}
    assert {(t["region"], date.fromisoformat(t["month"])) for t in targets} == expected
    assert len(targets) == len(expected) == 88
