"""Types between DuckDB, Snowpark and the canonical (Snowflake) contract types of `mesh_cli.core.types`.

A ref read from DuckDB becomes a Snowpark DataFrame with the types dbt-snowflake's refs would have (Snowpark's
own mapping of Snowflake types: https://docs.snowflake.com/en/developer-guide/snowpark/python/sql-to-snowpark);
a model's result is compared with its contract in Snowflake's terms and lands in DuckDB as the DuckDB spelling
of the contract's type.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pyarrow as pa
from snowflake.snowpark import types as sp

from mesh_cli.core.types import MAX_BINARY, MAX_VARCHAR, DataType, parse_type

_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
_SIMPLE_REFS: dict[str, Callable[[], sp.DataType]] = {
    "VARCHAR": sp.StringType, "DOUBLE": sp.DoubleType, "FLOAT": sp.DoubleType, "BOOLEAN": sp.BooleanType,
    "DATE": sp.DateType, "TIME": sp.TimeType, "BLOB": sp.BinaryType, "JSON": sp.VariantType,
    "TIMESTAMP": lambda: sp.TimestampType(sp.TimestampTimeZone.NTZ),
    "TIMESTAMP WITH TIME ZONE": lambda: sp.TimestampType(sp.TimestampTimeZone.TZ),
}


def snowpark_ref_type(duckdb_type_name: str) -> sp.DataType | None:
    """The Snowpark type a DuckDB column arrives as (None when Snowpark has no counterpart)."""
    name = duckdb_type_name.upper()
    if name in _INTEGERS:
        return sp.LongType()   # Snowflake's NUMBER(38,0), as Snowpark reads it
    if name in ("HUGEINT", "UBIGINT"):
        return sp.DecimalType(38, 0)
    decimal = _DECIMAL.match(name)
    if decimal:
        return sp.DecimalType(int(decimal.group(1)), int(decimal.group(2)))
    factory = _SIMPLE_REFS.get(name)
    return factory() if factory else None


def snowpark_ref_value(value: Any, data_type: sp.DataType) -> Any:
    """A DuckDB value as the local session takes it for `data_type`."""
    if value is None:
        return None
    if isinstance(data_type, sp.VariantType):
        return json.loads(value)
    if isinstance(data_type, sp.DecimalType) and not isinstance(value, Decimal):
        return Decimal(value)
    return value


def canonical_type(data_type: sp.DataType) -> DataType | None:
    """The Snowflake type a Snowpark column has once saved as a table (None for a type with no column form)."""
    if isinstance(data_type, sp.DecimalType):
        return DataType("number", (data_type.precision, data_type.scale))
    if isinstance(data_type, sp.StringType):
        return DataType("varchar", (data_type.length or MAX_VARCHAR,))
    if isinstance(data_type, sp.TimestampType):
        zone = {sp.TimestampTimeZone.TZ: "timestamp_tz", sp.TimestampTimeZone.LTZ: "timestamp_ltz"}
        return DataType(zone.get(data_type.tz, "timestamp_ntz"), (9,))
    simple = {sp.LongType: "number", sp.IntegerType: "number", sp.ShortType: "number", sp.ByteType: "number",
              sp.DoubleType: "float", sp.FloatType: "float", sp.BooleanType: "boolean", sp.DateType: "date",
              sp.TimeType: "time", sp.BinaryType: "binary", sp.VariantType: "variant", sp.MapType: "object",
              sp.StructType: "object", sp.ArrayType: "array"}
    base = simple.get(type(data_type))
    if base is None:
        return None
    return parse_type({"time": "time(9)", "binary": f"binary({MAX_BINARY})"}.get(base, base))


def arrow_type(data_type: sp.DataType) -> pa.DataType:
    """The Arrow type a result column of `data_type` is handed to DuckDB as (semi-structured types as JSON text)."""
    if isinstance(data_type, sp.DecimalType):
        return pa.decimal128(data_type.precision, data_type.scale)
    if isinstance(data_type, sp.TimestampType):
        return pa.timestamp("us", tz="UTC" if data_type.tz in (sp.TimestampTimeZone.TZ,
                                                                  sp.TimestampTimeZone.LTZ) else None)
    simple = {sp.LongType: pa.int64(), sp.IntegerType: pa.int64(), sp.ShortType: pa.int64(),
              sp.ByteType: pa.int64(), sp.DoubleType: pa.float64(), sp.FloatType: pa.float64(),
              sp.BooleanType: pa.bool_(), sp.DateType: pa.date32(), sp.TimeType: pa.time64("us"),
              sp.BinaryType: pa.binary()}
    return simple.get(type(data_type), pa.string())


def arrow_value(value: Any, data_type: sp.DataType) -> Any:
    """A collected value as its Arrow column takes it."""
    if value is None:
        return None
    target = arrow_type(data_type)
    if pa.types.is_string(target):
        if isinstance(data_type, sp.StringType):
            return str(value)
        return json.dumps(value if not isinstance(value, str) else json.loads(value), default=str)
    if pa.types.is_integer(target):
        return int(value)
    if pa.types.is_floating(target):
        return float(value)
    if pa.types.is_decimal(target) and not isinstance(value, Decimal):
        return Decimal(str(value))
    if pa.types.is_date(target) and isinstance(value, datetime.datetime):
        return value.date()
    return value
