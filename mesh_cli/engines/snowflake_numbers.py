"""Snowflake's NUMBER precision and scale through arithmetic, for SQL written in Snowflake's dialect that runs on
DuckDB: where DuckDB's result is a DOUBLE and Snowflake's a NUMBER(p,s), the transpiled SQL casts the result to
DECIMAL(p,s), so the local column has Snowflake's type family (dbt's contract check compares families) and its
scale. The rules, from https://docs.snowflake.com/en/sql-reference/operators-arithmetic ("Scale and precision in
arithmetic operations"), with L the leading digits (precision - scale), S the scale, precision capped at 38:

- a fixed-point literal has its own digits (`100.0` is NUMBER(4,1)); one with an exponent is a FLOAT
  (https://docs.snowflake.com/en/sql-reference/data-types-numeric#numeric-constants);
- a + b, a - b: L = max(L1, L2) + 1, S = max(S1, S2);
- a * b: L = L1 + L2, S = min(S1 + S2, max(S1, S2, 12));
- a / b: L = L1 + S2, S = max(S1, min(S1 + 6, 12));
- SUM is NUMBER(38, S); AVG is NUMBER(38, max(S, min(S + 6, 12))), a division of the sum by the count; MIN, MAX,
  ANY_VALUE keep their argument's type; COUNT is NUMBER(18,0)
  (https://docs.snowflake.com/en/sql-reference/functions/sum, .../avg, .../count);
- COALESCE, NVL, IFF, CASE hold the widest of their branches (L and S each the largest);
- a FLOAT anywhere makes the result a FLOAT; a cast (`::`, CAST, TRY_CAST) is the type cast to, an integer type
  NUMBER(38,0) (https://docs.snowflake.com/en/sql-reference/data-types-numeric#int-integer-bigint-smallint-tinyint-byteint).

Only divisions and AVG are cast: every other fixed-point operation is a DECIMAL on DuckDB already. With the same
column types, DATEADD and DATE_TRUNC of a DATE column by a day or more are cast to DATE
(https://docs.snowflake.com/en/sql-reference/functions/dateadd), where DuckDB gives a TIMESTAMP. An operand whose
type is not known (a relation the schema does not hold, a function not listed above) leaves the expression as
DuckDB types it, which is stricter than Snowflake (a NUMBER contract over it fails locally), never more lenient.

>>> import sqlglot
>>> tree = sqlglot.parse_one("select amount / 100.0 as a from t", read="snowflake")
>>> cast_snowflake_results(tree, {"t": {"amount": "number(38,0)"}}).sql("duckdb")
'SELECT CAST(amount / 100.0 AS DECIMAL(38, 6)) AS a FROM t'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

SNOWFLAKE = "snowflake"
MAX_PRECISION = 38
_TAG = "data_mesh_number"


@dataclass(frozen=True)
class Fixed:
    """NUMBER(precision, scale) by Snowflake's rules."""

    leading: int
    scale: int

    @classmethod
    def of(cls, precision: int, scale: int) -> Fixed:
        return cls(max(precision - scale, 0), scale)

    @property
    def precision(self) -> int:
        return min(self.leading + self.scale, MAX_PRECISION)

    def data_type(self) -> exp.DataType:
        return exp.DataType.build(f"decimal({self.precision}, {min(self.scale, self.precision)})")


FLOAT = "float"
Number = Fixed | str | None     # a NUMBER, FLOAT, or not known


def _literal(node: exp.Literal) -> Number:
    text = node.this.lstrip("+-")
    if "e" in text.lower():
        return FLOAT
    whole, _, fraction = text.partition(".")
    return Fixed(len(whole.lstrip("0")), len(fraction))


def _from_type(data_type: exp.DataType | None) -> Number:
    if data_type is None:
        return None
    if data_type.is_type(*exp.DataType.INTEGER_TYPES):
        return Fixed(MAX_PRECISION, 0)
    if data_type.is_type(exp.DataType.Type.DECIMAL, exp.DataType.Type.BIGDECIMAL):
        sizes = [int(p.this.this) for p in data_type.expressions if isinstance(p.this, exp.Literal)]
        return Fixed.of(sizes[0], sizes[1] if len(sizes) > 1 else 0) if sizes else Fixed(MAX_PRECISION, 0)
    if data_type.is_type(*exp.DataType.REAL_TYPES):
        return FLOAT
    return None


def _widest(numbers: list[Number]) -> Number:
    if any(n is None for n in numbers) or not numbers:
        return None
    if FLOAT in numbers:
        return FLOAT
    fixed = [n for n in numbers if isinstance(n, Fixed)]
    return Fixed(max(n.leading for n in fixed), max(n.scale for n in fixed))


def _division_scale(scale: int) -> int:
    return max(scale, min(scale + 6, 12))


def _binary(node: exp.Binary) -> Number:
    left, right = number_type(node.left), number_type(node.right)
    if left is None or right is None:
        return None
    if FLOAT in (left, right):
        return FLOAT
    assert isinstance(left, Fixed) and isinstance(right, Fixed)
    if isinstance(node, exp.Add | exp.Sub):
        return Fixed(max(left.leading, right.leading) + 1, max(left.scale, right.scale))
    if isinstance(node, exp.Mul):
        return Fixed(left.leading + right.leading, min(left.scale + right.scale, max(left.scale, right.scale, 12)))
    return Fixed(left.leading + right.scale, _division_scale(left.scale))     # exp.Div


def _aggregate(node: exp.Expr) -> Number:
    argument = number_type(node.this)
    if not isinstance(argument, Fixed):
        return argument
    if isinstance(node, exp.Sum):
        return Fixed(MAX_PRECISION - argument.scale, argument.scale)
    scale = _division_scale(argument.scale)
    return Fixed(MAX_PRECISION - scale, scale)                                   # exp.Avg


def number_type(node: exp.Expr) -> Number:
    """The Snowflake type of a numeric expression of a tree annotated by sqlglot (columns typed by a schema)."""
    if isinstance(node, exp.Paren | exp.Neg | exp.Alias):
        return number_type(node.this)
    if isinstance(node, exp.Literal):
        return _literal(node) if not node.is_string else None
    if isinstance(node, exp.Cast):          # TryCast is a Cast
        return _from_type(node.to)
    if isinstance(node, exp.Column):
        return _from_type(node.type)
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div):
        return _binary(node)
    if isinstance(node, exp.Sum | exp.Avg):
        return _aggregate(node)
    if isinstance(node, exp.Min | exp.Max | exp.AnyValue):
        return number_type(node.this)
    if isinstance(node, exp.Count):
        return Fixed(18, 0)
    if isinstance(node, exp.Coalesce):
        return _widest([number_type(node.this), *(number_type(e) for e in node.expressions)])
    if isinstance(node, exp.If):
        return _widest([number_type(node.args["true"]), *([number_type(node.args["false"])]
                                                           if node.args.get("false") else [])])
    if isinstance(node, exp.Case):
        branches = [number_type(i.args["true"]) for i in node.args.get("ifs") or []]
        return _widest(branches + ([number_type(node.args["default"])] if node.args.get("default") else []))
    return None


_DUCKDB_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                    "UBIGINT", "UHUGEINT"}
_DUCKDB_OTHERS = {"DOUBLE": "float", "FLOAT": "float", "VARCHAR": "varchar", "BOOLEAN": "boolean", "DATE": "date",
                  "TIME": "time", "TIMESTAMP": "timestamp_ntz", "TIMESTAMP WITH TIME ZONE": "timestamp_tz",
                  "BLOB": "binary", "JSON": "variant"}


def snowflake_type_of(duckdb_type: str) -> str:
    """The Snowflake type a DuckDB column type stands for (as the local contract check reads it): integers are
    NUMBER(38,0), DECIMAL(p,s) is NUMBER(p,s), DOUBLE is FLOAT; what has no counterpart is a VARIANT.

    >>> snowflake_type_of("DECIMAL(12,2)"), snowflake_type_of("INTEGER"), snowflake_type_of("STRUCT(a INTEGER)")
    ('number(12,2)', 'number(38,0)', 'variant')
    """
    spelled = " ".join(duckdb_type.upper().split())
    if spelled.startswith("DECIMAL"):
        return "number" + spelled.removeprefix("DECIMAL").replace(" ", "").lower()
    if spelled in _DUCKDB_INTEGERS:
        return "number(38,0)"
    return _DUCKDB_OTHERS.get(spelled, "variant")


def _schema(columns: Mapping[str, Any]) -> MappingSchema | None:
    try:
        return MappingSchema(dict(columns), dialect=SNOWFLAKE)
    except (SqlglotError, ValueError, KeyError):
        return None


def may_cast(sql: str) -> bool:
    """Whether `sql` may hold a division or an AVG (a text test: the types of what it reads are fetched only then).

    >>> may_cast("select a / b from t"), may_cast("select Avg(a) from t"), may_cast("select a from t")
    (True, True, False)
    """
    return "/" in sql or "avg" in sql.lower()


_DATE_RESULTS = (exp.DateAdd, exp.DateTrunc, exp.TimestampTrunc)


def _result_type(node: exp.Expr) -> exp.DataType | None:
    """The DuckDB type to cast a typed node to: a NUMBER division or AVG as its DECIMAL; DATEADD or DATE_TRUNC of
    a DATE by a day or more as DATE (https://docs.snowflake.com/en/sql-reference/functions/dateadd), where DuckDB
    gives a TIMESTAMP."""
    if isinstance(node, _DATE_RESULTS):
        return exp.DataType.build("date") if node.type is not None and node.type.is_type("date") else None
    number = number_type(node)
    return number.data_type() if isinstance(number, Fixed) else None


def cast_snowflake_results(tree: exp.Expr, columns: Mapping[str, Any]) -> exp.Expr:
    """`tree` (Snowflake SQL) with each division and AVG whose Snowflake result is a NUMBER cast to that NUMBER,
    and each DATEADD / DATE_TRUNC of a DATE column cast to DATE. `columns` is a sqlglot schema of the relations it
    reads ({catalog: {schema: {table: {column: type}}}}, names spelled as in the SQL, types in Snowflake's terms).
    The tree is changed in place and returned."""
    targets = list(tree.find_all(exp.Div, exp.Avg, *_DATE_RESULTS))
    schema = _schema(columns) if targets and columns else None
    if schema is None:
        return tree
    for index, node in enumerate(targets):
        node.meta[_TAG] = index
    try:    # qualified and typed on a copy: the emitted SQL keeps the model's own spelling of names
        typed = annotate_types(qualify(tree.copy(), schema=schema, dialect=SNOWFLAKE,
                                       validate_qualify_columns=False, quote_identifiers=False),
                               schema=schema, dialect=SNOWFLAKE)
    except (SqlglotError, ValueError, KeyError, AttributeError):
        typed = None
    found: dict[int, exp.DataType] = {}
    for node in typed.find_all(exp.Div, exp.Avg, *_DATE_RESULTS) if typed is not None else []:
        data_type = _result_type(node)
        if _TAG in node.meta and data_type is not None:
            found[node.meta[_TAG]] = data_type
    for index, node in reversed(list(enumerate(targets))):     # inner ones first: an outer cast copies them
        node.meta.pop(_TAG, None)
        if index in found:
            node.replace(exp.Cast(this=node.copy(), to=found[index]))
    return tree
