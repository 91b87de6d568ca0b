"""Contract data types: one canonical form per type, so that two spellings of one type compare equal.

Contracts are written in Snowflake's terms (DESIGN.md), so the canonical forms are Snowflake's: every integer
type is `number(38,0)`, a string without a length is `varchar(16777216)`, `timestamp` is `timestamp_ntz(9)`.

>>> str(parse_type("character varying"))
'varchar(16777216)'
>>> parse_type("int") == parse_type("NUMBER(38, 0)")
True
>>> compare_types(parse_type("varchar(5)"), parse_type("varchar(20)"))
'widened'
>>> compare_types(parse_type("decimal(14,2)"), parse_type("decimal(10,2)"))
'narrowed'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

SAME, WIDENED, NARROWED, CHANGED = "same", "widened", "narrowed", "changed"

MAX_VARCHAR = 16_777_216
MAX_BINARY = 8_388_608

# name as written (lower case, single spaces) -> (canonical base, default size)
_ALIASES: dict[str, tuple[str, tuple[int, ...]]] = {
    **dict.fromkeys(("varchar", "character varying", "char varying", "nchar varying", "nvarchar", "nvarchar2",
                     "string", "text"), ("varchar", (MAX_VARCHAR,))),
    **dict.fromkeys(("char", "character", "nchar"), ("varchar", (1,))),
    **dict.fromkeys(("number", "numeric", "decimal", "dec"), ("number", (38, 0))),
    **dict.fromkeys(("int", "integer", "bigint", "smallint", "tinyint", "byteint", "int2", "int4", "int8",
                     "hugeint"), ("number", (38, 0))),
    **dict.fromkeys(("float", "float4", "float8", "double", "double precision", "real"), ("float", ())),
    **dict.fromkeys(("boolean", "bool"), ("boolean", ())),
    "date": ("date", ()),
    "time": ("time", (9,)),
    **dict.fromkeys(("timestamp", "timestamp_ntz", "timestamp without time zone", "datetime"),
                    ("timestamp_ntz", (9,))),
    **dict.fromkeys(("timestamp_tz", "timestamptz", "timestamp with time zone"), ("timestamp_tz", (9,))),
    **dict.fromkeys(("timestamp_ltz", "timestamp with local time zone"), ("timestamp_ltz", (9,))),
    **dict.fromkeys(("binary", "varbinary", "blob", "bytea"), ("binary", (MAX_BINARY,))),
    **dict.fromkeys(("variant", "json"), ("variant", ())),
    "object": ("object", ()),
    "array": ("array", ()),
    "geography": ("geography", ()),
    "geometry": ("geometry", ()),
}
_INTEGER_NAMES = {"int", "integer", "bigint", "smallint", "tinyint", "byteint", "int2", "int4", "int8", "hugeint"}
_SIZE = re.compile(r"\(([^)]*)\)")


@dataclass(frozen=True)
class DataType:
    """A data type in canonical form: `number` with (precision, scale), `varchar` with (length,), ..."""

    base: str
    size: tuple[int, ...] = ()

    def __str__(self) -> str:
        return self.base + (f"({','.join(map(str, self.size))})" if self.size else "")


def parse_type(text: object) -> DataType:
    """The canonical form of a type as written in a contract; an unknown type keeps its lower-case spelling."""
    return _parse_type(str(text))


@lru_cache(maxsize=4096)   # a mesh spells a few dozen types over and over
def _parse_type(text: str) -> DataType:
    written = " ".join(text.lower().split())
    sizes = _SIZE.findall(written)
    name = " ".join(_SIZE.sub(" ", written).split())
    if name not in _ALIASES:
        return DataType(written)
    base, default = _ALIASES[name]
    if name in _INTEGER_NAMES or not sizes:
        return DataType(base, default)
    try:
        given = tuple(int(part) for part in sizes[0].split(",") if part.strip())
    except ValueError:
        return DataType(written)
    if base == "number" and len(given) == 1:
        given = (given[0], 0)
    return DataType(base, given or default)


def compare_types(old: DataType, new: DataType) -> str:
    """How a column's type changed for its readers: `same`, `widened` (every old value still fits),
    `narrowed` (same kind, fewer values fit) or `changed` (another kind of type)."""
    if old == new:
        return SAME
    if old.base != new.base or len(old.size) != len(new.size) or not old.size:
        return CHANGED
    if old.base == "number":
        (old_precision, old_scale), (new_precision, new_scale) = old.size, new.size
        fits = new_scale >= old_scale and new_precision - new_scale >= old_precision - old_scale
    else:  # varchar, binary length; time and timestamp fractional digits
        fits = new.size[0] >= old.size[0]
    return WIDENED if fits else NARROWED
