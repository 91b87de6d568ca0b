"""Which contract data types the embedded engine can create, and the DuckDB spelling of a Snowflake type."""

from __future__ import annotations

import re

import duckdb
import sqlglot
from sqlglot.errors import SqlglotError

_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])?$")


def duckdb_type_error(data_type: str) -> str | None:
    """Why DuckDB cannot create a column of `data_type` (None when it can)."""
    if not _TYPE.match(data_type.strip()):
        return f"{data_type!r} is not a plain type name"
    with duckdb.connect(":memory:") as connection:
        try:
            connection.execute(f"select cast(null as {data_type.strip()})")
        except duckdb.Error as exc:
            return str(exc).splitlines()[0]
    return None


def duckdb_spelling(data_type: str) -> str | None:
    """The DuckDB type sqlglot reads a Snowflake `data_type` as, if it can."""
    try:
        return sqlglot.exp.DataType.build(data_type, dialect="snowflake").sql("duckdb")
    except (SqlglotError, ValueError):
        return None
