"""Column-level lineage across domains: whether a consumer's node reads one column of an upstream model.

A change to a column (removed, renamed, retyped, a guarantee lost) reaches a consumer only if it reads that
column. The consumer's SQL is read with sqlglot (Snowflake dialect) from its dbt source, with each `ref()` and
`source()` standing as a table of its own: it reads the column when a column of that name is taken from the
upstream's alias or from no alias at all, when a `*` could come from it, or when a join is `using` it. What
cannot be read that way (other Jinja, SQL sqlglot does not parse, a generic test other than `relationships`) is
taken to read every column: the finding is then as coarse as before, never missing a consumer.

The columns a read flows into are traced through CTEs, subqueries and unions to the node's own (outermost)
columns; the catalogue draws its column-level lineage from them, `mesh check` names them in its findings.

Python models read every column too, unless the code projects the ref (`dbt.ref(...).select(...)`) and never
names the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:   # sqlglot is imported where SQL is read: `mesh list` and `mesh product` import this module too
    from sqlglot import exp

Leaf = tuple[str, str]   # a column of a table as the SQL names them (lower case); `*` for all its columns
Outputs = dict[str, set[Leaf]]   # each output column (`*`: a star's pass-through) -> the table columns it comes from

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


def _mentioned(sql: exp.Expr, aliases: set[str]) -> frozenset[str]:
    """The columns the statement names unqualified or qualified by one of the upstream's aliases."""
    from sqlglot import exp

    return frozenset(c.name.lower() for c in sql.find_all(exp.Column) if not c.table or c.table.lower() in aliases)


def _joined_on(sql: exp.Expr) -> frozenset[str] | None:
    """The columns joins take `using`; None when a natural join could join on any column."""
    from sqlglot import exp

    found: set[str] = set()
    for join in sql.find_all(exp.Join):
        if join.args.get("kind", "") == "NATURAL" or join.method == "NATURAL":
            return None
        found.update(identifier.name.lower() for identifier in join.args.get("using") or [])
    return frozenset(found)


@dataclass(frozen=True)
class _UpstreamReads:
    """What one statement reads of one upstream model, worked out once for all its columns."""

    every_column: bool
    named: frozenset[str]
    outputs: Outputs


@lru_cache(maxsize=2048)
def _upstream_reads(code: str, upstream: str, model: str) -> _UpstreamReads | None:
    """The statement's reads of `upstream.model`; None when the SQL cannot be read, or the ref is not where sqlglot
    sees a table (e.g. inside a string): then it is taken to read every column."""
    plain = _plain_sql(code)
    parsed = _statement(plain) if plain is not None else None
    if parsed is None:
        return None
    sql, outputs = parsed
    aliases = _upstream_tables(sql, upstream, model)
    if not aliases:
        return None
    joined = _joined_on(sql)
    every_column = joined is None or _star_reads(sql, aliases)
    return _UpstreamReads(every_column, _mentioned(sql, aliases) | (joined or frozenset()), outputs)


def _ctes(sql: exp.Expr) -> dict[str, exp.Expr]:
    from sqlglot import exp

    return {cte.alias_or_name.lower(): cte.this for cte in sql.find_all(exp.CTE)}


def _sources(select: exp.Select, ctes: dict[str, exp.Expr]) -> dict[str, str | exp.Expr]:
    """What each name in a select's FROM and JOINs stands for: a table's name, or the query of a CTE or subquery."""
    from sqlglot import exp

    from_ = select.args.get("from_")
    found: dict[str, str | exp.Expr] = {}
    for item in ([from_.this] if from_ else []) + [join.this for join in select.args.get("joins") or []]:
        if isinstance(item, exp.Table):
            name = item.name.lower()
            found[item.alias_or_name.lower()] = ctes[name] if name in ctes and not item.db else name
        elif isinstance(item, exp.Subquery):
            found[item.alias_or_name.lower()] = item.this
    return found


def _outputs(query: exp.Expr, ctes: dict[str, exp.Expr], seen: frozenset[int] = frozenset()) -> Outputs:
    """The output columns of a query and the table columns each is computed from, through CTEs, subqueries and
    set operations (a recursive CTE's own rows are not followed)."""
    from sqlglot import exp

    if id(query) in seen:
        return {}
    seen = seen | {id(query)}
    if isinstance(query, exp.SetOperation):   # union & co: columns by position, named by the left side
        left, right = _outputs(query.this, ctes, seen), list(_outputs(query.expression, ctes, seen).values())
        return {name: leaves | (right[index] if index < len(right) else set())
                for index, (name, leaves) in enumerate(left.items())}
    if not isinstance(query, exp.Select):
        return {}
    sources = _sources(query, ctes)
    outputs: Outputs = {}
    for projection in query.expressions:
        star = projection if isinstance(projection, exp.Star) else (
            projection if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star) else None)
        if star is not None:
            table = star.table.lower() if isinstance(star, exp.Column) else ""
            for alias, source in sources.items():
                if table and alias != table:
                    continue
                passed = {"*": {(source, "*")}} if isinstance(source, str) else _outputs(source, ctes, seen)
                for name, leaves in passed.items():
                    outputs.setdefault(name, set()).update(leaves)
            continue
        leaves = outputs.setdefault(projection.alias_or_name.lower(), set())
        for column in projection.find_all(exp.Column):
            leaves |= _resolve(column, sources, ctes, seen)
    return outputs


def _resolve(column: exp.Column, sources: dict[str, str | exp.Expr], ctes: dict[str, exp.Expr],
             seen: frozenset[int]) -> set[Leaf]:
    """The table columns a column of a select stands for (an unqualified one: in any source that may hold it)."""
    name, table = column.name.lower(), column.table.lower()
    found: set[Leaf] = set()
    for alias, source in sources.items():
        if table and alias != table:
            continue
        if isinstance(source, str):
            found.add((source, name))
        else:
            outputs = _outputs(source, ctes, seen)
            found |= outputs.get(name, set()) | {(leaf, name) for leaf, _ in outputs.get("*", set())}
    return found


@lru_cache(maxsize=512)
def _statement(plain: str) -> tuple[exp.Expr, Outputs] | None:
    """The SQL parsed (Snowflake dialect) with its output columns' origins; None when sqlglot cannot read it."""
    from sqlglot import parse_one
    from sqlglot.errors import SqlglotError

    try:
        sql = parse_one(plain, read="snowflake")
    except SqlglotError:
        return None
    return None if sql is None else (sql, _outputs(sql, _ctes(sql)))


def _flows_into(outputs: Outputs, upstream: str, model: str, column: str) -> tuple[str, ...]:
    """The node's own columns computed from `column` of the upstream model."""
    wanted = {f"__mesh_ref__{upstream}__{model}".lower(), f"__mesh_ref__{model}".lower()}
    return tuple(column if name == "*" else name for name, leaves in outputs.items()
                 if any(table in wanted and read in (column, "*") for table, read in leaves))


def sql_reads(code: str, upstream: str, model: str, column: str) -> ColumnRead:
    """Whether the SQL (dbt source) of a node reads `column` of `upstream.model`, and the node's columns it
    flows into.

    >>> sql_reads("select id, upper(email) as contact from {{ ref('customers', 'dim') }}", "customers", "dim", "email")
    ColumnRead(reads=True, into=('contact',))
    >>> sql_reads("select id from {{ ref('customers', 'dim') }}", "customers", "dim", "email").reads
    False
    """
    reads = _upstream_reads(code, upstream, model)
    if reads is None:
        return EVERYTHING
    column = column.lower()
    if reads.every_column or column in reads.named:
        return ColumnRead(True, _flows_into(reads.outputs, upstream, model, column))
    return NOTHING


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
