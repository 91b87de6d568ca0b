"""The DuckDB engine's provisioning: each domain's database file and schemas, and the mesh-wide roles and
their hierarchy recorded in every domain database (`governance.mesh_provisioned_roles` / `_grants`).

The governance emulation folds the recorded grants into its role closure on the next build, so a role granted to
a role in session counts as in session, as on Snowflake. Warehouses and resource monitors have no DuckDB
equivalent and are left out. The same plan/apply engine runs it: a converged database gets an empty plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mesh_cli.core.footprint import DomainFootprint, MeshFootprint
from mesh_cli.core.identifiers import identifier
from mesh_cli.core.plan import ApplyResult, Plan, Statement, apply
from mesh_cli.core.sql_literals import duckdb_string

if TYPE_CHECKING:
    from mesh_cli.engines.base import Engine

GOVERNANCE = "governance"
TABLES = {
    "mesh_provisioned_roles": "(role_name varchar, comment varchar)",
    "mesh_provisioned_grants": "(role_name varchar, granted_to varchar)",
}


def _current(connection: Any) -> tuple[set[str], set[str], set[tuple[str, ...]], set[tuple[str, ...]]]:
    """Schemas, tables of the governance schema, recorded roles, recorded grants."""
    if connection is None:
        return set(), set(), set(), set()
    schemas = {row[0] for row in connection.execute(
        "select schema_name from information_schema.schemata where catalog_name = current_database()").fetchall()}
    tables = {row[0] for row in connection.execute(
        "select table_name from information_schema.tables where table_catalog = current_database() "
        f"and table_schema = '{GOVERNANCE}'").fetchall()}
    roles: set[tuple[str, ...]] = set()
    grants: set[tuple[str, ...]] = set()
    if "mesh_provisioned_roles" in tables:
        roles = {tuple(row) for row in connection.execute(
            f"select role_name, comment from {GOVERNANCE}.mesh_provisioned_roles").fetchall()}
    if "mesh_provisioned_grants" in tables:
        grants = {tuple(row) for row in connection.execute(
            f"select role_name, granted_to from {GOVERNANCE}.mesh_provisioned_grants").fetchall()}
    return schemas, tables, roles, grants


def _values(row: tuple[str, ...]) -> str:
    return "(" + ", ".join(duckdb_string(value) for value in row) + ")"


def mesh_rows(footprint: MeshFootprint) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    """The rows every domain database records: the mesh's roles (with the marker) and its role grants."""
    return {(role, footprint.marker) for role in footprint.all_roles()}, set(footprint.role_grants())


def plan_domain(footprint: MeshFootprint, domain: DomainFootprint, connection: Any,
                wanted: tuple[set[tuple[str, ...]], set[tuple[str, ...]]], *, prune: bool = False) -> Plan:
    """The statements that make one domain database match the footprint (connection None: the file is new);
    `wanted` is `mesh_rows(footprint)`, computed once for all the domains."""
    plan = Plan(f"provision {domain.domain} on DuckDB")
    schemas, tables, roles, grants = _current(connection)
    statements: list[Statement] = []
    for schema in [s.lower() for s in domain.schemas] + [GOVERNANCE]:
        if schema not in schemas:
            schemas.add(schema)
            statements.append(Statement(f"create schema {identifier(schema, what='schema')}", "create", "schema",
                                        schema, "declared schema missing"))
    for table, columns in TABLES.items():
        if table not in tables:
            statements.append(Statement(f"create table {GOVERNANCE}.{table} {columns}", "create", "table", table,
                                        "where the mesh's roles are recorded"))
    wanted_roles, wanted_grants = wanted
    for kind, table, declared, current in (("role", "mesh_provisioned_roles", wanted_roles, roles),
                                           ("grant", "mesh_provisioned_grants", wanted_grants, grants)):
        missing = sorted(declared - current)
        if missing:
            statements.append(Statement(f"insert into {GOVERNANCE}.{table} values "
                                        + ", ".join(_values(row) for row in missing), "record", f"{kind}(s)",
                                        ", ".join(" → ".join(row) if kind == "grant" else row[0] for row in missing),
                                        f"{len(missing)} declared, not yet recorded"))
        for row in sorted(current - declared):
            if kind == "role" and row[1] != footprint.marker:
                continue
            if not prune:
                plan.notes.append(f"drift: {kind} {' → '.join(row) if kind == 'grant' else row[0]} is recorded in "
                                  f"{domain.domain} but not declared (`--prune` removes it)")
                continue
            keys = ("role_name", "granted_to") if kind == "grant" else ("role_name", "comment")
            condition = " and ".join(f"{c} = {duckdb_string(v)}" for c, v in zip(keys, row, strict=True))
            statements.append(Statement(f"delete from {GOVERNANCE}.{table} where {condition}", "drop", kind,
                                        row[0], f"pruned: {kind} no longer declared", destructive=True))
    plan.extend(statements)
    return plan


class DuckDBProvisioner:
    """Provisioning on DuckDB: one plan per domain database file (`core.footprint.Provisioner`), planned against
    the file as it is (none yet: an empty one) and applied to it, created if need be. Its statements record the
    mesh's roles in tables of the governance schema: internal."""

    internal_sql = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.planned: list[tuple[str, Plan]] = []    # (domain, plan) of the last `plan`

    def plan(self, footprint: MeshFootprint, *, prune: bool) -> list[Plan]:
        self.planned = []
        wanted = mesh_rows(footprint)
        for domain in footprint.domains:
            connection = (self.engine.open_database(domain.domain, read_only=True)
                          if self.engine.has_database(domain.domain) else None)
            try:
                self.planned.append((domain.domain, plan_domain(footprint, domain, connection, wanted,
                                                                      prune=prune)))
            finally:
                if connection is not None:
                    connection.close()
        return [plan for _, plan in self.planned]

    def apply(self, plans: list[Plan]) -> list[ApplyResult]:
        results = []
        for domain, plan in self.planned:
            if any(plan is wanted for wanted in plans):
                connection = self.engine.open_database(domain)
                try:
                    results.append(apply(plan, self.engine.guarded(connection.execute)))
                finally:
                    connection.close()
        return results

