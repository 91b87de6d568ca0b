"""Which relations `mesh query` may read: what the role could read on Snowflake, never the emulation's storage.

On Snowflake a governed table carries its policies itself, so everyone reads it through them, its owner too
(https://docs.snowflake.com/en/user-guide/security-column-intro: an object's owner cannot see column data a masking
policy protects; https://docs.snowflake.com/en/user-guide/security-column-ddm-use: the policy rewrites the column
wherever the query reads it); a consumer reads another domain only through the objects granted to it, its products
(https://docs.snowflake.com/en/user-guide/security-access-control-overview). Locally a governed model's clear rows
sit in `mesh_protected.<schema>__<name>` under a view applying the policies. So a query reads, in the queried
domain's database, its governed models (their views), its public models and its `governance` records; in an
upstream's, its public models only. Anything else (the clear storage, staging, landing, private models, another
domain's governance) is refused in one line before the query runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from mesh_cli.core.compiled_guard import METADATA_SCHEMAS, function_name, reads_files
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.manifest import ref_targets_of
from mesh_cli.core.model_index import read_model_index
from mesh_cli.core.state import domain_state_dir, load_target_manifest
from mesh_cli.engines.base import Engine

PROTECTED_SCHEMA = "mesh_protected"    # macros/governance/protect/create_table_as.sql
GOVERNANCE_SCHEMA = "governance"


@dataclass(frozen=True)
class QueryScope:
    """The relations a query may read, as lower-cased (database, schema, name), and how names resolve."""

    domain: str
    readable: frozenset[tuple[str, str, str]]
    schemas: frozenset[str]        # the queried database's schemas (a two-part name's first part)
    catalogs: frozenset[str]       # the attached databases: the domain's and its upstreams'
    dialect: str                   # the session's SQL, by sqlglot's name (`Engine.sqlglot_dialect`)

    def resolve(self, table: exp.Table) -> tuple[str, str, str]:
        """A table reference as DuckDB resolves it in the queried database's session."""
        catalog, schema, name = (part.lower() for part in (table.catalog, table.db, table.name))
        if catalog:
            return catalog, schema, name
        if schema and schema not in self.schemas and schema in self.catalogs:
            return schema, "main", name
        return self.domain, schema or "main", name

    def refusal(self, relation: tuple[str, str, str]) -> str | None:
        catalog, schema, name = relation
        if relation in self.readable or schema in METADATA_SCHEMAS:
            return None
        if catalog == self.domain and schema == GOVERNANCE_SCHEMA:
            return None
        dotted = ".".join(relation)
        if schema == PROTECTED_SCHEMA:
            view = ".".join((catalog, *name.split("__", 1)))
            return (f"{dotted} is the clear storage of a governed model, which no role reads on Snowflake: read its "
                    f"governed view {view}")
        if catalog != self.domain:
            public = sorted(".".join(r) for r in self.readable if r[0] == catalog)
            return (f"{dotted} is not a public model of {catalog}: another domain is read through its products only "
                    f"({', '.join(public) or 'none built'})")
        return (f"{dotted} is neither governed nor public in {catalog}: read a governed or public model "
                f"({', '.join(sorted('.'.join(r) for r in self.readable if r[0] == catalog)) or 'none built'})")


def _models(config: MeshConfig, target: str, domain: Domain, adapter: str) -> list[Any]:
    indexed = read_model_index(domain_state_dir(config, target, domain.name), adapter)
    if indexed is not None:
        return indexed
    found = load_target_manifest(config, target, domain, adapter)
    return ref_targets_of(found[1], domain.name) if found else []


def _public(config: MeshConfig, target: str, domain: Domain, adapter: str) -> set[tuple[str, str, str]]:
    return {(domain.name.lower(), str(m.schema).lower(), str(m.alias).lower())
            for m in _models(config, target, domain, adapter) if m.access == "public"}


def query_scope(config: MeshConfig, target: str, domain: Domain, upstreams: list[Domain], engine: Engine,
                connection: Any) -> QueryScope:
    """The scope of a query in `domain`'s database with `upstreams` attached, on the engine's `connect` session
    (read from the session itself: its governed storage; and from the saved manifests: public models)."""
    catalogs = [domain.name, *(u.name for u in upstreams)]
    adapter = engine.adapter_type
    readable = _public(config, target, domain, adapter)
    for catalog, name in engine.session_tables(connection, PROTECTED_SCHEMA):
        schema, _, model = name.lower().partition("__")
        if catalog == domain.name and model:
            readable.add((domain.name.lower(), schema, model))
    for upstream in upstreams:
        readable |= _public(config, target, upstream, adapter)
    return QueryScope(domain.name.lower(), frozenset(readable),
                      frozenset(engine.session_schemas(connection, domain.name)),
                      frozenset(c.lower() for c in catalogs), engine.sqlglot_dialect)


def check_reads(sql: str, scope: QueryScope) -> None:
    """Refuse a query reading anything outside its scope (one line: the relation and what to read instead)."""
    try:
        [statement] = [s for s in sqlglot.parse(sql, read=scope.dialect) if s is not None]
    except (SqlglotError, ValueError) as exc:
        raise MeshError(f"mesh query cannot tell what this query reads ({str(exc).splitlines()[0]}); write it as "
                        "one plain SELECT") from exc
    if not isinstance(statement, exp.Query):
        raise MeshError(f"mesh query runs exactly one read-only SELECT; got {statement.key.upper()}")
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for function in statement.find_all(exp.Func):
        name = function_name(function)
        if reads_files(name):
            raise MeshError(f"mesh query reads relations by name only; {name}() reads files or a "
                            "relation named in a string, outside every policy")
    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue    # a table function (range, unnest): its files were refused above
        if not table.db and table.name.lower() in ctes:
            continue
        refused = scope.refusal(scope.resolve(table))
        if refused:
            raise MeshError(f"mesh query reads what the role could read on Snowflake: {refused}")
