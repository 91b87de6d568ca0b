"""dbt-snowflake Python models on the embedded engine, through Snowpark's local testing session.

dbt-duckdb runs a Python model as `model(dbt, cursor)` and lands what it returns. The package's
`duckdb__create_table_as` (macros/python/snowpark.sql) appends one line to the compiled module that wraps
`model` with `snowpark_model`: the wrapped model gets a local Snowpark session
(https://docs.snowflake.com/en/developer-guide/snowpark/python/testing-locally) and a `dbt` whose refs and
sources are Snowpark DataFrames read from DuckDB (the domain's file and its attached upstreams, through the
build's own cursor, so governed relations read as the build role sees them); its Snowpark result is checked
against the declared columns and handed back to dbt-duckdb as a DuckDB relation, which the table
materialization lands and the governance post-hook protects like any SQL model's table.
"""

from __future__ import annotations

import itertools
import linecache
import re
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
from snowflake.snowpark import DataFrame, Session
from snowflake.snowpark import types as sp

from mesh_cli.core.errors import MeshError
from mesh_cli.engines.duckdb_types import duckdb_type
from mesh_cli.engines.snowpark_contract import DeclaredColumn, LandedColumn, contract_columns
from mesh_cli.engines.snowpark_types import (
    arrow_type,
    arrow_value,
    canonical_type,
    snowpark_ref_type,
    snowpark_ref_value,
)

DOCS = "docs/snowpark.md"
_LOCAL_TESTING = re.compile(r"\[Local Testing\]\s*(.+?)\s+(?:is|are) not (?:supported|implemented)")
_MOCKED = re.compile(r"Error executing mocked function '([^']+)'")
_REF_NUMBERS = itertools.count(1)
# pandas warnings the local session's own code triggers (e.g. reindexed boolean keys): noise in a build log
warnings.filterwarnings("ignore", category=UserWarning, module=r"snowflake\.snowpark\.mock\.")


class SnowparkModelError(MeshError):
    """A Snowpark model that cannot build locally: one line naming the model, what failed and the fix."""


@dataclass(frozen=True)
class ModelSpec:
    """What the compiled module tells about its model (rendered by macros/python/snowpark.sql)."""

    name: str                      # package.model
    path: str                      # the model file, relative to its project
    line_offset: int               # blank lines dbt-duckdb strips from the top of the compiled module
    columns: tuple[DeclaredColumn, ...]

    @classmethod
    def from_dict(cls, info: dict[str, Any]) -> ModelSpec:
        columns = tuple(DeclaredColumn(str(name), str(data_type) if data_type else None)
                        for name, data_type in info.get("columns", []))
        return cls(str(info["name"]), str(info["path"]), int(info.get("line_offset", 0)), columns)

    def fail(self, what: str, fix: str, line: int | None = None) -> SnowparkModelError:
        where = f"{self.path}:{line}" if line else self.path
        return SnowparkModelError(f"{self.name} ({where}): {what}; {fix}")


def snowpark_model(model: Callable[[Any, Any], Any], dbt_class: Callable[[Any], Any],
                   info: dict[str, Any]) -> Callable[[Any, Any], Any]:
    """`model` as dbt-duckdb calls it, `(dbt, cursor)`, run as the Snowpark model it is."""
    spec = ModelSpec.from_dict(info)

    def run(_duckdb_dbt: Any, cursor: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        try:
            return run_snowpark_model(model, dbt_class, spec, cursor)
        except SnowparkModelError as exc:
            raise SnowparkModelError(str(exc)) from None  # dbt-duckdb prints the whole chain: keep one line
    return run


def run_snowpark_model(model: Callable[[Any, Any], Any], dbt_class: Callable[[Any], Any], spec: ModelSpec,
                       cursor: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Run `model` on a local Snowpark session over `cursor`'s relations and return its result as a relation."""
    session = Session.builder.config("local_testing", True).create()
    try:
        dbt = dbt_class(lambda relation: read_relation(session, cursor, relation, spec))
        try:
            result = model(dbt, session)
            if not isinstance(result, DataFrame):
                raise spec.fail(f"the model returned {type(result).__name__}, not a Snowpark DataFrame",
                                "return the DataFrame itself (dbt-snowflake saves only a Snowpark or pandas "
                                "DataFrame; build a pandas one with session.create_dataframe)")
            fields = list(result.schema.fields)
            rows = result.collect()
        except SnowparkModelError:
            raise
        except Exception as exc:
            raise _operation_error(spec, model, exc) from None
        return land(cursor, spec, fields, rows)
    finally:
        session.close()


def read_relation(session: Session, cursor: duckdb.DuckDBPyConnection, relation: str,
                  spec: ModelSpec) -> DataFrame:
    """A ref or source (a relation name rendered by dbt) as a Snowpark DataFrame with Snowflake's column names
    (unquoted names upper case) and the types dbt-snowflake would read."""
    table = cursor.sql(f"select * from {relation}")
    fields = []
    for name, column_type in zip(table.columns, table.types, strict=True):
        snowpark_type = snowpark_ref_type(str(column_type))
        if snowpark_type is None:
            raise spec.fail(f"column {name} of {relation} is {column_type}, which Snowpark cannot read",
                            "cast it to a Snowflake type in the upstream model, or read another column")
        fields.append(sp.StructField(name.upper() if name == name.lower() else f'"{name}"', snowpark_type))
    rows = [[snowpark_ref_value(value, field.datatype) for value, field in zip(row, fields, strict=True)]
            for row in table.fetchall()]
    # Saved as a table of the local session: a DataFrame of inline values re-converts its values every time
    # the local session evaluates the plan (several times a model), a table holds them typed once.
    name = f"MESH_REF_{next(_REF_NUMBERS)}"
    session.create_dataframe(rows, schema=sp.StructType(fields)).write.save_as_table(name, mode="overwrite")
    return session.table(name)


def land(cursor: duckdb.DuckDBPyConnection, spec: ModelSpec, fields: list[sp.StructField],
         rows: list[Any]) -> duckdb.DuckDBPyRelation:
    """The collected result as a DuckDB relation with the contract's column names and types."""
    result = []
    for field in fields:
        canonical = canonical_type(field.datatype)
        if canonical is None:
            raise spec.fail(f"result column {field.name} is {field.datatype}, which has no table column type",
                            "convert it to a Snowflake column type with .cast() before returning")
        result.append((field.name, canonical))
    try:
        columns = contract_columns(list(spec.columns), result)
    except ValueError as exc:
        raise spec.fail(f"the result does not match the declared columns: {exc}",
                        "change the model or the columns' data_type in its YAML") from None
    by_name = {field.name: (index, field.datatype) for index, field in enumerate(fields)}
    arrays = {}
    for column in columns:
        index, data_type = by_name[column.source]
        arrays[f"c{index}"] = pa.array([arrow_value(row[index], data_type) for row in rows],
                                       type=arrow_type(data_type))
    table = pa.table(arrays)
    arrow_names = {column.source: f"c{by_name[column.source][0]}" for column in columns}
    return cursor.from_arrow(table).project(", ".join(_cast(spec, column, arrow_names[column.source])
                                                      for column in columns))


def _cast(spec: ModelSpec, column: LandedColumn, arrow_name: str) -> str:
    target = duckdb_type(column.data_type)
    if target is None:
        raise spec.fail(f"column {column.name} has type {column.data_type}, which DuckDB cannot hold",
                        "declare a Snowflake type the embedded engine supports (docs/snowpark.md)")
    return f'cast("{arrow_name}" as {target}) as "{column.name.replace(chr(34), chr(34) * 2)}"'


def _operation_error(spec: ModelSpec, model: Callable[..., Any], exc: Exception) -> SnowparkModelError:
    """One line for a failure inside the model: the unsupported Snowpark operation, or the error and where."""
    text = " ".join(str(exc).split())
    line, source = _model_line(model, exc)
    line = line + spec.line_offset if line else None
    at = f" (at `{source}`)" if source else ""
    unsupported = _LOCAL_TESTING.search(text)
    mocked = _MOCKED.search(text)
    if unsupported or mocked:
        operation = unsupported.group(1) if unsupported else f"Function {mocked.group(1)}"  # type: ignore[union-attr]
        return spec.fail(f"Snowpark operation `{operation}`{at} is not supported by Snowpark's local testing "
                         "session", f"rewrite it with the operations {DOCS} lists as supported, or build this "
                         "model on Snowflake (`--target prod`)", line)
    return spec.fail(f"the model failed{at} in Snowpark's local testing session: {type(exc).__name__}: {text}",
                     f"fix the model, or if the operation is one the local session lacks ({DOCS}), "
                     "build this model on Snowflake (`--target prod`)", line)


def _model_line(model: Callable[..., Any], exc: Exception) -> tuple[int | None, str]:
    """The line of the model file the failure happened at (the deepest frame in the model's module)."""
    module_file = model.__code__.co_filename
    found: tuple[int | None, str] = (None, "")
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == module_file and frame.lineno is not None:
            found = (frame.lineno, (frame.line or linecache.getline(module_file, frame.lineno)).strip())
    return found
