"""Snowflake SQL on DuckDB: a model's compiled SQL, written in Snowflake's dialect, rewritten with sqlglot for the
embedded engine (the production SQL is never touched).

sqlglot does most of the work; the transforms here fix what it gets wrong for Snowflake's documented semantics:
- `v:a.b::string` reads the string itself (https://docs.snowflake.com/en/user-guide/querying-semistructured),
  not its JSON text: a cast of a JSON path to a scalar type reads the path as text (`->>`) first;
- `LATERAL FLATTEN(input => ...)` (https://docs.snowflake.com/en/sql-reference/functions/flatten) becomes a
  lateral `json_each` with FLATTEN's columns (SEQ, KEY, PATH, INDEX, VALUE, THIS);
- `OBJECT_CONSTRUCT(...)` is a JSON object without the pairs whose value is NULL
  (https://docs.snowflake.com/en/sql-reference/functions/object_construct), not a DuckDB STRUCT: `:` paths and
  FLATTEN read it as they read any semi-structured value;
- DATEADD and DATE_TRUNC of a DATE by a day or more return a DATE
  (https://docs.snowflake.com/en/sql-reference/functions/dateadd,
  https://docs.snowflake.com/en/sql-reference/functions/date_trunc), where DuckDB returns a TIMESTAMP: a cast
  keeps the DATE wherever sqlglot can tell the argument is one (a cast, TO_DATE, ...; not a bare column);
- FLOAT4 and REAL are 64-bit like every Snowflake float
  (https://docs.snowflake.com/en/sql-reference/data-types-numeric#float-float4-float8): DOUBLE, not DuckDB's
  32-bit REAL;
- `TRY_TO_TIMESTAMP(x)` and `TO_TIMESTAMP_NTZ/LTZ/TZ(x)` without a format, which sqlglot passes through, are
  casts (https://docs.snowflake.com/en/sql-reference/functions/try_to_timestamp);
- lambdas use DuckDB's `lambda x: ...` syntax (the arrow form is deprecated in DuckDB 2.0);
- a division or AVG of NUMBERs is a NUMBER with Snowflake's precision and scale, where DuckDB's is a DOUBLE, and
  DATEADD / DATE_TRUNC of a DATE column a DATE (`engines/snowflake_numbers.py`), given the types of the relations
  the model reads.
What cannot be transpiled raises `TranspileError`, one line naming the model, the construct and what to do: a
function sqlglot does not know and DuckDB does not have is caught here, not when the model runs.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types

from mesh_cli.core.errors import MeshError
from mesh_cli.engines.snowflake_numbers import cast_snowflake_results, snowflake_type_of

SNOWFLAKE, DUCKDB = "snowflake", "duckdb"   # sqlglot's dialects
# part of every cache key: sqlglot's version and these transforms
_VERSION = f"sqlglot {metadata.version('sqlglot')} {hashlib.sha256(Path(__file__).read_bytes()).hexdigest()}"
_WAY_OUT = "or set `sql_dialect: duckdb` in the model's meta"
_FLATTEN_OPTIONS = ("path", "outer", "recursive", "mode")


class TranspileError(MeshError):
    """A model's Snowflake SQL that the embedded engine cannot run."""


_DuckDBGenerator: Any = DuckDB.Generator   # sqlglot builds dialect generators dynamically: not a static type


class _LocalDuckDB(DuckDB):
    """DuckDB as sqlglot writes it, with DuckDB 2.0's lambda syntax."""

    class Generator(_DuckDBGenerator):
        def lambda_sql(self, expression: exp.Lambda, arrow_sep: str = "->", wrap: bool = True) -> str:
            names = ", ".join(self.sql(name) for name in expression.expressions)
            return f"lambda {names}: {self.sql(expression, 'this')}"


_TIMESTAMP_CASTS = {
    "try_to_timestamp": ("timestamp", True), "try_to_timestamp_ntz": ("timestamp", True),
    "try_to_timestamp_ltz": ("timestamptz", True), "try_to_timestamp_tz": ("timestamptz", True),
    "to_timestamp": ("timestamp", False), "to_timestamp_ntz": ("timestamp", False),
    "to_timestamp_ltz": ("timestamptz", False), "to_timestamp_tz": ("timestamptz", False),
}


def _double_floats(node: exp.Expression) -> exp.Expression:
    """Every Snowflake float type as DuckDB's DOUBLE."""
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.FLOAT:
        return exp.DataType.build("double")
    return node


def _timestamp_casts(node: exp.Expression) -> exp.Expression:
    """`TRY_TO_TIMESTAMP(x)` (one argument) as `TRY_CAST(x AS TIMESTAMP)`, `TO_TIMESTAMP_TZ(x)` as a cast."""
    if isinstance(node, exp.Anonymous) and len(node.expressions) == 1:
        found = _TIMESTAMP_CASTS.get(str(node.this).lower())
        if found is not None:
            kind, safe = found
            value, to = node.expressions[0].copy(), exp.DataType.build(kind)
            return exp.TryCast(this=value, to=to) if safe else exp.Cast(this=value, to=to)
    return node


def _json_objects(tree: exp.Expr) -> None:
    """Each outermost OBJECT_CONSTRUCT (a sqlglot Struct) as JSON_STRIP_NULLS(TO_JSON(...))."""
    for struct in list(tree.find_all(exp.Struct)):
        if struct.find_ancestor(exp.Struct) is None:
            as_json = exp.Anonymous(this="TO_JSON", expressions=[struct.copy()])
            struct.replace(exp.Anonymous(this="JSON_STRIP_NULLS", expressions=[as_json]))


def _date_results(tree: exp.Expr) -> None:
    """Keep DATEADD and DATE_TRUNC of a DATE a DATE, as sqlglot types them by Snowflake's rules."""
    annotate_types(tree, dialect=SNOWFLAKE)
    for node in list(tree.find_all(exp.DateAdd, exp.DateTrunc, exp.TimestampTrunc)):
        cast = node.parent if isinstance(node.parent, exp.Cast) else None
        if cast is not None and cast.to.is_type("date"):
            continue    # cast already (by the types of the columns it reads)
        if node.type is not None and node.type.is_type("date"):
            node.replace(exp.cast(node.copy(), "date"))


@functools.lru_cache(maxsize=1)
def _duckdb_functions() -> frozenset[str]:
    with duckdb.connect(":memory:") as connection:
        rows = connection.execute("select distinct lower(function_name) from duckdb_functions()").fetchall()
    return frozenset(name for (name,) in rows)


def _unknown_functions(tree: exp.Expression, model: str) -> None:
    """Refuse a function that sqlglot passed through unchanged and DuckDB does not have."""
    for call in tree.find_all(exp.Anonymous):
        name = str(call.this)
        if name.lower() not in _duckdb_functions():
            raise TranspileError(f"model {model}: function {name.upper()} has no DuckDB equivalent; rewrite it in "
                                 f"SQL both engines run, {_WAY_OUT}")


def _is_flatten_value(node: exp.Expression, flattened: set[str]) -> bool:
    return (isinstance(node, exp.Column) and node.name.lower() in ("value", "this")
            and node.table.lower() in flattened)


def _json_text_casts(flattened: set[str]) -> Callable[[exp.Expression], exp.Expression]:
    """`CAST(v:a AS VARCHAR)` reads the value at the path as text, as Snowflake's `v:a::string` does; so does a
    cast of a FLATTEN's VALUE or THIS (aliases in `flattened`)."""
    def fix(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Cast) or node.to.is_type("json"):
            return node
        if isinstance(node.this, exp.JSONExtract):
            path = node.this
            node.set("this", exp.JSONExtractScalar(this=path.this, expression=path.expression))
        elif _is_flatten_value(node.this, flattened):
            node.set("this", exp.JSONExtractScalar(this=node.this.copy(), expression=exp.Literal.string("$")))
        return node
    return fix


def _flatten_input(explode: exp.Explode, model: str) -> exp.Expression:
    """The input of FLATTEN(...); its other options are refused with the way out."""
    arguments = [explode.this, *explode.expressions]
    given: exp.Expression | None = None
    for argument in arguments:
        if isinstance(argument, exp.Kwarg):
            name = argument.this.name.lower()
            if name in _FLATTEN_OPTIONS:
                raise TranspileError(f"model {model}: FLATTEN({name} => ...) cannot run on DuckDB; flatten the "
                                     f"input alone and filter the rows, {_WAY_OUT}")
            if name == "input":
                given = argument.expression
        elif given is None:
            given = argument
    if given is None:
        raise TranspileError(f"model {model}: FLATTEN without an input cannot run; pass `input => <expr>`")
    return given


def _flatten_relation(explode: exp.Explode, alias: str, model: str) -> exp.Expression:
    """FLATTEN as a lateral subquery over `json_each`, with FLATTEN's six columns."""
    value = exp.cast(_flatten_input(explode, model).copy(), "json").sql(DUCKDB)
    subquery = (
        f"LATERAL (SELECT CAST(NULL AS BIGINT) AS seq, "
        f"CASE WHEN JSON_TYPE({value}) = 'OBJECT' THEN j.key END AS key, j.path AS path, "
        f"CASE WHEN JSON_TYPE({value}) = 'ARRAY' THEN CAST(j.key AS BIGINT) END AS index, "
        f"j.value AS value, {value} AS this FROM JSON_EACH({value}) AS j) AS {alias}")
    return sqlglot.parse_one(f"SELECT 1 FROM t, {subquery}", read=DUCKDB).args["joins"][0].this


def _flattens(tree: exp.Expr, model: str) -> set[str]:
    """Replace every `LATERAL FLATTEN(...)` and `TABLE(FLATTEN(...))` of the Snowflake tree; their aliases."""
    aliases = set()
    for node in list(tree.find_all(exp.Lateral, exp.TableFromRows)):
        if not isinstance(node.this, exp.Explode):
            continue
        alias = node.args.get("alias")
        name = alias.name if alias is not None and alias.name else "flatten"
        node.replace(_flatten_relation(node.this, exp.to_identifier(name).sql(DUCKDB), model))
        aliases.add(name.lower())
    return aliases


def _literal(text: str) -> str:
    return "'" + text.lower().replace("'", "''") + "'"


def columns_query(relations: list[tuple[str, str, str]]) -> str:
    """DuckDB's query for the columns of the (database, schema, table) relations a model reads."""
    where = " or ".join(f"(lower(table_catalog) = {_literal(d)} and lower(table_schema) = {_literal(s)} and "
                        f"lower(table_name) = {_literal(t)})" for d, s, t in relations)
    return ("select table_catalog, table_schema, table_name, column_name, data_type from information_schema.columns "
            f"where {where} order by ordinal_position")


def snowflake_schema(rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """The rows of `columns_query` as the sqlglot schema `transpile` takes, in Snowflake's terms, under each
    relation's names both quoted (as dbt-duckdb renders them) and bare."""
    schema: dict[str, Any] = {}
    for catalog, schema_name, name, column, data_type in rows:
        for quote in ('"', ""):
            tables = schema.setdefault(f"{quote}{catalog}{quote}", {}).setdefault(f"{quote}{schema_name}{quote}", {})
            tables.setdefault(f"{quote}{name}{quote}", {})[str(column)] = snowflake_type_of(str(data_type))
    return schema


def transpile(sql: str, model: str = "<sql>", columns: Mapping[str, Any] | None = None) -> str:
    """The DuckDB SQL of Snowflake `sql` (the compiled SQL of `model`, named in errors); `columns`, the types of
    the relations it reads as a sqlglot schema in Snowflake's terms, gives arithmetic Snowflake's NUMBER types."""
    try:
        statements = sqlglot.parse(sql, read=SNOWFLAKE)
    except SqlglotError as exc:
        raise TranspileError(f"model {model}: its SQL does not parse as Snowflake SQL "
                             f"({str(exc).splitlines()[0]}); fix the SQL {_WAY_OUT}") from exc
    written = []
    for statement in statements:
        if statement is None:
            continue
        cast_snowflake_results(statement, columns or {})
        flattened = _flattens(statement, model)
        _json_objects(statement)
        _date_results(statement)
        tree = statement.transform(_json_text_casts(flattened)).transform(_timestamp_casts).transform(_double_floats)
        _unknown_functions(tree, model)
        try:
            written.append(_LocalDuckDB().generate(tree, unsupported_level=ErrorLevel.RAISE, pretty=True))
        except SqlglotError as exc:
            raise TranspileError(f"model {model}: {str(exc).splitlines()[0]} on DuckDB; rewrite that part in "
                                 f"SQL both engines run, {_WAY_OUT}") from exc
    return ";\n".join(written)


def cached_transpile(sql: str, model: str, cache_dir: Path | None, columns: Mapping[str, Any] | None = None) -> str:
    """`transpile`, kept in `cache_dir` by the content hash of the SQL, of the column types it reads and of
    sqlglot's version."""
    if cache_dir is None:
        return transpile(sql, model, columns)
    typed = json.dumps(columns or {}, sort_keys=True)
    key = hashlib.sha256(f"{_VERSION}\n{typed}\n{sql}".encode()).hexdigest()
    cached = cache_dir / f"{key}.sql"
    if cached.is_file():
        return cached.read_text()
    written = transpile(sql, model, columns)
    cache_dir.mkdir(parents=True, exist_ok=True)
    temporary = cached.with_suffix(f".{model}.tmp")
    temporary.write_text(written)
    temporary.replace(cached)   # atomic: threads of one dbt run may compile the same SQL
    return written
