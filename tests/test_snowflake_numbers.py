"""Snowflake's NUMBER precision and scale through arithmetic on the local engine
(mesh_cli/engines/snowflake_numbers.py): each rule of
https://docs.snowflake.com/en/sql-reference/operators-arithmetic ("Scale and precision in arithmetic operations")
and of the aggregate functions' pages, derived from Snowflake SQL and run on DuckDB, where the transpiled column
must have Snowflake's type. Operands of unknown type and FLOATs keep DuckDB's DOUBLE (stricter, never more
lenient)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot

from mesh_cli.engines.duckdb_transpile import columns_query, snowflake_schema, transpile
from mesh_cli.engines.snowflake_numbers import Fixed, number_type, snowflake_type_of

ARITHMETIC = "https://docs.snowflake.com/en/sql-reference/operators-arithmetic"
NUMERIC = "https://docs.snowflake.com/en/sql-reference/data-types-numeric"
# the relation the expressions read, as the local database holds it
TABLE = {"t": {"cents": "number(38,0)", "price": "number(10,2)", "rate": "number(8,4)", "ratio": "float",
              "sold_on": "date"}}
ROW = "create table t as select 1250::bigint as cents, 19.99::decimal(10,2) as price, 0.0825::decimal(8,4) as rate, " \
      "0.5::double as ratio, date '2024-07-01' as sold_on"

# (Snowflake expression, its Snowflake type, the reference page)
RULES = [
    ("100.0", "decimal(4,1)", NUMERIC),                          # a literal has its own digits
    ("0.5", "decimal(1,1)", NUMERIC),
    ("cents + price", "decimal(38,2)", ARITHMETIC),              # L = max(L1, L2) + 1, S = max(S1, S2); P <= 38
    ("price - rate", "decimal(13,4)", ARITHMETIC),
    ("price * rate", "decimal(18,6)", ARITHMETIC),               # L = L1 + L2, S = min(S1 + S2, max(S1, S2, 12))
    ("10.01 * 1.1", "decimal(6,3)", ARITHMETIC),                 # the page's example: 11.011
    ("cents / 100.0", "decimal(38,6)", ARITHMETIC),              # L = L1 + S2, S = max(S1, min(S1 + 6, 12))
    ("1 / 100000000", "decimal(7,6)", ARITHMETIC),               # NUMBER(7,6): 0.000000
    ("price / 3", "decimal(16,8)", ARITHMETIC),
    ("sum(price)", "decimal(38,2)", "https://docs.snowflake.com/en/sql-reference/functions/sum"),
    ("avg(price)", "decimal(38,8)", "https://docs.snowflake.com/en/sql-reference/functions/avg"),
    ("count(*)", "decimal(18,0)", "https://docs.snowflake.com/en/sql-reference/functions/count"),
    ("cents::number(12,3)", "decimal(12,3)", NUMERIC),           # `::` and CAST are the type cast to
    ("cast(cents as int)", "decimal(38,0)", NUMERIC),
    ("coalesce(price, rate)", "decimal(12,4)", "https://docs.snowflake.com/en/sql-reference/functions/coalesce"),
    ("iff(cents > 0, price, 1.5)", "decimal(10,2)", "https://docs.snowflake.com/en/sql-reference/functions/iff"),
    ("ratio / 2", "float", ARITHMETIC),                          # a FLOAT operand: a FLOAT
    ("1.5e2", "float", NUMERIC),
]


def _typed(expression: str) -> object:
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    tree = qualify(sqlglot.parse_one(f"select {expression} as x from t", read="snowflake"), schema=TABLE,
                   dialect="snowflake")
    tree = annotate_types(tree, schema=TABLE, dialect="snowflake")
    number = number_type(tree.selects[0])
    return number if not isinstance(number, Fixed) else f"decimal({number.precision},{number.scale})"


@pytest.mark.parametrize(("expression", "expected", "page"), RULES, ids=[r[0] for r in RULES])
def test_snowflake_types_of_arithmetic(expression: str, expected: str, page: str) -> None:
    assert _typed(expression) == expected, page


def _local(expression: str, table: dict | None = TABLE) -> tuple[str, object]:
    """The DuckDB type and value of a Snowflake expression over the one-row table, as transpiled."""
    sql = transpile(f"select {expression} as x from t", "m", table)
    with duckdb.connect() as connection:
        connection.execute(ROW)
        return connection.execute(f"select typeof(x), x from ({sql})").fetchone()  # type: ignore[return-value]


@pytest.mark.parametrize(("expression", "expected"), [
    ("cents / 100.0", ("DECIMAL(38,6)", Decimal("12.500000"))),      # the issue's `amount / 100.0`
    ("price / 3", ("DECIMAL(16,8)", Decimal("6.66333333"))),
    ("avg(price)", ("DECIMAL(38,8)", Decimal("19.99000000"))),
    ("1 / 100000000", ("DECIMAL(7,6)", Decimal("0.000000"))),        # rounded to scale 6, as Snowflake shows
    ("round(price / 3, 2)", ("DECIMAL(16,2)", Decimal("6.66"))),     # the cast division stays a NUMBER through ROUND
    ("div0(cents, 0)", ("DECIMAL(38,6)", Decimal("0E-6"))),
])
def test_divisions_and_averages_of_numbers_are_numbers_locally(expression: str, expected: tuple) -> None:
    assert _local(expression) == expected


def test_dateadd_and_date_trunc_of_a_date_column_stay_dates() -> None:
    """https://docs.snowflake.com/en/sql-reference/functions/dateadd: of a DATE by a day or more, a DATE; by an
    hour, a TIMESTAMP_NTZ. Without the column's type DuckDB's TIMESTAMP stays (stricter)."""
    assert _local("dateadd(day, 7, sold_on)") == ("DATE", date(2024, 7, 8))
    assert _local("date_trunc('month', sold_on)") == ("DATE", date(2024, 7, 1))
    assert _local("dateadd(hour, 1, sold_on)")[0] == "TIMESTAMP"
    assert _local("dateadd(day, 7, sold_on)", table=None)[0] == "TIMESTAMP"
    written = transpile("select dateadd(day, 1, sold_on::date) as d from t", "m", TABLE)
    assert written.count("AS DATE)") == 2      # the model's own cast, and the result's once (not twice)


def test_a_float_operand_keeps_a_double() -> None:
    assert _local("ratio / 2") == ("DOUBLE", 0.25)


def test_without_the_types_of_what_it_reads_a_division_stays_duckdbs_double() -> None:
    """Stricter than Snowflake (a NUMBER contract over it fails locally), never more lenient."""
    assert _local("cents / 100.0", table=None) == ("DOUBLE", 12.5)
    assert _local("cents / 100.0", table={"other": {"cents": "number(38,0)"}}) == ("DOUBLE", 12.5)


def test_a_column_of_unknown_type_keeps_duckdbs_types() -> None:
    assert "DECIMAL" not in transpile("select amount / 100.0 as x from t", "m", TABLE)
    assert "DECIMAL" not in transpile("select length(s) / 2 as x from t", "m", TABLE)   # a function not typed here


@pytest.mark.parametrize(("duckdb_type", "snowflake"), [
    ("DECIMAL(12,2)", "number(12,2)"), ("INTEGER", "number(38,0)"), ("HUGEINT", "number(38,0)"),
    ("DOUBLE", "float"), ("TIMESTAMP", "timestamp_ntz"), ("VARCHAR", "varchar"), ("INTEGER[]", "variant")])
def test_local_column_types_read_as_snowflakes(duckdb_type: str, snowflake: str) -> None:
    assert snowflake_type_of(duckdb_type) == snowflake


def test_the_types_of_what_a_model_reads_come_from_the_local_database(tmp_path: Path) -> None:
    """The plugin's query for the relations a model reads, run on a real DuckDB file, gives the schema that types
    the model's division as Snowflake would."""
    with duckdb.connect(str(tmp_path / "sales.duckdb")) as connection:
        connection.execute("create table main.receipts (id integer, amount decimal(12,2), note varchar)")
        query = columns_query([("sales", "main", "receipts"), ("sales", "main", "absent")])
        rows = connection.execute(query).fetchall()
    schema = snowflake_schema(rows)
    assert schema['"sales"']['"main"']['"receipts"'] == {"id": "number(38,0)", "amount": "number(12,2)",
                                                         "note": "varchar"}
    assert schema["sales"]["main"]["receipts"] == schema['"sales"']['"main"']['"receipts"']
    written = transpile('select amount / id as per_id, avg(amount) as mean from "sales"."main"."receipts"', "m", schema)
    assert "CAST(amount / id AS DECIMAL(18, 8))" in written   # L = 10 + 0, S = max(2, min(2 + 6, 12))
    assert "CAST(AVG(amount) AS DECIMAL(38, 8))" in written
