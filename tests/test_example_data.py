"""The example mesh's seed data: committed CSVs match the generator, and the data keeps its invariants."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ROOT / "domains"
GENERATOR = ROOT / "scripts" / "generate_example_data.py"
REGIONS = {"EMEA", "NA", "APAC", "LATAM"}


def _rows(relative: str) -> list[dict[str, str]]:
    with (DOMAINS / relative).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def customers() -> list[dict[str, str]]:
    return _rows("customers/seeds/raw_customers.csv")


@pytest.fixture(scope="module")
def orders() -> list[dict[str, str]]:
    return _rows("orders/seeds/raw_orders.csv")


@pytest.fixture(scope="module")
def order_lines() -> list[dict[str, str]]:
    return _rows("orders/seeds/raw_order_lines.csv")


def test_committed_csvs_match_the_generator() -> None:
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
    assert len(_rows("orders/seeds/raw_products.csv")) == 150


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
    product_ids = {p["product_id"] for p in _rows("orders/seeds/raw_products.csv")}
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
