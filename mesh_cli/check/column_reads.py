"""Column-level lineage across domains: whether a consumer's node reads one column of an upstream model.

A change to a column (removed, renamed, retyped, a guarantee lost) reaches a consumer only if it reads that
column. The consumer's SQL is read with sqlglot (Snowflake dialect) from its dbt source, with each `ref()` and
`source()` standing as a table of its own: it reads the column when a column of that name is taken from the
upstream's alias or from no alias at all, when a `*` could come from it, or when a join is `using` it. What
cannot be read that way (other Jinja, SQL sqlglot does not parse, a generic test other than `relationships`) is
taken to read every column: the finding is then as coarse as before, never missing a consumer.

Python models read every column too, unless the code projects the ref (`dbt.ref(...).select(...)`) and never
names the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:   # sqlglot is imported where SQL is read: the catalogue and `mesh list` import this module too
    from sqlglot import exp

_JINJA_REF = re.compile(r"\{\{\s*(ref|source)\s*\(([^)]*)\)\s*\}\}")
_JINJA_CONFIG = re.compile(r"\{\{\s*config\s*\((?:[^{}]|\{[^{}]*\})*\)\s*\}\}", re.DOTALL)
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_STRING_ARG = re.compile(r"""['"]([^'"]+)['"]""")
_PYTHON_PROJECTION = re.compile(r"dbt\.ref\([^)]*\)\s*\.select\(")


@dataclass(frozen=True)
class ColumnRead:
    """Whether a node reads the column, and the node's own columns it flows into (outermost select)."""

    reads: bool
    into: tuple[str, ...] = ()


EVERYTHING = ColumnRead(True)
NOTHING = ColumnRead(False)


def _placeholder(kind: str, args: str) -> str:
    names = _STRING_ARG.findall(args.split("v=")[0].split("version=")[0])
    return "__mesh_" + kind + "__" + "__".join(re.sub(r"\W", "_", name) for name in names)


def _plain_sql(code: str) -> str | None:
    """The SQL of a model's Jinja source with every ref/source a plain table; None if other Jinja is left."""
    code = _JINJA_COMMENT.sub("", _JINJA_CONFIG.sub("", code))
    code = _JINJA_REF.sub(lambda m: _placeholder(m.group(1), m.group(2)), code)
    return None if "{{" in code or "{%" in code else code


def _upstream_tables(sql: exp.Expr, upstream: str, model: str) -> set[str]:
    """The names (aliases) the upstream model goes by in the statement."""
    from sqlglot import exp

    wanted = {f"__mesh_ref__{upstream}__{model}", f"__mesh_ref__{model}"}
    return {table.alias_or_name.lower() for table in sql.find_all(exp.Table) if table.name in wanted}


def _star_reads(sql: exp.Expr, aliases: set[str]) -> bool:
    from sqlglot import exp

    for star in sql.find_all(exp.Star):
        parent = star.parent
        if isinstance(parent, exp.Column):
            if parent.table.lower() in aliases or not parent.table:
                return True
        elif not isinstance(parent, exp.Count):   # count(*) reads no column
            return True
    return False


def _mentions(node: exp.Expr, column: str, aliases: set[str]) -> bool:
    from sqlglot import exp

    return any(c.name.lower() == column and (not c.table or c.table.lower() in aliases)
               for c in node.find_all(exp.Column))


def _joined_on(sql: exp.Expr, column: str) -> bool:
    from sqlglot import exp

    for join in sql.find_all(exp.Join):
        if join.args.get("kind", "") == "NATURAL" or join.method == "NATURAL":
            return True
        if any(identifier.name.lower() == column for identifier in join.args.get("using") or []):
            return True
    return False


def sql_reads(code: str, upstream: str, model: str, column: str) -> ColumnRead:
    """Whether the SQL (dbt source) of a node reads `column` of `upstream.model`."""
    from sqlglot import parse_one
    from sqlglot.errors import SqlglotError

    plain = _plain_sql(code)
    if plain is None:
        return EVERYTHING
    try:
        sql = parse_one(plain, read="snowflake")
    except SqlglotError:
        return EVERYTHING
    if sql is None:
        return EVERYTHING
    column = column.lower()
    aliases = _upstream_tables(sql, upstream, model)
    if not aliases:
        return EVERYTHING   # the ref is not where sqlglot sees a table (e.g. inside a string): assume it reads
    if _star_reads(sql, aliases):
        return ColumnRead(True, (column,))
    reads = _mentions(sql, column, aliases) or _joined_on(sql, column)
    if not reads:
        return NOTHING
    into = tuple(projection.alias_or_name for projection in getattr(sql, "selects", [])
                 if _mentions(projection, column, aliases))
    return ColumnRead(True, into)


def _python_reads(code: str, column: str) -> ColumnRead:
    if not _PYTHON_PROJECTION.search(code):
        return EVERYTHING
    named = re.search(rf"\b{re.escape(column)}\b", code, re.IGNORECASE)
    return ColumnRead(True, (column,)) if named else NOTHING


def _test_reads(node: dict[str, Any], column: str) -> ColumnRead:
    metadata = node.get("test_metadata") or {}
    if not metadata:   # a singular test: SQL of its own
        return EVERYTHING
    if metadata.get("name") != "relationships":
        return EVERYTHING
    field = str((metadata.get("kwargs") or {}).get("field") or "").strip("'\"` ").lower()
    if not field:
        return EVERYTHING
    return ColumnRead(True, (str(node.get("column_name")),)) if field == column else NOTHING


def node_reads(node: dict[str, Any], upstream: str, model: str, column: str) -> ColumnRead:
    """Whether one consumer node (a model, snapshot or test of the manifest) reads `column` of `upstream.model`."""
    code = str(node.get("raw_code") or "")
    if node.get("resource_type") == "test":
        if node.get("test_metadata"):
            return _test_reads(node, column.lower())
        return sql_reads(code, upstream, model, column)
    if node.get("language") == "python":
        return _python_reads(code, column)
    return sql_reads(code, upstream, model, column)
