"""12. storage: the cost of writing domain databases in DuckDB 1.0's storage format (so DuckDB 1.x readers open them)
against duckdb 2.0's own format, measured on the same table in the same run: the write of a governed-model-like
table, a full aggregate read, and the file's size."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from bench.figures import Figure
from bench.measure import median
from bench.meshes import Context
from mesh_cli.api import STORAGE_VERSION

NAME = "12. storage"
ROWS_SQL = ("select range as customer_id, 'user' || range || '@example.com' as email, "
            "['EMEA', 'NA', 'APAC', 'LATAM'][1 + range % 4] as region, date '2020-01-01' + (range % 2000)::int "
            "as signup_date, (range % 100000) / 100.0 as revenue from range({rows})")
AGGREGATE_SQL = ("select region, count(*), count(distinct email), sum(revenue), max(signup_date) from t "
                 "group by region")


def _write(path: Path, rows: int, version: str) -> float:
    """Milliseconds to write the table and checkpoint it (milliseconds: a smoke run's table takes a few)."""
    path.unlink(missing_ok=True)
    begun = time.perf_counter()
    with duckdb.connect(str(path), config={"storage_compatibility_version": version}) as connection:
        connection.execute(f"create table t as {ROWS_SQL.format(rows=rows)}")
        connection.execute("checkpoint")
    return (time.perf_counter() - begun) * 1000


def _read(path: Path) -> float:
    begun = time.perf_counter()
    with duckdb.connect(str(path), read_only=True) as connection:
        connection.execute(AGGREGATE_SQL).fetchall()
    return (time.perf_counter() - begun) * 1000


def run(ctx: Context) -> list[Figure]:
    rows = 20_000 if ctx.smoke else 5_000_000
    folder = ctx.folder("storage")
    paths = {version: folder / f"{version}.duckdb" for version in (STORAGE_VERSION, "latest")}
    writes: dict[str, list[float]] = {version: [] for version in paths}
    reads: dict[str, list[float]] = {version: [] for version in paths}
    for _ in range(ctx.repeat):   # alternated, so that other work on the machine weighs on both alike
        for version, path in paths.items():
            writes[version].append(_write(path, rows, version))
            reads[version].append(_read(path))
    sizes = {version: path.stat().st_size / 1024 / 1024 for version, path in paths.items()}
    label = f"{rows:,} rows"
    baseline = "duckdb 2.0's own format (`latest`)"
    note = (f"In-process DuckDB, median of {ctx.repeat} alternated runs: the domain databases are written with "
            f"`storage_compatibility_version: {STORAGE_VERSION}` (storage version 64) so that DuckDB 1.x opens them; "
            "the format then leaves out compression methods newer than 1.0.")
    return [
        Figure(NAME, f"write of a {label} table in the {STORAGE_VERSION} format", median(writes[STORAGE_VERSION]),
               "ms", median(writes["latest"]), baseline, "≤ 1.25x", target_ratio=1.25,
               details={"runs": writes}, note=note),
        Figure(NAME, f"aggregate read of the {label} table", median(reads[STORAGE_VERSION]), "ms",
               median(reads["latest"]), baseline, "≤ 1.25x", target_ratio=1.25, details={"runs": reads}, note=note),
        Figure(NAME, f"file size of the {label} table", sizes[STORAGE_VERSION], "MiB", sizes["latest"], baseline,
               "≤ 1.5x", target_ratio=1.5, note=note),
    ]
