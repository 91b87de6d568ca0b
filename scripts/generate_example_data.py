"""Generate the raw files of the example retail mesh (``domains/*/landing/``, ``domains/finance/seeds/``).

The data is synthetic and fully deterministic: one ``random.Random`` with a fixed seed drives every choice,
so running the script twice writes the same files. ``customers`` receives CSV exports of its CRM,
``orders`` receives order events as the Snowflake Kafka connector lands them (gzipped newline-delimited JSON)
and its product catalogue as Parquet files partitioned by category; ``mesh ingest`` lands them. Names,
e-mail addresses (reserved ``example.*`` domains) and phone numbers look realistic but belong to nobody.

Usage::

    python scripts/generate_example_data.py           # (re)write every raw file
    python scripts/generate_example_data.py --check   # exit 1 if a committed file differs from the generator
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

SEED = 20250101
DOMAINS_DIR = Path(__file__).resolve().parent.parent / "domains"

N_CUSTOMERS = 2_000
N_ORDERS = 10_000
N_PRODUCTS = 150
ORDERS_START = date(2025, 1, 1)
ORDERS_END = date(2026, 10, 31)
CUSTOMERS_PER_FILE = 1_000
ORDER_TOPIC = "orders.order_events"

# region -> ((ISO country code, international dialling code), ...)
COUNTRIES: dict[str, tuple[tuple[str, str], ...]] = {
    "NA": (("US", "1"), ("US", "1"), ("US", "1"), ("CA", "1")),
    "EMEA": (("GB", "44"), ("DE", "49"), ("FR", "33"), ("NL", "31"), ("ES", "34"), ("SE", "46"), ("ZA", "27"),
             ("AE", "971")),
    "APAC": (("AU", "61"), ("JP", "81"), ("SG", "65"), ("IN", "91"), ("NZ", "64")),
    "LATAM": (("BR", "55"), ("MX", "52"), ("AR", "54"), ("CL", "56"), ("CO", "57")),
}
REGION_WEIGHTS = {"NA": 35, "EMEA": 35, "APAC": 20, "LATAM": 10}

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Daniel", "Karen",
    "Oliver", "Amelia", "Lukas", "Emma", "Hugo", "Chloe", "Lars", "Ingrid", "Pieter", "Sanne",
    "Mateo", "Lucia", "Diego", "Valentina", "Gabriel", "Camila", "Rafael", "Isabela", "Thabo", "Naledi",
    "Omar", "Layla", "Arjun", "Priya", "Rahul", "Ananya", "Hiroshi", "Yuki", "Kenji", "Sakura",
    "Wei", "Mei", "Liam", "Olivia", "Noah", "Ava", "Ethan", "Mia", "Lucas", "Sofia",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martinez", "Wilson",
    "Taylor", "Anderson", "Thomas", "Moore", "Martin", "Lee", "Walker", "Hall", "Young", "King",
    "Muller", "Schmidt", "Schneider", "Fischer", "Dubois", "Moreau", "Laurent", "Bernard", "de Vries", "Jansen",
    "Johansson", "Lindqvist", "Fernandez", "Lopez", "Gonzalez", "Rodriguez", "Silva", "Santos", "Oliveira",
    "Pereira", "Nkosi", "Dlamini", "Haddad", "Khan", "Patel", "Sharma", "Iyer", "Tanaka", "Suzuki", "Sato",
    "Watanabe", "Chen", "Wang", "Li", "Nguyen", "Tan", "Wright", "Clarke", "O'Brien", "Murphy",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

STATUSES = ("placed", "shipped", "delivered", "returned", "cancelled")
CHANNELS = {"web": 45, "mobile_app": 30, "store": 20, "marketplace": 5}

# category -> (price range in cents, adjectives, nouns)
CATALOGUE: dict[str, tuple[tuple[int, int], tuple[str, ...], tuple[str, ...]]] = {
    "Apparel": ((1_499, 8_999), ("Classic", "Organic", "Slim-Fit", "Relaxed", "Merino"),
                ("T-Shirt", "Hoodie", "Chinos", "Denim Jacket", "Polo Shirt", "Sweater")),
    "Footwear": ((3_999, 15_999), ("Trail", "Leather", "Everyday", "Waterproof"),
                 ("Running Shoes", "Sneakers", "Boots", "Sandals")),
    "Home": ((999, 12_999), ("Linen", "Cotton", "Velvet", "Woven", "Ceramic"),
             ("Cushion Cover", "Throw Blanket", "Table Lamp", "Vase", "Duvet Set")),
    "Kitchen": ((799, 19_999), ("Cast-Iron", "Stainless", "Non-Stick", "Bamboo"),
                ("Frying Pan", "Chef's Knife", "Cutting Board", "Saucepan", "Kettle")),
    "Electronics": ((1_999, 49_999), ("Wireless", "Portable", "Smart", "Compact"),
                    ("Headphones", "Speaker", "Charger", "Fitness Tracker", "Webcam")),
    "Beauty": ((499, 5_999), ("Hydrating", "Vitamin C", "Fragrance-Free", "Daily"),
               ("Face Cream", "Serum", "Shampoo", "Lip Balm", "Sunscreen")),
    "Sports": ((1_499, 24_999), ("Pro", "Lightweight", "Adjustable", "Training"),
               ("Yoga Mat", "Dumbbell Set", "Water Bottle", "Tennis Racket", "Backpack")),
    "Toys": ((699, 7_999), ("Wooden", "Classic", "Deluxe", "Mini"),
             ("Puzzle", "Building Blocks", "Board Game", "Plush Bear", "Train Set")),
}


@dataclass(frozen=True)
class Customer:
    customer_id: int
    region: str
    signup_date: date


@dataclass(frozen=True)
class Product:
    product_id: int
    list_price_cents: int


def _date_between(rng: random.Random, start: date, end: date) -> date:
    """A uniformly random date in [start, end]."""
    return start + timedelta(days=rng.randint(0, (end - start).days))


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    """One key of ``weights``, drawn with the given relative weights."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _phone(rng: random.Random, dialling_code: str) -> str:
    """A plausible international phone number, e.g. ``+44 7700 912345``."""
    if dialling_code == "1":  # NANP: 555-01xx numbers are reserved for fiction
        return f"+1 {rng.randint(201, 989)}-555-01{rng.randint(0, 99):02d}"
    return f"+{dialling_code} {rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def _money(cents: int) -> str:
    """Cents as a decimal string with two places (no float rounding involved)."""
    return f"{cents // 100}.{cents % 100:02d}"


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _months(start: date, end: date) -> list[date]:
    """First day of every month from ``start``'s month to ``end``'s month, inclusive."""
    months, current = [], _month_start(start)
    while current <= end:
        months.append(current)
        current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def _gen_customers(rng: random.Random) -> tuple[list[list[object]], list[Customer]]:
    rows: list[list[object]] = []
    customers: list[Customer] = []
    seen_emails: set[str] = set()
    for customer_id in range(1, N_CUSTOMERS + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        region = _weighted(rng, REGION_WEIGHTS)
        country, dialling_code = rng.choice(COUNTRIES[region])
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        email, n = f"{local}@{rng.choice(EMAIL_DOMAINS)}", 1
        while email in seen_emails:
            n += 1
            email = f"{local}{n}@{rng.choice(EMAIL_DOMAINS)}"
        seen_emails.add(email)
        birth_date = _date_between(rng, date(1950, 1, 1), date(2006, 12, 31))
        signup_date = _date_between(rng, date(2020, 1, 1), date(2026, 6, 30))
        rows.append([customer_id, first, last, email, _phone(rng, dialling_code), birth_date, region, country,
                     signup_date])
        customers.append(Customer(customer_id, region, signup_date))
    return rows, customers


def _gen_products(rng: random.Random) -> tuple[list[list[object]], list[Product]]:
    names = sorted((category, f"{adjective} {noun}")
                   for category, (_, adjectives, nouns) in CATALOGUE.items()
                   for adjective in adjectives for noun in nouns)
    rows: list[list[object]] = []
    products: list[Product] = []
    for product_id, (category, name) in enumerate(sorted(rng.sample(names, N_PRODUCTS)), start=1001):
        low, high = CATALOGUE[category][0]
        price = rng.randint(low // 100, high // 100) * 100 + 99  # prices end in .99
        rows.append([product_id, name, category])
        products.append(Product(product_id, price))
    return rows, products


def _status(rng: random.Random, order_date: date) -> str:
    """Recent orders are still in flight; older ones are mostly delivered."""
    age = (ORDERS_END - order_date).days
    if age < 3:
        weights = {"placed": 70, "shipped": 20, "cancelled": 10}
    elif age < 10:
        weights = {"placed": 10, "shipped": 70, "delivered": 15, "cancelled": 5}
    else:
        weights = {"delivered": 84, "returned": 8, "cancelled": 7, "shipped": 1}
    return _weighted(rng, weights)


def _gen_orders(rng: random.Random, customers: list[Customer], products: list[Product]
                ) -> tuple[list[list[object]], list[list[object]], dict[tuple[str, date], int]]:
    """Orders, order lines, and the non-cancelled revenue (cents) per (region, month)."""
    activity = [rng.choice((1, 1, 1, 2, 2, 3, 5)) for _ in customers]  # a few customers order a lot
    drafts = []
    for customer in rng.choices(customers, weights=activity, k=N_ORDERS):
        order_date = _date_between(rng, max(customer.signup_date, ORDERS_START), ORDERS_END)
        drafts.append((order_date, customer))
    drafts.sort(key=lambda draft: (draft[0], draft[1].customer_id))

    popularity = [rng.randint(1, 10) for _ in products]
    orders: list[list[object]] = []
    lines: list[list[object]] = []
    revenue: dict[tuple[str, date], int] = defaultdict(int)
    for order_id, (order_date, customer) in enumerate(drafts, start=100_001):
        status = _status(rng, order_date)
        orders.append([order_id, customer.customer_id, order_date, status, _weighted(rng, CHANNELS)])
        n_lines = rng.choices((1, 2, 3, 4, 5), weights=(30, 25, 20, 15, 10))[0]
        chosen: list[Product] = []
        while len(chosen) < n_lines:
            product = rng.choices(products, weights=popularity)[0]
            if product not in chosen:
                chosen.append(product)
        for line_number, product in enumerate(chosen, start=1):
            quantity = rng.choices((1, 2, 3, 4), weights=(70, 20, 7, 3))[0]
            price = product.list_price_cents
            if rng.random() < 0.15:  # promotion: 10-30 % off
                price = price * (100 - rng.choice((10, 15, 20, 25, 30))) // 100
            lines.append([order_id, line_number, product.product_id, quantity, _money(price)])
            if status != "cancelled":
                revenue[(customer.region, _month_start(order_date))] += quantity * price
    return orders, lines, revenue


def _gen_targets(rng: random.Random, revenue: dict[tuple[str, date], int]) -> list[list[object]]:
    """Monthly revenue targets per region, set within about +-15 % of what was achieved."""
    rows: list[list[object]] = []
    for region in sorted(REGION_WEIGHTS):
        for month in _months(ORDERS_START, ORDERS_END):
            achieved = revenue.get((region, month), 0)
            target = max(round(achieved * rng.uniform(0.85, 1.15) / 50_000) * 50_000, 50_000)  # whole 500s
            rows.append([region, month, _money(target)])
    return rows


def _csv(header: list[str] | None, rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _order_events(order_rows: list[list[object]], line_rows: list[list[object]]) -> dict[Path, str]:
    """Orders as the Kafka connector lands them: one JSON record per order event (its lines inside), with
    RECORD_METADATA (topic, partition, offset, CreateTime in ms, key); one newline-delimited file per month."""
    lines: dict[object, list[dict[str, object]]] = defaultdict(list)
    for order_id, line_number, product_id, quantity, unit_price in line_rows:
        lines[order_id].append({"line_number": line_number, "product_id": product_id, "quantity": quantity,
                                "unit_price": float(str(unit_price))})
    files: dict[Path, list[str]] = defaultdict(list)
    for offset, (order_id, customer_id, order_date, status, channel) in enumerate(order_rows):
        assert isinstance(order_date, date)
        created = datetime(order_date.year, order_date.month, order_date.day, 8, tzinfo=UTC) + timedelta(
            seconds=offset % 36_000)
        record = {"RECORD_METADATA": {"topic": ORDER_TOPIC, "partition": 0, "offset": offset,
                                      "CreateTime": int(created.timestamp() * 1000), "key": str(order_id)},
                  "RECORD_CONTENT": {"order_id": order_id, "customer_id": customer_id,
                                     "order_date": order_date.isoformat(), "status": status, "channel": channel,
                                     "lines": lines[order_id]}}
        path = Path(f"orders/landing/order_events/order_events_{order_date:%Y-%m}.ndjson.gz")
        files[path].append(json.dumps(record, separators=(",", ":")))
    return {path: "\n".join(records) + "\n" for path, records in files.items()}


def generate() -> dict[Path, str]:
    """Every raw file of the example mesh: path (relative to ``domains/``) -> its content as text (CSV for
    CSV and Parquet files, newline-delimited JSON for the gzipped order events)."""
    rng = random.Random(SEED)
    customer_rows, customers = _gen_customers(rng)
    product_rows, products = _gen_products(rng)
    order_rows, line_rows, revenue = _gen_orders(rng, customers, products)
    target_rows = _gen_targets(rng, revenue)
    files: dict[Path, str] = {}
    customer_header = ["customer_id", "first_name", "last_name", "email", "phone", "birth_date", "region",
                       "country", "signup_date"]
    for part in range(0, N_CUSTOMERS, CUSTOMERS_PER_FILE):
        files[Path(f"customers/landing/customers/customers_{part // CUSTOMERS_PER_FILE + 1:04d}.csv")] = _csv(
            customer_header, customer_rows[part:part + CUSTOMERS_PER_FILE])
    for category in sorted(CATALOGUE):
        rows = [[product_id, name] for product_id, name, cat in product_rows if cat == category]
        if rows:
            files[Path(f"orders/landing/products/category={category}/products.parquet")] = _csv(
                ["product_id", "product_name"], rows)
    files.update(_order_events(order_rows, line_rows))
    files[Path("finance/seeds/revenue_targets.csv")] = _csv(["region", "month", "target_revenue"], target_rows)
    return files


def read_text(path: Path) -> str | None:
    """A raw file's content as the generator describes it (gunzipped; Parquet rows as CSV), None if absent."""
    if not path.exists():
        return None
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes()).decode("utf-8")
    if path.suffix == ".parquet":
        import duckdb

        with duckdb.connect() as connection:
            relation = connection.execute("select * from read_parquet(?, hive_partitioning = false)", [str(path)])
            header = [column[0] for column in relation.description]
            return _csv(header, [list(row) for row in relation.fetchall()])
    return path.read_text(encoding="utf-8")


def write(path: Path, text: str) -> None:
    """Write a raw file: gzipped with a fixed header for ``.gz``, typed Parquet for ``.parquet``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    elif path.suffix == ".parquet":
        import duckdb

        with duckdb.connect() as connection:
            connection.execute("create table t (product_id bigint, product_name varchar)")
            rows = list(csv.reader(io.StringIO(text)))[1:]
            connection.executemany("insert into t values (?, ?)", [[int(i), name] for i, name in rows])
            connection.execute(f"copy t to '{path.as_posix()}' (format parquet)")
    else:
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Write the raw files, or with ``--check`` report those that differ from the generator (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if any file differs")
    parser.add_argument("--domains-dir", type=Path, default=DOMAINS_DIR, help="where the domain projects are")
    args = parser.parse_args(argv)

    files = generate()
    stale = []
    for relative, text in files.items():
        path = args.domains_dir / relative
        if read_text(path) == text:
            continue
        stale.append(relative)
        if not args.check:
            write(path, text)
    if args.check:
        for relative in stale:
            print(f"out of date: domains/{relative}", file=sys.stderr)
        if stale:
            print("run `python scripts/generate_example_data.py` to regenerate", file=sys.stderr)
        return 1 if stale else 0
    print(f"wrote {len(stale)} file(s), {len(files) - len(stale)} unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
