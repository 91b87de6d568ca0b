"""Which relations `mesh query` may read: what the role could read on Snowflake, never the emulation's storage.

On Snowflake a governed table carries its policies itself, so everyone reads it through them, its owner too
(https://docs.snowflake.com/en/user-guide/security-column-intro: an object's owner cannot see column data a masking
policy protects; https://docs.snowflake.com/en/user-guide/security-column-ddm-use: the policy rewrites the column
wherever the query reads it); a consumer reads another domain only through the objects granted to it, its products
(https://docs.snowflake.com/en/user-guide/security-access-control-overview). Locally a governed model's clear rows
sit in `mesh_protected.<schema>__<name>` under a view applying the policies. So a query reads, in the queried
domain's database, its governed models (their views), its public models and its `governance` records; in an
upstream's, the public models a role in session reads. Anything else (the clear storage, staging, landing, private
models, another domain's governance) is refused in one line before the query runs.

An upstream's product is read only by the roles that hold its reader role by the upstream's last publish, the rule
the build reads it by (`core.share_access.reader_holders`): a consumer withdrawn since reads nothing, and so does an
account role granted nothing on the upstream (https://docs.snowflake.com/en/sql-reference/sql/grant-database-role).
Across accounts (`account_per_domain`) the consumer reads it through the share: in a share session, where account
roles decide nothing inside the policies and only the share's database roles its mount granted count
(https://docs.snowflake.com/en/sql-reference/functions/is_database_role_in_session); such a query reads that one
share and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from mesh_cli.core.compiled_guard import (
    GOVERNANCE_SCHEMA,
    METADATA_SCHEMAS,
    PROTECTED_SCHEMA,
    function_name,
    reads_files,
    refused_table_function,
)
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain, discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_library import access_model
from mesh_cli.core.manifest import ref_targets_of
from mesh_cli.core.model_index import read_model_index
from mesh_cli.core.share_access import mounts_of, reader_holders
from mesh_cli.core.share_settings import ACCOUNT_PER_DOMAIN, ShareSettings, share_name, share_settings
from mesh_cli.core.state import domain_state_dir, load_target_manifest, published_products, target_manifest
from mesh_cli.engines.base import Engine


@dataclass(frozen=True)
class QueryScope:
    """The relations a query may read, as lower-cased (database, schema, name), and how names resolve."""

    domain: str
    readable: frozenset[tuple[str, str, str]]
    schemas: frozenset[str]        # the queried database's schemas (a two-part name's first part)
    catalogs: frozenset[str]       # the attached databases: the domain's and its upstreams'
    dialect: str                   # the session's SQL, by sqlglot's name (`Engine.sqlglot_dialect`)
    # an upstream's product the roles in session do not read -> why (the roles that do)
    withheld: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # account per domain: an upstream's catalog -> (its share, the share's database roles the session holds)
    shares: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

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
        if relation in self.withheld:
            return self.withheld[relation]
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


def _granted(config: MeshConfig, target: str, domain: Domain, upstream: Domain, adapter: str, settings: ShareSettings,
             roles: set[str], withheld: dict[tuple[str, str, str], str]) -> set[tuple[str, str, str]]:
    """The upstream's public models the roles in session read (a holder of the product's reader role among them);
    each other one goes into `withheld` with the roles that read it."""
    published = published_products(config, target, upstream.name)
    readable = set()
    for model in _models(config, target, upstream, adapter):
        if model.access != "public":
            continue
        relation = (upstream.name.lower(), str(model.schema).lower(), str(model.alias).lower())
        product, holders = reader_holders(settings, domain.name, upstream, model, published)
        if roles & set(holders):
            readable.add(relation)
            continue
        withheld[relation] = _why_withheld(".".join(relation), domain.name, upstream.name, published is not None,
                                           product, holders, roles)
    return readable


def _why_withheld(relation: str, consumer: str, upstream: str, published: bool, product: str | None,
                  holders: tuple[str, ...], roles: set[str]) -> str:
    if not published:
        return (f"{relation} is a product of {upstream}, which has not published it: no role reads it yet (run "
                f"`mesh publish {upstream}`)")
    if product is None:
        return f"{relation} is not shared with {consumer} by {upstream}'s last publish: no role of {consumer} reads it"
    return (f"{relation} is read only by the holders of {upstream}.{product}'s reader role "
            f"({', '.join(holders) or 'none'}, by {upstream}'s last publish), and no role in session holds it "
            f"({', '.join(sorted(roles)) or 'none'}): query with --role one of them")


def _share_roles(config: MeshConfig, domain: Domain, roles: set[str],
                 manifest_of: Any) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Account per domain: each upstream catalog -> its share (the first product `domain` mounts of it) and the
    share's database roles the mount grants to a role in session."""
    domains = discover_domains(config)
    upstream_of = {share_name(name, str(entry["name"])): name for name in domain.upstreams if name in domains
                   for entry in domains[name].products if isinstance(entry, dict)}
    shares: dict[str, tuple[str, tuple[str, ...]]] = {}
    for mount in mounts_of(domain, domains, share_settings(config), access_model(config.root, domains), manifest_of):
        held = tuple(role for role, holder in mount.grants if holder in roles)
        shares.setdefault(upstream_of[mount.database].lower(), (mount.database, held))
    return shares


def query_scope(config: MeshConfig, target: str, domain: Domain, upstreams: list[Domain], engine: Engine,
                connection: Any) -> QueryScope:
    """The scope of a query in `domain`'s database with `upstreams` attached, on the engine's `connect` session
    (read from the session itself: its governed storage and roles; from the saved manifests: public models; from
    the upstreams' last publish: who reads their products)."""
    catalogs = [domain.name, *(u.name for u in upstreams)]
    adapter = engine.adapter_type
    readable = _public(config, target, domain, adapter)
    for catalog, name in engine.session_tables(connection, PROTECTED_SCHEMA):
        schema, _, model = name.lower().partition("__")
        if catalog == domain.name and model:
            readable.add((domain.name.lower(), schema, model))
    settings = share_settings(config)
    roles = {role.upper() for role in engine.session_roles(connection)}
    withheld: dict[tuple[str, str, str], str] = {}
    for upstream in upstreams:
        readable |= _granted(config, target, domain, upstream, adapter, settings, roles, withheld)
    shares = (_share_roles(config, domain, roles, lambda up: target_manifest(config, target, up, adapter))
              if settings.topology == ACCOUNT_PER_DOMAIN and upstreams else {})
    return QueryScope(domain.name.lower(), frozenset(readable),
                      frozenset(engine.session_schemas(connection, domain.name)),
                      frozenset(c.lower() for c in catalogs), engine.sqlglot_dialect, withheld, shares)


def check_reads(sql: str, scope: QueryScope) -> tuple[str, tuple[str, ...]] | None:
    """Refuse a query reading anything outside its scope (one line: the relation and what to read instead). Across
    accounts, a query reading an upstream's product reads that share alone: its share and the database roles the
    session holds in it are returned, for the session to read as the share's consumer (else None)."""
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
    called = refused_table_function(statement)
    if called:
        raise MeshError(f"mesh query reads relations by name only; the table function {called}() is not known to be "
                        "harmless (it may run SQL given as a string or read files, outside every policy): read the "
                        "relation by its name")
    read = set()
    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue    # a harmless table function (range, unnest, duckdb_tables)
        if not table.db and table.name.lower() in ctes:
            continue
        relation = scope.resolve(table)
        refused = scope.refusal(relation)
        if refused:
            raise MeshError(f"mesh query reads what the role could read on Snowflake: {refused}")
        if relation[1] not in METADATA_SCHEMAS:
            read.add(relation)
    shared = sorted({catalog for catalog, _, _ in read if catalog in scope.shares})
    if not shared:
        return None
    others = sorted({".".join(r) for r in read if r[0] != shared[0]})
    if others:
        raise MeshError(f"mesh query reads {shared[0]}'s products through its share, as a consumer account does, and "
                        f"a share session reads that share alone: query {', '.join(others)} apart")
    return scope.shares[shared[0]]
