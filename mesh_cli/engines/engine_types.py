"""Column types of each engine, from the canonical (Snowflake) form of `mesh_cli.core.types`.

Ingestion declares landing columns in Snowflake's terms; each engine spells them its own way here, and a type
an engine cannot hold is refused before anything runs.
"""

from __future__ import annotations

from mesh_cli.core.types import MAX_BINARY, MAX_VARCHAR, DataType

_DUCKDB_SIMPLE = {"float": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE", "time": "TIME",
                  "timestamp_ntz": "TIMESTAMP", "timestamp_tz": "TIMESTAMPTZ", "timestamp_ltz": "TIMESTAMPTZ",
                  "binary": "BLOB", "variant": "JSON", "object": "JSON", "array": "JSON", "varchar": "VARCHAR"}
_SNOWFLAKE_BASES = {"number", "varchar", "float", "boolean", "date", "time", "timestamp_ntz", "timestamp_tz",
                    "timestamp_ltz", "binary", "variant", "object", "array", "geography", "geometry"}


def duckdb_type(data_type: DataType) -> str | None:
    """The DuckDB type of a canonical type, or None when DuckDB cannot hold it. Integers are BIGINT: a raw
    value beyond 64 bits is a rejected row."""
    if data_type.base == "number":
        precision, scale = data_type.size
        return "BIGINT" if scale == 0 else f"DECIMAL({precision},{scale})"
    return _DUCKDB_SIMPLE.get(data_type.base)


def snowflake_type(data_type: DataType) -> str | None:
    """The Snowflake spelling of a canonical type (default sizes left out), or None for an unknown type."""
    if data_type.base not in _SNOWFLAKE_BASES:
        return None
    if (data_type.base == "varchar" and data_type.size == (MAX_VARCHAR,)) or \
            (data_type.base == "binary" and data_type.size == (MAX_BINARY,)) or \
            (data_type.base in ("time", "timestamp_ntz", "timestamp_tz", "timestamp_ltz") and data_type.size == (9,)):
        return data_type.base.upper()
    return str(data_type).upper()


def snowflake_column_type(shown: dict[str, object]) -> DataType:
    """The canonical type of a column as `SHOW COLUMNS` describes it (its `data_type` JSON, parsed)."""
    kind = str(shown.get("type", "")).upper()
    if kind == "FIXED":
        return DataType("number", (int(shown.get("precision", 38)), int(shown.get("scale", 0))))  # type: ignore[arg-type]
    if kind == "TEXT":
        return DataType("varchar", (int(shown.get("length", MAX_VARCHAR)),))  # type: ignore[arg-type]
    if kind == "BINARY":
        return DataType("binary", (int(shown.get("length", MAX_BINARY)),))  # type: ignore[arg-type]
    if kind in ("TIME", "TIMESTAMP_NTZ", "TIMESTAMP_TZ", "TIMESTAMP_LTZ"):
        return DataType(kind.lower(), (int(shown.get("scale", 9)),))  # type: ignore[arg-type]
    if kind == "REAL":
        return DataType("float")
    return DataType(kind.lower())
