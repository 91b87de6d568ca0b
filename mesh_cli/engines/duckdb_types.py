"""DuckDB's spelling of the mesh's column types (the canonical, Snowflake-shaped `DataType` of core), and which
contract data types the embedded engine can create."""

from __future__ import annotations

import re

import duckdb
import sqlglot
from sqlglot.errors import SqlglotError

from mesh_cli.core.errors import MeshError
from mesh_cli.core.types import DataType
from mesh_cli.engines.base import TypedColumn

_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])?$")
_SIMPLE = {"float": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE", "time": "TIME",
           "timestamp_ntz": "TIMESTAMP", "timestamp_tz": "TIMESTAMPTZ", "timestamp_ltz": "TIMESTAMPTZ",
           "binary": "BLOB", "variant": "JSON", "object": "JSON", "array": "JSON", "varchar": "VARCHAR"}


def duckdb_type(data_type: DataType) -> str | None:
    """The DuckDB type of a canonical type, or None when DuckDB cannot hold it. Integers are BIGINT: a raw
    value beyond 64 bits is a rejected row."""
    if data_type.base == "number":
        precision, scale = data_type.size
        return "BIGINT" if scale == 0 else f"DECIMAL({precision},{scale})"
    return _SIMPLE.get(data_type.base)


def duckdb_column_type(column: TypedColumn) -> str:
    """The DuckDB type of a column; an error when DuckDB cannot hold it."""
    spelled = duckdb_type(column.data_type)
    if spelled is None:  # ingestion validates declarations when it reads them
        raise MeshError(f"DuckDB cannot hold column {column.name} of type {column.data_type}")
    return spelled


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
