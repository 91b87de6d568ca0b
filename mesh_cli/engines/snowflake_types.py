"""Snowflake's spelling of the mesh's column types: the canonical `DataType` of core is Snowflake-shaped, so the
spelling only upper-cases it and leaves default sizes out; `SHOW COLUMNS` output reads back into it."""

from __future__ import annotations

from mesh_cli.core.errors import MeshError
from mesh_cli.core.types import MAX_BINARY, MAX_VARCHAR, DataType
from mesh_cli.engines.base import TypedColumn

_BASES = {"number", "varchar", "float", "boolean", "date", "time", "timestamp_ntz", "timestamp_tz",
          "timestamp_ltz", "binary", "variant", "object", "array", "geography", "geometry"}
_FRACTIONAL = ("time", "timestamp_ntz", "timestamp_tz", "timestamp_ltz")


def snowflake_type(data_type: DataType) -> str | None:
    """The Snowflake spelling of a canonical type (default sizes left out), or None for an unknown type."""
    if data_type.base not in _BASES:
        return None
    if (data_type.base == "varchar" and data_type.size == (MAX_VARCHAR,)) or \
            (data_type.base == "binary" and data_type.size == (MAX_BINARY,)) or \
            (data_type.base in _FRACTIONAL and data_type.size == (9,)):
        return data_type.base.upper()
    return str(data_type).upper()


def snowflake_column_type(column: TypedColumn) -> str:
    """The Snowflake type of a column; an error for a type Snowflake does not have."""
    spelled = snowflake_type(column.data_type)
    if spelled is None:  # ingestion validates declarations when it reads them
        raise MeshError(f"Snowflake has no type {column.data_type} (column {column.name})")
    return spelled


def _size(shown: dict[str, object], key: str, default: int) -> int:
    value = shown.get(key, default)
    return int(value) if isinstance(value, int | str | float) else default


def shown_column_type(shown: dict[str, object]) -> DataType:
    """The canonical type of a column as `SHOW COLUMNS` describes it (its `data_type` JSON, parsed)."""
    kind = str(shown.get("type", "")).upper()
    if kind == "FIXED":
        return DataType("number", (_size(shown, "precision", 38), _size(shown, "scale", 0)))
    if kind == "TEXT":
        return DataType("varchar", (_size(shown, "length", MAX_VARCHAR),))
    if kind == "BINARY":
        return DataType("binary", (_size(shown, "length", MAX_BINARY),))
    if kind in ("TIME", "TIMESTAMP_NTZ", "TIMESTAMP_TZ", "TIMESTAMP_LTZ"):
        return DataType(kind.lower(), (_size(shown, "scale", 9),))
    if kind == "REAL":
        return DataType("float")
    return DataType(kind.lower())
