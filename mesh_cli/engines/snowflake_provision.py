"""The Snowflake engine's provisioning: read the account with SHOW, diff it with the footprint, order the statements.

Only what the declaration names is created or altered; objects the tool created (their comment carries the
mesh's marker) and grants to the roles it manages that are no longer declared are reported as drift, and
dropped or revoked only with `prune`. OWNERSHIP and grants on tables and views (the effect of future grants)
are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mesh_cli.core.footprint import MeshFootprint, ResourceMonitor, Warehouse
from mesh_cli.core.plan import ApplyResult, Plan, RecordedState, Statement, StateReader, apply, show_within
from mesh_cli.core.sql_literals import snowflake_string

if TYPE_CHECKING:
    from mesh_cli.engines.snowflake import SnowflakeEngine

MANAGED_GRANT_KINDS = {"DATABASE", "SCHEMA", "WAREHOUSE", "ROLE", "DATABASE_ROLE", "ACCOUNT"}
# CREATE SHARE belongs to ACCOUNTADMIN until granted (https://docs.snowflake.com/en/sql-reference/sql/create-share);
# the publishing role gets it, and CREATE DATABASE ROLE on its database, so `mesh publish` runs as the deployer.
# Granting the database and a schema to a share (or to a reader database role) needs OWNERSHIP of them or USAGE WITH
# GRANT OPTION (https://docs.snowflake.com/en/user-guide/security-access-privileges-shares): SYSADMIN owns them, so
# the publishing role holds USAGE on its database and schemas WITH GRANT OPTION.
PUBLISH_ACCOUNT_PRIVILEGES = ("CREATE SHARE",)
# Creating a database from a share needs IMPORT SHARE and CREATE DATABASE on the account
# (https://docs.snowflake.com/en/user-guide/security-access-privileges-shares, data consumers): a consumer
# domain's mounting role holds both.
MOUNT_ACCOUNT_PRIVILEGES = ("IMPORT SHARE", "CREATE DATABASE")
# Of the account-level privileges, only these are managed (others granted to a managed role are left alone).
MANAGED_ACCOUNT_PRIVILEGES = PUBLISH_ACCOUNT_PRIVILEGES + MOUNT_ACCOUNT_PRIVILEGES
FUTURE_OBJECTS = {"TABLE": "TABLES", "VIEW": "VIEWS"}
# the role each kind of statement needs (Snowflake's system roles), shown in the plan
ROLE_FOR = {"role": "USERADMIN", "database": "SYSADMIN", "schema": "SYSADMIN", "warehouse": "SYSADMIN",
            "resource monitor": "ACCOUNTADMIN", "grant": "SECURITYADMIN", "future grant": "SECURITYADMIN",
            "database role": "SYSADMIN", "account grant": "ACCOUNTADMIN", "ownership": "SECURITYADMIN"}
PHASES = ["create role", "create database", "create schema", "create database role", "create resource monitor",
          "alter resource monitor", "create warehouse", "alter warehouse", "grant role", "grant", "future grant",
          "grant ownership", "revoke", "drop warehouse",
          "drop resource monitor", "drop schema", "drop database", "drop role"]

Grant = tuple[str, str, str, str]          # privilege, granted_on, object name, grantee role


@dataclass
class Declared:
    """The declaration flattened into what SHOW returns."""

    roles: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    schemas: list[tuple[str, str]] = field(default_factory=list)
    warehouses: list[Warehouse] = field(default_factory=list)
    monitors: list[ResourceMonitor] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    future_grants: list[Grant] = field(default_factory=list)   # object name = DB.SCHEMA, granted_on TABLE/VIEW
    database_roles: list[str] = field(default_factory=list)    # DB.ROLE: upstream products' reader roles
    admin_owned: list[str] = field(default_factory=list)       # roles holding an entitlement: the admin owns them
    grant_option: set[Grant] = field(default_factory=set)      # grants made WITH GRANT OPTION
    publishers: dict[str, str] = field(default_factory=dict)   # database -> the role that publishes its products


def flatten(footprint: MeshFootprint) -> Declared:
    """Every object and grant of the footprint."""
    declared = Declared(roles=footprint.all_roles(), admin_owned=footprint.admin_owned())
    declared.grants += [("USAGE", "ROLE", role, holder) for role, holder in footprint.role_grants()]
    declared.grants += [("USAGE", "DATABASE_ROLE", reader, holder) for reader, holder in footprint.reader_grants()]
    declared.database_roles = list(dict.fromkeys(reader for reader, _ in footprint.reader_grants()))
    for domain in footprint.domains:
        db, levels = domain.database, domain.access_roles
        declared.databases.append(db)
        declared.schemas += [(db, schema) for schema in domain.schemas]
        declared.monitors.append(domain.resource_monitor)
        declared.warehouses.append(domain.warehouse)
        declared.grants.append(("USAGE", "DATABASE", db, levels["READ"]))
        declared.grants.append(("CREATE SCHEMA", "DATABASE", db, levels["OWNER"]))
        for schema in domain.schemas:
            name = f"{db}.{schema}"
            declared.grants.append(("USAGE", "SCHEMA", name, levels["READ"]))
            declared.grants += [(p, "SCHEMA", name, levels["WRITE"]) for p in ("CREATE TABLE", "CREATE VIEW")]
            declared.grants += [(p, "SCHEMA", name, levels["OWNER"])
                                for p in ("CREATE TAG", "CREATE MASKING POLICY", "CREATE ROW ACCESS POLICY")]
            declared.future_grants += [("SELECT", kind, name, levels["READ"]) for kind in FUTURE_OBJECTS]
            declared.future_grants += [(p, "TABLE", name, levels["WRITE"]) for p in ("INSERT", "UPDATE", "DELETE")]
        declared.grants += [("USAGE", "WAREHOUSE", role.warehouse, role.name)
                            for role in domain.functional_roles if role.warehouse]
        for role in (r for r in domain.functional_roles if r.publishes):
            declared.grants += [(p, "ACCOUNT", "", role.name) for p in PUBLISH_ACCOUNT_PRIVILEGES]
            declared.grants.append(("CREATE DATABASE ROLE", "DATABASE", db, role.name))
            passed_on = [("USAGE", "DATABASE", db, role.name),
                         *(("USAGE", "SCHEMA", f"{db}.{schema}", role.name) for schema in domain.schemas)]
            declared.grants += passed_on
            declared.grant_option.update(passed_on)
            declared.publishers.setdefault(db, role.name)
        if domain.mounting_role:
            declared.grants += [(p, "ACCOUNT", "", domain.mounting_role) for p in MOUNT_ACCOUNT_PRIVILEGES]
    declared.grants = list(dict.fromkeys(declared.grants))
    return declared


@dataclass
class Current:
    """What SHOW returned, keyed by upper-case name."""

    roles: dict[str, dict[str, Any]]
    databases: dict[str, dict[str, Any]]
    schemas: dict[tuple[str, str], dict[str, Any]]
    warehouses: dict[str, dict[str, Any]]
    monitors: dict[str, dict[str, Any]]
    grants: set[Grant]
    future_grants: set[Grant]
    admin_holders: set[str]
    database_roles: set[str] = field(default_factory=set)     # DB.ROLE
    database_role_owners: dict[str, str] = field(default_factory=dict)   # DB.ROLE -> its owner
    grant_option: set[Grant] = field(default_factory=set)      # grants SHOW lists with grant_option true


def _by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(row["name"]).upper(): row for row in rows}


def _managed(row: dict[str, Any], marker: str) -> bool:
    return str(row.get("comment") or "") == marker


def _schemas(reader: StateReader, databases: set[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """The schemas of the existing declared databases, from one SHOW over the account (one per database when
    the account has more schemas than Snowflake lists at once)."""
    if not databases:
        return {}
    rows = show_within(reader, "SCHEMAS", "IN ACCOUNT", [f"IN DATABASE {db}" for db in sorted(databases)])
    return {(str(row["database_name"]).upper(), str(row["name"]).upper()): row for row in rows
            if str(row.get("database_name", "")).upper() in databases}


def read_current(reader: StateReader, footprint: MeshFootprint, declared: Declared) -> Current:
    """One SHOW per object kind; grants one per existing role (Snowflake shows grants per grantee)."""
    roles = _by_name(reader.show("ROLES"))
    databases = _by_name(reader.show("DATABASES"))
    warehouses = _by_name(reader.show("WAREHOUSES"))
    monitors = _by_name(reader.show("RESOURCE MONITORS"))
    schemas = _schemas(reader, set(declared.databases) & set(databases))
    grants: set[Grant] = set()
    grant_option: set[Grant] = set()
    future: set[Grant] = set()
    for role in [r for r in declared.roles if r in roles]:
        for row in reader.show("GRANTS TO ROLE", scope=role):
            kind = str(row.get("granted_on", "")).upper().replace(" ", "_")
            privilege = str(row.get("privilege")).upper()
            if kind == "ACCOUNT" and privilege not in MANAGED_ACCOUNT_PRIVILEGES:
                continue
            if kind in MANAGED_GRANT_KINDS and privilege != "OWNERSHIP":
                name = "" if kind == "ACCOUNT" else str(row["name"]).replace('"', "").upper()
                grants.add((privilege, kind, name, role))
                if str(row.get("grant_option", "")).lower() == "true":
                    grant_option.add((privilege, kind, name, role))
        for row in reader.show("FUTURE GRANTS TO ROLE", scope=role):
            kind = str(row.get("grant_on", "")).upper()
            container = str(row["name"]).upper().rsplit(".", 1)[0]     # DB.SCHEMA.<TABLE> → DB.SCHEMA
            if kind in FUTURE_OBJECTS:
                future.add((str(row["privilege"]).upper(), kind, container, role))
    holders: set[str] = set()
    if footprint.admin_role in roles:
        holders = {str(row.get("grantee_name", "")).upper() for row in reader.show("GRANTS OF ROLE",
                                                                                   scope=footprint.admin_role)}
    owners: dict[str, str] = {}
    for db in sorted({name.split(".")[0] for name in declared.database_roles} & set(databases)):
        owners |= {f"{db}.{str(row['name']).upper()}": str(row.get("owner") or "").upper()
                   for row in reader.show("DATABASE ROLES", scope=f"IN DATABASE {db}")}
    database_roles = set(owners)
    return Current(roles, databases, schemas, warehouses, monitors, grants, future, holders, database_roles,
                   owners, grant_option)


def _numbers(value: Any) -> tuple[int, ...]:
    return tuple(sorted(int(n) for n in re.findall(r"\d+", str(value or ""))))


def _triggers(monitor: ResourceMonitor) -> str:
    triggers = [f"ON {p} PERCENT DO NOTIFY" for p in monitor.notify_at]
    if monitor.suspend_at is not None:
        triggers.append(f"ON {monitor.suspend_at} PERCENT DO SUSPEND")
    return " TRIGGERS " + " ".join(triggers) if triggers else ""


def _grant_sql(grant: Grant, revoke: bool = False) -> str:
    privilege, kind, name, grantee = grant
    verb, direction = ("REVOKE", "FROM") if revoke else ("GRANT", "TO")
    if kind in ("ROLE", "DATABASE_ROLE"):
        return f"{verb} {kind.replace('_', ' ')} {name} {direction} ROLE {grantee}"
    if kind == "ACCOUNT":
        return f"{verb} {privilege} ON ACCOUNT {direction} ROLE {grantee}"
    return f"{verb} {privilege} ON {kind} {name} {direction} ROLE {grantee}"


def _future_sql(grant: Grant, revoke: bool = False) -> str:
    privilege, kind, schema, grantee = grant
    verb, direction = ("REVOKE", "FROM") if revoke else ("GRANT", "TO")
    return f"{verb} {privilege} ON FUTURE {FUTURE_OBJECTS[kind]} IN SCHEMA {schema} {direction} ROLE {grantee}"


def _grant_reason(grant: Grant) -> str:
    kind = grant[1]
    if kind == "ROLE":
        return "role hierarchy"
    if kind == "DATABASE_ROLE":
        return "reads the upstream product's shared models only (its reader database role)"
    if grant[0] in MOUNT_ACCOUNT_PRIVILEGES:
        return "mounts the upstream shares the domain reads (IMPORT SHARE / CREATE DATABASE on the account)"
    if kind == "ACCOUNT" or grant[0] == "CREATE DATABASE ROLE":
        return "publishes the domain's products (CREATE SHARE / CREATE DATABASE ROLE are ACCOUNTADMIN's by default)"
    return "access role privilege"


class _Builder:
    def __init__(self) -> None:
        self.statements: list[tuple[int, Statement]] = []

    def add(self, phase: str, sql: str, kind: str, name: str, reason: str, *, role_kind: str | None = None,
            destructive: bool = False) -> None:
        statement = Statement(sql, phase.split()[0], kind, name, reason, ROLE_FOR[role_kind or kind], destructive)
        self.statements.append((PHASES.index(phase), statement))

    def ordered(self) -> list[Statement]:
        return [statement for _, statement in sorted(self.statements, key=lambda item: item[0])]


def _warehouse_changes(wanted: Warehouse, row: dict[str, Any]) -> list[str]:
    changes = []
    if str(row.get("size", "")).upper().replace("-", "").replace(" ", "") != wanted.size:
        changes.append(f"WAREHOUSE_SIZE = {wanted.size}")
    if _numbers(row.get("auto_suspend")) != (wanted.auto_suspend,):
        changes.append(f"AUTO_SUSPEND = {wanted.auto_suspend}")
    if str(row.get("auto_resume", "")).lower() != str(wanted.auto_resume).lower():
        changes.append(f"AUTO_RESUME = {str(wanted.auto_resume).upper()}")
    if wanted.resource_monitor and str(row.get("resource_monitor") or "").upper() != wanted.resource_monitor:
        changes.append(f"RESOURCE_MONITOR = {wanted.resource_monitor}")
    return changes


def _monitor_changes(wanted: ResourceMonitor, row: dict[str, Any]) -> list[str]:
    changes = []
    if _numbers(str(row.get("credit_quota", "")).split(".")[0]) != (wanted.credit_quota,):
        changes.append(f"CREDIT_QUOTA = {wanted.credit_quota}")
    if str(row.get("frequency", "")).upper() != wanted.frequency:
        changes.append(f"FREQUENCY = {wanted.frequency} START_TIMESTAMP = IMMEDIATELY")
    suspend = (wanted.suspend_at,) if wanted.suspend_at is not None else ()
    if _numbers(row.get("notify_at")) != wanted.notify_at or _numbers(row.get("suspend_at")) != suspend:
        changes.append(_triggers(wanted).strip())
    return changes


def plan_snowflake(footprint: MeshFootprint, reader: StateReader, *, prune: bool = False,
                   offline: bool = False) -> Plan:
    """The ordered statements that make the account match the footprint."""
    declared = flatten(footprint)
    current = read_current(reader, footprint, declared)
    plan = Plan(f"provision {footprint.mesh}: {len(footprint.domains)} domain(s) on Snowflake", offline=offline)
    out = _Builder()
    _plan_roles(footprint, declared, current, out, plan)
    _plan_containers(footprint, declared, current, out)
    _plan_monitors(declared, current, out)
    _plan_warehouses(footprint, declared, current, out)
    _plan_grants(footprint, declared, current, out)
    _plan_ownership(footprint, declared, current, out)
    _drift(footprint, declared, current, out, plan, prune)
    plan.extend(out.ordered())
    return plan


def _comment(footprint: MeshFootprint) -> str:
    return f"COMMENT = {snowflake_string(footprint.marker)}"


def _plan_roles(footprint: MeshFootprint, declared: Declared, current: Current, out: _Builder, plan: Plan) -> None:
    """Missing roles, and the admin role rolled up to where it is declared."""
    for role in declared.roles:
        if role not in current.roles:
            out.add("create role", f"CREATE ROLE {role} {_comment(footprint)}", "role", role, "declared role missing")
        elif not _managed(current.roles[role], footprint.marker):
            plan.notes.append(f"role {role} exists and was not created by the mesh: its grants are reconciled, "
                              "it is never dropped")
    if footprint.admin_granted_to and footprint.admin_granted_to not in current.admin_holders:
        out.add("grant role", f"GRANT ROLE {footprint.admin_role} TO ROLE {footprint.admin_granted_to}", "role",
                footprint.admin_role, f"the mesh admin role rolls up to {footprint.admin_granted_to}",
                role_kind="grant")


def _plan_containers(footprint: MeshFootprint, declared: Declared, current: Current, out: _Builder) -> None:
    """Missing databases, schemas and the reader database roles of upstream products."""
    for db in declared.databases:
        if db not in current.databases:
            out.add("create database", f"CREATE DATABASE {db} {_comment(footprint)}", "database", db,
                    "domain database missing")
    for db, schema in declared.schemas:
        if (db, schema) not in current.schemas:
            out.add("create schema", f"CREATE SCHEMA {db}.{schema} {_comment(footprint)}", "schema",
                    f"{db}.{schema}", "declared schema missing")
    for reader_db_role in declared.database_roles:
        if reader_db_role not in current.database_roles:
            out.add("create database role", f"CREATE DATABASE ROLE IF NOT EXISTS {reader_db_role}", "database role",
                    reader_db_role, "reader role of an upstream product (its SELECT grants come from mesh publish)")


def _plan_monitors(declared: Declared, current: Current, out: _Builder) -> None:
    for monitor in declared.monitors:
        if monitor.name not in current.monitors:
            out.add("create resource monitor",
                    f"CREATE RESOURCE MONITOR {monitor.name} WITH CREDIT_QUOTA = {monitor.credit_quota} "
                    f"FREQUENCY = {monitor.frequency} START_TIMESTAMP = IMMEDIATELY{_triggers(monitor)}",
                    "resource monitor", monitor.name, "resource monitor missing")
        elif changes := _monitor_changes(monitor, current.monitors[monitor.name]):
            out.add("alter resource monitor", f"ALTER RESOURCE MONITOR {monitor.name} SET {' '.join(changes)}",
                    "resource monitor", monitor.name, "resource monitor differs from its declaration")


def _plan_warehouses(footprint: MeshFootprint, declared: Declared, current: Current, out: _Builder) -> None:
    for warehouse in declared.warehouses:
        if warehouse.name not in current.warehouses:
            out.add("create warehouse",
                    f"CREATE WAREHOUSE {warehouse.name} WITH WAREHOUSE_SIZE = {warehouse.size} "
                    f"AUTO_SUSPEND = {warehouse.auto_suspend} AUTO_RESUME = {str(warehouse.auto_resume).upper()} "
                    f"INITIALLY_SUSPENDED = TRUE RESOURCE_MONITOR = {warehouse.resource_monitor} "
                    f"{_comment(footprint)}", "warehouse", warehouse.name, "domain warehouse missing",
                    role_kind="resource monitor")
        elif changes := _warehouse_changes(warehouse, current.warehouses[warehouse.name]):
            out.add("alter warehouse", f"ALTER WAREHOUSE {warehouse.name} SET {' '.join(changes)}", "warehouse",
                    warehouse.name, "warehouse differs from its declaration",
                    role_kind="resource monitor" if any("RESOURCE_MONITOR" in c for c in changes) else None)


def _plan_grants(footprint: MeshFootprint, declared: Declared, current: Current, out: _Builder) -> None:
    """Missing role grants, privileges and future grants."""
    inherited = set(footprint.library_grants)
    for grant in declared.grants:
        passes_on = grant in declared.grant_option
        if grant not in current.grants or (passes_on and grant not in current.grant_option):
            why = (f"governance library: {grant[3]} inherits {grant[2]}" if (grant[2], grant[3]) in inherited
                   else "publishes the domain's products: granting a database or schema to a share or a reader "
                        "database role needs its OWNERSHIP or USAGE WITH GRANT OPTION" if passes_on
                   else _grant_reason(grant))
            out.add("grant role" if grant[1] in ("ROLE", "DATABASE_ROLE") else "grant",
                    _grant_sql(grant) + (" WITH GRANT OPTION" if passes_on else ""), "grant",
                    f"{grant[2] or grant[1]} → {grant[3]}", why,
                    role_kind="account grant" if grant[1] == "ACCOUNT" else None)
    for grant in declared.future_grants:
        if grant not in current.future_grants:
            out.add("future grant", _future_sql(grant), "future grant", f"{grant[2]} → {grant[3]}",
                    "covers objects created later")


def _plan_ownership(footprint: MeshFootprint, declared: Declared, current: Current, out: _Builder) -> None:
    """The roles holding an entitlement pass to the admin role's ownership: it manages them without holding
    them (`mesh_cli.core.footprint`). A product's reader database role passes to the role that publishes its
    database, which grants it SELECT, grants it to consumer roles and revokes it: GRANT DATABASE ROLE needs
    OWNERSHIP of it (https://docs.snowflake.com/en/sql-reference/sql/grant-database-role). GRANT OWNERSHIP to a
    role not in session needs MANAGE GRANTS
    (https://docs.snowflake.com/en/release-notes/bcr-bundles/2026_07/bcr-2395): SECURITYADMIN's."""
    for reader in declared.database_roles:
        publisher = declared.publishers.get(reader.split(".")[0])
        if publisher and current.database_role_owners.get(reader) != publisher:
            out.add("grant ownership", f"GRANT OWNERSHIP ON DATABASE ROLE {reader} TO ROLE {publisher} COPY CURRENT "
                    "GRANTS", "ownership", reader, f"{publisher} publishes the product: it grants and revokes its "
                    "reader role, which needs OWNERSHIP of it")
    admin = footprint.admin_role
    for role in declared.admin_owned:
        if str((current.roles.get(role) or {}).get("owner") or "").upper() != admin:
            out.add("grant ownership", f"GRANT OWNERSHIP ON ROLE {role} TO ROLE {admin} COPY CURRENT GRANTS",
                    "ownership", role, f"holds an entitlement: {admin} manages it without inheriting it (it rolls "
                    f"up to {footprint.admin_granted_to or 'no system role'})")


Drift = Callable[..., None]     # (phase, sql, kind, name, what, role_kind=None): a note, or with prune a statement


def _drift(footprint: MeshFootprint, declared: Declared, current: Current, out: _Builder, plan: Plan,
           prune: bool) -> None:
    """What the mesh manages and no longer declares: a note, or (with prune) a revoke or drop."""
    def handle(phase: str, sql: str, kind: str, name: str, what: str, role_kind: str | None = None) -> None:
        if prune:
            out.add(phase, sql, kind, name, f"pruned: {what}", role_kind=role_kind, destructive=True)
        else:
            plan.notes.append(f"drift: {what} (`--prune` removes it)")

    roll_ups = _entitlement_roll_ups(footprint, declared, current)
    _revoke_entitlement_roll_ups(footprint, roll_ups, out)
    _drifted_grants(footprint, declared, current, set(roll_ups), handle)
    if not footprint.complete:
        plan.notes.append("objects of domains outside the selection are not compared (drift is checked on the "
                          "whole mesh)")
        return
    _drifted_objects(footprint, declared, current, handle)


def _entitlement_roll_ups(footprint: MeshFootprint, declared: Declared, current: Current) -> list[Grant]:
    """Grants of an entitlement-holding role to the admin role (made by an earlier version of the mesh)."""
    owned = set(declared.admin_owned)
    return [grant for grant in sorted(current.grants - set(declared.grants))
            if grant[1] == "ROLE" and grant[3] == footprint.admin_role and grant[2] in owned]


def _revoke_entitlement_roll_ups(footprint: MeshFootprint, roll_ups: list[Grant], out: _Builder) -> None:
    """Revoked whether or not `prune` is given (destructive, so applied with --allow-destroy): every holder of
    the admin role passes the policies while they stay."""
    for grant in roll_ups:
        out.add("revoke", _grant_sql(grant, revoke=True), "grant", f"{grant[2]} → {grant[3]}",
                f"{grant[2]} holds an entitlement: rolled up to {footprint.admin_role}, every "
                f"{footprint.admin_granted_to or footprint.admin_role} user would pass the policies", destructive=True)


def _drifted_grants(footprint: MeshFootprint, declared: Declared, current: Current, roll_ups: set[Grant],
                    handle: Drift) -> None:
    for grant in sorted(current.grants - set(declared.grants) - roll_ups):
        if not footprint.complete and grant[3] == footprint.admin_role:
            continue            # the admin role also holds the roles of domains outside the selection
        handle("revoke", _grant_sql(grant, revoke=True), "grant", f"{grant[2] or grant[1]} → {grant[3]}",
               f"{grant[0]} on {grant[1].lower()} {grant[2]}".rstrip() + f" granted to {grant[3]} is not declared",
               role_kind="account grant" if grant[1] == "ACCOUNT" else None)
    for grant in sorted(current.future_grants - set(declared.future_grants)):
        handle("revoke", _future_sql(grant, revoke=True), "future grant", f"{grant[2]} → {grant[3]}",
               f"future {grant[0]} on {grant[1].lower()}s in {grant[2]} to {grant[3]} is not declared")


def _drifted_objects(footprint: MeshFootprint, declared: Declared, current: Current, handle: Drift) -> None:
    """Objects the mesh created (its marker in their comment) that are no longer declared."""
    marker = footprint.marker
    wanted_warehouses = {w.name for w in declared.warehouses}
    for name, row in sorted(current.warehouses.items()):
        if name not in wanted_warehouses and _managed(row, marker):
            handle("drop warehouse", f"DROP WAREHOUSE {name}", "warehouse", name, f"warehouse {name} is not declared")
            monitor = str(row.get("resource_monitor") or "").upper()
            if monitor in current.monitors and monitor not in {m.name for m in declared.monitors}:
                handle("drop resource monitor", f"DROP RESOURCE MONITOR {monitor}", "resource monitor", monitor,
                       f"resource monitor {monitor} of warehouse {name} is not declared")
    for (db, schema), row in sorted(current.schemas.items()):
        if (db, schema) not in declared.schemas and _managed(row, marker):
            handle("drop schema", f"DROP SCHEMA {db}.{schema}", "schema", f"{db}.{schema}",
                   f"schema {db}.{schema} is not declared")
    for name, row in sorted(current.databases.items()):
        if name not in declared.databases and _managed(row, marker):
            handle("drop database", f"DROP DATABASE {name}", "database", name, f"database {name} is not declared")
    for name, row in sorted(current.roles.items()):
        if name not in declared.roles and _managed(row, marker):
            handle("drop role", f"DROP ROLE {name}", "role", name, f"role {name} is not declared")


class SnowflakeProvisioner:
    """Provisioning on a Snowflake account: one plan for the account (`core.footprint.Provisioner`). Offline
    (`--plan` without credentials) it plans against an empty account."""

    internal_sql = False

    def __init__(self, engine: SnowflakeEngine, *, plan_only: bool) -> None:
        self.engine = engine
        self.offline = plan_only and engine.offline

    def plan(self, footprint: MeshFootprint, *, prune: bool) -> list[Plan]:
        reader = RecordedState() if self.offline else self.engine.state_reader()
        return [plan_snowflake(footprint, reader, prune=prune, offline=self.offline)]

    def apply(self, plans: list[Plan]) -> list[ApplyResult]:
        return [apply(plan, self.engine.execute) for plan in plans]
