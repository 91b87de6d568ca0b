"""Snowflake SQL run on DuckDB through the transpiler (mesh_cli/engines/duckdb_transpile.py): each construct's
result is the value Snowflake's documentation gives for it (the page is beside each case)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from mesh_cli.engines.duckdb_transpile import TranspileError, cached_transpile, transpile

DOCS = "https://docs.snowflake.com/en/sql-reference/functions/"
SEMI = "https://docs.snowflake.com/en/user-guide/querying-semistructured"

# (construct, Snowflake SQL, the rows Snowflake documents, the documentation page)
CORPUS = [
    ("IFF", "select iff(true, 'true', 'false'), iff(null, 'true', 'false')", [("true", "false")], DOCS + "iff"),
    ("NVL", "select nvl(null, 'fallback'), nvl('value', 'fallback')", [("fallback", "value")], DOCS + "nvl"),
    ("NVL2", "select nvl2(null, 'a', 'b'), nvl2(1, 'a', 'b')", [("b", "a")], DOCS + "nvl2"),
    ("ZEROIFNULL", "select zeroifnull(null), zeroifnull(2)", [(0, 2)], DOCS + "zeroifnull"),
    ("DATEADD month end", "select dateadd(month, 1, '2000-01-31'::date)", [(datetime.date(2000, 2, 29),)],
     DOCS + "dateadd"),
    ("DATEADD hours", "select dateadd(hour, 2, '2013-05-08 11:22:33'::timestamp_ntz)",
     [(datetime.datetime(2013, 5, 8, 13, 22, 33),)], DOCS + "dateadd"),
    ("DATEDIFF year", "select datediff(year, '2010-04-09 14:39:20'::timestamp, '2013-05-08 23:39:20'::timestamp)",
     [(3,)], DOCS + "datediff"),
    ("DATEDIFF month boundary", "select datediff(month, '2023-12-31'::date, '2024-01-01'::date)", [(1,)],
     DOCS + "datediff"),
    ("DATE_TRUNC timestamp", "select date_trunc('MONTH', '2024-05-09 08:50:48'::timestamp_ntz)",
     [(datetime.datetime(2024, 5, 1),)], DOCS + "date_trunc"),
    ("DATE_TRUNC date", "select date_trunc('YEAR', '2024-05-09'::date)", [(datetime.date(2024, 1, 1),)],
     DOCS + "date_trunc"),
    (":: casts", "select '12'::number + 1, '3.5'::float, 7::varchar", [(Decimal(13), 3.5, "7")],
     "https://docs.snowflake.com/en/sql-reference/functions/cast"),
    ("64-bit floats", "select 1.1::real, 1.1::float4, 1.1::float8", [(1.1, 1.1, 1.1)],
     "https://docs.snowflake.com/en/sql-reference/data-types-numeric#float-float4-float8"),
    ("TRY_CAST", "select try_cast('123' as integer), try_cast('abc' as integer)", [(123, None)], DOCS + "try_cast"),
    ("TRY_TO_NUMBER", "select try_to_number('12.3456', 10, 2), try_to_number('abc')", [(Decimal("12.35"), None)],
     DOCS + "try_to_decimal"),
    ("TRY_TO_DATE", "select try_to_date('2024-01-02'), try_to_date('not a date')", [(datetime.date(2024, 1, 2), None)],
     DOCS + "try_to_date"),
    ("TRY_TO_TIMESTAMP", "select try_to_timestamp(x) from (select '2024-01-02 03:04:05' as x union all "
     "select 'garbage') order by 1", [(datetime.datetime(2024, 1, 2, 3, 4, 5),), (None,)],
     DOCS + "try_to_timestamp"),
    ("QUALIFY", "select id from (select 1 as id, 'a' as g union all select 2, 'a' union all select 3, 'b') "
     "qualify row_number() over (partition by g order by id desc) = 1 order by id", [(2,), (3,)],
     "https://docs.snowflake.com/en/sql-reference/constructs/qualify"),
    ("LATERAL FLATTEN array", "select f.index, f.value::int from (select parse_json('[1, 77]') as v) t, "
     "lateral flatten(input => t.v) f order by f.index", [(0, 1), (1, 77)], DOCS + "flatten"),
    ("FLATTEN object", "select f.key, f.value::string from table(flatten(input => parse_json('{\"a\":\"x\", "
     "\"b\":\"y\"}'))) f order by f.key", [("a", "x"), ("b", "y")], DOCS + "flatten"),
    (": paths", "select src:salesperson.name::string, src:vehicle[0].make::string from (select parse_json("
     "'{\"salesperson\": {\"name\": \"Frank Beasley\"}, \"vehicle\": [{\"make\": \"Honda\"}]}') as src)",
     [("Frank Beasley", "Honda")], SEMI),
    ("PARSE_JSON", "select parse_json('{\"a\": 1}'):a::int", [(1,)], DOCS + "parse_json"),
    ("OBJECT_CONSTRUCT", "select object_construct('a', 1, 'b', 'BBBB', 'c', null)::varchar",
     [('{"a":1,"b":"BBBB"}',)], DOCS + "object_construct"),
    ("ARRAY_AGG", "select array_agg(x) within group (order by x desc) from (select 1 as x union all "
     "select null union all select 2)", [([2, 1],)], DOCS + "array_agg"),
    ("LISTAGG", "select listagg(x, ', ') within group (order by x) from (select 'b' as x union all select 'a')",
     [("a, b",)], DOCS + "listagg"),
    ("SPLIT_PART", "select split_part('11.22.33', '.', 0), split_part('11.22.33', '.', 2), "
     "split_part('11.22.33', '.', -1), split_part('11.22.33', '.', 4)", [("11", "22", "33", "")],
     DOCS + "split_part"),
    ("REGEXP_REPLACE", "select regexp_replace('abc123def456', '[0-9]+', '#')", [("abc#def#",)],
     DOCS + "regexp_replace"),
    ("REGEXP_SUBSTR", "select regexp_substr('It was the best of times', '\\\\bw\\\\S*')", [("was",)],
     DOCS + "regexp_substr"),
    ("REGEXP_LIKE", "select regexp_like('San Francisco', 'San.*'), regexp_like('San Francisco', 'San')",
     [(True, False)], DOCS + "regexp_like"),
    ("REGEXP_COUNT", "select regexp_count('It was the best of times, it was the worst of times', '\\\\bwas\\\\b')",
     [(2,)], DOCS + "regexp_count"),
    ("REGEXP_INSTR", "select regexp_instr('It was the best of times', 'the')", [(8,)], DOCS + "regexp_instr"),
]


@pytest.mark.parametrize(("construct", "sql", "expected", "page"), CORPUS, ids=[case[0] for case in CORPUS])
def test_construct_gives_snowflakes_documented_result(construct: str, sql: str, expected: list[tuple[object, ...]],
                                                       page: str) -> None:
    written = transpile(sql, construct)
    with duckdb.connect(":memory:") as connection:
        rows = connection.execute(written).fetchall()
    assert rows == expected, f"{construct} ({page}) ran as: {written}"
    assert all(type(got) is type(want) for row, wanted in zip(rows, expected, strict=True)
               for got, want in zip(row, wanted, strict=True) if want is not None), f"{construct}: types {rows}"


def test_unknown_function_is_one_line_naming_model_and_function() -> None:
    with pytest.raises(TranspileError) as error:
        transpile("select h3_latlng_to_cell(1.0, 2.0, 3)", "geo_cells")
    message = str(error.value)
    assert "\n" not in message
    assert "model geo_cells" in message and "H3_LATLNG_TO_CELL" in message and "sql_dialect: duckdb" in message


def test_flatten_options_duckdb_cannot_reproduce_are_refused() -> None:
    with pytest.raises(TranspileError, match=r"model tags: FLATTEN\(outer => \.\.\.\) cannot run on DuckDB"):
        transpile("select f.value from t, lateral flatten(input => t.v, outer => true) f", "tags")


def test_sql_that_is_not_snowflake_sql_is_refused_with_the_model() -> None:
    with pytest.raises(TranspileError, match=r"^model broken: its SQL does not parse as Snowflake SQL"):
        transpile("select from where", "broken")


def test_cache_keeps_one_file_per_content_and_reuses_it(tmp_path: Path) -> None:
    sql = "select iff(a > 1, 'big', 'small') from t"
    first = cached_transpile(sql, "m", tmp_path)
    files = list(tmp_path.glob("*.sql"))
    assert len(files) == 1 and files[0].read_text() == first
    files[0].write_text("select 'from the cache'")   # a second call reads the file, not sqlglot
    assert cached_transpile(sql, "m", tmp_path) == "select 'from the cache'"
    cached_transpile(sql + " where a is not null", "m", tmp_path)
    assert len(list(tmp_path.glob("*.sql"))) == 2
