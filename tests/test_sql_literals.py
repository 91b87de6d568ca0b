"""String constants reach Snowflake as written: backslashes and quotes escaped
(https://docs.snowflake.com/en/sql-reference/data-types-text#escape-sequences-in-single-quoted-string-constants).

The oracle is sqlglot's Snowflake tokenizer, which reads escape sequences as Snowflake does ('\\N' with one
backslash reads as N): each literal the tool writes is read back and must equal the value meant.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from ingest_helpers import make_mesh, source
from sqlglot import exp

from mesh_cli.core.domains import load_domain
from mesh_cli.core.plan import RecordedState
from mesh_cli.core.sql_literals import duckdb_string, snowflake_string, snowflake_unquote
from mesh_cli.engines.snowflake_ingest import copy_sql, external_table_sql, file_format_sql, names, plan_domain
from mesh_cli.ingest import load_ingest_tables


def _read(literal: str) -> str:
    """The value Snowflake reads from a string constant."""
    parsed = sqlglot.parse_one(f"select {literal}", read="snowflake")
    value = parsed.expressions[0]
    assert isinstance(value, exp.Literal) and value.is_string, literal
    return value.this


def _literals(sql: str, keyword: str) -> list[str]:
    """The values of the string constants following `keyword` in a statement, as Snowflake reads them."""
    found = re.search(rf"{keyword} = (\((?:'(?:[^'\\]|\\.|'')*'(?:, )?)+\)|'(?:[^'\\]|\\.|'')*')", sql)
    assert found, (keyword, sql)
    return [_read(m) for m in re.findall(r"'(?:[^'\\]|\\.|'')*'", found.group(1))]


@pytest.mark.parametrize("value", ["\\N", "a'b", "C:\\data\\", ".*[.]csv", "\\\\", "it's \\ fine", ""])
def test_a_snowflake_literal_reads_back_as_its_value(value: str) -> None:
    literal = snowflake_string(value)
    assert _read(literal) == value
    assert snowflake_unquote(literal[1:-1]) == value


def test_duckdb_keeps_backslashes_as_they_are() -> None:
    """DuckDB strings are standard SQL: a backslash is an ordinary character, only the quote doubles."""
    assert duckdb_string("\\N") == "'\\N'" and duckdb_string("a'b") == "'a''b'"


def _table(tmp_path: Path, block: dict) -> tuple:
    root = tmp_path / "mesh"
    make_mesh(root, [source(block)])
    [table] = load_ingest_tables(load_domain(root / "domains/shop"))
    return table, names(table, "SHOP")


def test_null_if_backslash_n_reaches_snowflake_as_backslash_n(tmp_path: Path) -> None:
    table, n = _table(tmp_path, {"mode": "copy", "location": "landing/", "file_format": {
        "type": "csv", "null_if": ["\\N", "NULL"], "field_optionally_enclosed_by": "'"}})
    sql = file_format_sql(table, n)
    assert "NULL_IF = ('\\\\N', 'NULL')" in sql
    assert _literals(sql, "NULL_IF") == ["\\N", "NULL"]
    assert _literals(sql, "FIELD_OPTIONALLY_ENCLOSED_BY") == ["'"]


def test_a_glob_pattern_matches_a_literal_dot(tmp_path: Path) -> None:
    """`*.parquet` becomes a regular expression with `\\.`; Snowflake must receive the backslash, else the dot
    matches any character."""
    table, n = _table(tmp_path, {"mode": "copy", "location": "landing/*.parquet", "file_format": {"type": "parquet"}})
    [regex] = _literals(copy_sql(table, n), "PATTERN")
    assert re.fullmatch(regex, "landing/a.parquet")
    assert not re.fullmatch(regex, "landing/aXparquet")


def test_a_declared_pattern_with_backslashes_is_kept(tmp_path: Path) -> None:
    table, n = _table(tmp_path, {"mode": "copy", "location": "landing/", "pattern": ".*\\.csv",
                                 "file_format": {"type": "csv"}})
    assert _literals(copy_sql(table, n), "PATTERN") == [".*\\.csv"]


def test_every_literal_of_an_external_table_and_its_plan_reads_back(tmp_path: Path) -> None:
    table, n = _table(tmp_path, {"mode": "external_table", "location": "cat/**/*.json",
                                 "stage": {"name": "ext", "url": "s3://b/it's\\here/"},
                                 "file_format": {"type": "json"}})
    assert _literals(external_table_sql(table, n), "PATTERN") == [".*cat/(.*/)?[^/]*\\.json"]
    plan = plan_domain("shop", [table], "SHOP", RecordedState())
    stage = next(s.sql for s in plan.statements if s.object_kind == "stage")
    assert _literals(stage, "URL") == ["s3://b/it's\\here/"]
