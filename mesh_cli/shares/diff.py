"""Shares as plan/apply: read the current state with SHOW, diff it with the desired state, emit the smallest set
of statements in a safe order. Pure functions over SHOW rows, so they are tested with recorded output.

Order: first everything that narrows what consumers see (remove accounts and consumer roles, revoke SELECT, then
database roles, schema and database usage, drop shares of products that are gone), then build (create database
roles and shares, grant), and only then widen (add accounts, grant reader roles to consumers, listings). A new
share therefore gets its consumers once it holds exactly the product, and a removed model is revoked before
anything else changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from mesh_cli.core.plan import Plan, Statement, StateReader
from mesh_cli.core.share_statements import ShareStatements
from mesh_cli.shares.spec import DATABASE_ROLE, SHARE, Desired, DomainShares, Grant, Grantee

GRANT_ORDER = {("USAGE", "DATABASE"): 0, ("REFERENCE_USAGE", "DATABASE"): 1, ("USAGE", "SCHEMA"): 2,
               ("SELECT", "TABLE"): 3, ("SELECT", "VIEW"): 3, ("USAGE", "DATABASE_ROLE"): 4}
MANAGED_MARK = "Data product {domain}."
# CREATE SHARE, CREATE DATABASE ROLE and CREATE LISTING are ACCOUNTADMIN's until granted
# (https://docs.snowflake.com/en/sql-reference/sql/create-share,
# https://docs.snowflake.com/en/collaboration/provider-listings-privileges)
PRIVILEGES_NOTE = ("publishing needs CREATE SHARE ON ACCOUNT and CREATE DATABASE ROLE ON the domain's database "
                   "(ACCOUNTADMIN's by default, https://docs.snowflake.com/en/sql-reference/sql/create-share): "
                   "`mesh provision` grants both to the domain's DEPLOYER (`publishes: true`); a listing also needs "
                   "CREATE LISTING ON ACCOUNT; otherwise run `mesh publish` with SNOWFLAKE_ROLE=ACCOUNTADMIN")


@dataclass
class Current:
    """What exists, as read from SHOW output."""

    shares: dict[str, str] = field(default_factory=dict)              # share -> comment
    database_roles: set[str] = field(default_factory=set)              # unqualified names in the database
    grants: dict[Grantee, set[Grant]] = field(default_factory=dict)
    consumers: dict[Grantee, set[str]] = field(default_factory=dict)
    databases: set[str] = field(default_factory=set)                   # mounted (imported) databases
    mount_holders: dict[str, set[str]] = field(default_factory=dict)   # "<mount>.<database role>" -> account roles
    listings: set[str] = field(default_factory=set)


def _name(value: Any) -> str:
    """An identifier from SHOW output: quotes removed, upper-case."""
    return str(value or "").replace('"', "").upper()


def grant_rows(rows: list[dict[str, Any]]) -> set[Grant]:
    """`SHOW GRANTS TO SHARE|DATABASE ROLE` rows as grants (ownership is not a grant the mesh manages)."""
    return {Grant(str(r["privilege"]).upper(), str(r["granted_on"]).upper().replace(" ", "_"), _name(r["name"]))
            for r in rows if str(r.get("privilege", "")).upper() != "OWNERSHIP"}


def share_consumers(to: Any) -> set[str]:
    """The `to` column of `SHOW SHARES`: the accounts an outbound share is shared with, comma-separated (what
    `SHOW GRANTS OF SHARE` lists one share at a time)."""
    return {_name(account.strip()) for account in str(to or "").split(",") if account.strip()}


def role_consumer_rows(rows: list[dict[str, Any]]) -> set[str]:
    """`SHOW GRANTS OF DATABASE ROLE` rows: the account roles holding it."""
    return {_name(r["grantee_name"]) for r in rows if str(r.get("granted_to", "")).upper() == "ROLE"}


def read_current(reader: StateReader, shares: DomainShares) -> Current:
    """One SHOW per kind (a share's consumer accounts come with `SHOW SHARES`), then the grants of each share or
    role that exists, which Snowflake shows per grantee."""
    current = Current()
    accounts: dict[str, set[str]] = {}
    for row in reader.show("SHARES"):
        if str(row.get("kind", "")).upper() == "OUTBOUND":
            name = _name(row["name"]).split(".")[-1]
            current.shares[name] = str(row.get("comment") or "")
            accounts[name] = share_consumers(row.get("to"))
    if shares.database_roles or shares.retired_roles or any(d.grantee.kind == DATABASE_ROLE for d in shares.desired):
        rows = reader.show("DATABASE ROLES", f"IN DATABASE {shares.database}")
        current.database_roles = {_name(r["name"]) for r in rows}
    for grantee in _grantees(shares, current):
        exists = (grantee.name in current.shares if grantee.kind == SHARE
                  else grantee.name.split(".")[-1] in current.database_roles)
        if not exists:
            continue
        current.grants[grantee] = grant_rows(reader.show("GRANTS", f"TO {grantee}"))
        current.consumers[grantee] = accounts[grantee.name] if grantee.kind == SHARE else \
            role_consumer_rows(reader.show("GRANTS", f"OF {grantee}"))
    if shares.mounts:
        current.databases = {_name(r["name"]) for r in reader.show("DATABASES")
                             if str(r.get("kind", "")).upper() == "IMPORTED DATABASE"}
        for mount in shares.mounts:   # who holds each managed database role of a mounted share, per role
            if mount.database in current.databases:
                for role in mount.offered:
                    qualified = f"{mount.database}.{role}"
                    current.mount_holders[qualified] = role_consumer_rows(
                        reader.show("GRANTS", f"OF DATABASE ROLE {qualified}"))
    if shares.listings or shares.listed_before:
        current.listings = {_name(r["name"]) for r in reader.show("LISTINGS")}
    return current


def _managed(shares: DomainShares, comment: str) -> bool:
    return MANAGED_MARK.format(domain=shares.domain) in comment


def _grantees(shares: DomainShares, current: Current) -> list[Grantee]:
    declared = [d.grantee for d in shares.desired]
    gone = [Grantee(SHARE, name) for name, comment in sorted(current.shares.items())
            if _managed(shares, comment) and Grantee(SHARE, name) not in declared]
    return declared + gone


def _grant_sql(sql: ShareStatements, grant: Grant, grantee: Grantee, *, revoke: bool = False) -> str:
    return sql.grant(grant.privilege, grant.on, grant.name, grantee.kind, grantee.name, revoke=revoke)


def _order(grant: Grant) -> tuple[int, str]:
    return GRANT_ORDER.get((grant.privilege, grant.on), 5), grant.name


def _consumer_statements(sql: ShareStatements, desired: Desired, have: set[str], add: bool) -> list[Statement]:
    grantee = desired.grantee
    gone = have - desired.consumers
    if grantee.kind == DATABASE_ROLE:
        gone &= desired.managed            # provisioning's grants to other roles are its own to revoke
    changes = sorted(desired.consumers - have) if add else sorted(gone)
    if not changes:
        return []
    if grantee.kind == SHARE:
        return [Statement(sql.share_accounts(grantee.name, changes, add=add), "alter", "share",
                          grantee.name, f"{desired.product}: {'add' if add else 'remove'} consumer accounts",
                          destructive=not add)]
    return [Statement(sql.grant("USAGE", "DATABASE_ROLE", grantee.name, "ROLE", role, revoke=not add),
                      "grant" if add else "revoke", "database role",
                      grantee.name, f"{desired.product}: {'consumer domain reads' if add else 'no longer a consumer'}",
                      destructive=not add) for role in changes]


def plan_shares(shares: DomainShares, current: Current, title: str, offline: bool = False, *,
                sql: ShareStatements) -> Plan:
    """The statements, in the engine's language (`sql`), that make the account hold exactly `shares`; none when it
    already does."""
    plan = Plan(title, offline=offline, notes=list(shares.notes))
    narrow: list[Statement] = []
    revokes: list[Statement] = []
    build: list[Statement] = []
    widen: list[Statement] = []
    for desired in shares.desired:
        grantee = desired.grantee
        have = current.grants.get(grantee, set())
        narrow += _consumer_statements(sql, desired, current.consumers.get(grantee, set()), add=False)
        revokes += [Statement(_grant_sql(sql, g, grantee, revoke=True), "revoke", grantee.kind.lower(), grantee.name,
                             f"{desired.product}: {g.name} is no longer in the product", destructive=True)
                   for g in sorted(have - desired.grants, key=_order, reverse=True)]
        if grantee.kind == SHARE and grantee.name not in current.shares:
            build.append(Statement(sql.create_share(grantee.name, desired.comment),
                                   "create", "share", grantee.name, f"share of data product {desired.product}"))
        elif grantee.kind == SHARE and current.shares[grantee.name] != desired.comment:
            build.append(Statement(sql.comment_share(grantee.name, desired.comment),
                                   "alter", "share", grantee.name, "the product's description changed"))
        build += [Statement(_grant_sql(sql, g, grantee), "grant", grantee.kind.lower(), grantee.name,
                            f"{desired.product}", role=None) for g in sorted(desired.grants - have, key=_order)]
        widen += _consumer_statements(sql, desired, current.consumers.get(grantee, set()), add=True)
    declared = {d.grantee for d in shares.desired}
    revokes += [Statement(sql.drop_share(g.name), "drop", "share", g.name,
                         f"{shares.domain} no longer declares this product", destructive=True)
               for g in _grantees(shares, current) if g not in declared]
    revokes += [Statement(sql.drop_database_role(role), "drop", "database role", role,
                          "no product uses it any more (a withdrawn entitlement, a product without consumer "
                          "domains): the role and every grant of it go",
                          destructive=True)
                for role in shares.retired_roles if role.split(".")[-1] in current.database_roles]
    creates = [Statement(sql.create_database_role(f"{shares.database}.{role}"), "create", "database role",
                         f"{shares.database}.{role}", "entitlement or reader role of a product")
               for role in shares.database_roles if role not in current.database_roles]
    listings = [Statement(sql.create_listing(name, name, manifest), "create", "listing", name,
                          "organization listing of the product")
                for name, manifest in sorted(shares.listings.items()) if name not in current.listings]
    mounts = _mount_statements(shares, current, sql)
    narrow = _withdrawn_listings(shares, current, sql) + narrow
    statements = [_with_role(statement, shares.database)
                  for statement in narrow + revokes + creates + build + widen + listings + mounts]
    if any(statement.role for statement in statements):
        plan.notes.append(PRIVILEGES_NOTE)
    plan.extend(statements)
    return plan


def _listing_accounts(manifest: str | None) -> set[str] | None:
    """The accounts an organization listing's manifest gives access to (`all` for every account); None when it
    is not known."""
    if manifest is None:
        return None
    targets = (yaml.safe_load(manifest) or {}).get("organization_targets") or {}
    return {str(entry["account"]) if isinstance(entry, dict) and "account" in entry else "every internal account"
            for entry in targets.get("access") or []}


def _withdrawn_listings(shares: DomainShares, current: Current, sql: ShareStatements) -> list[Statement]:
    """First in the plan, with what narrows access: an existing listing of one of the domain's shares whose
    manifest changed gets the new one (`ALTER LISTING ... AS`, https://docs.snowflake.com/en/sql-reference/sql/
    alter-listing), destructive when it withdraws an account (or the last publish record does not say what it
    granted); a listing whose product no longer has one (no consumer account of the organisation left, `listing:`
    removed, the product gone) is unpublished and dropped (an unpublished listing still serves its consumers;
    only a DRAFT or UNPUBLISHED one can be dropped, which revokes every consumer's access,
    https://docs.snowflake.com/en/sql-reference/sql/drop-listing)."""
    statements: list[Statement] = []
    for name in sorted(current.listings & set(shares.listed_before)):
        desired = shares.listings.get(name)
        before = shares.listed_before[name]
        if desired is None:
            reason = f"{shares.domain}: the listing of {name} reaches no account any more"
            statements += [Statement(sql.unpublish_listing(name), "alter", "listing", name, reason, destructive=True),
                           Statement(sql.drop_listing(name), "drop", "listing", name, reason, destructive=True)]
        elif desired != before:
            was, now = _listing_accounts(before), _listing_accounts(desired)
            withdrawn = sorted(was - now) if was is not None and now is not None else None
            reason = ("the last publish record does not say whom the listing reached" if withdrawn is None else
                      f"access withdrawn from {', '.join(withdrawn)}" if withdrawn else "the listing changed")
            statements.append(Statement(sql.alter_listing(name, desired), "alter", "listing", name, reason,
                                        destructive=withdrawn is None or bool(withdrawn)))
    return statements


def _mount_statements(shares: DomainShares, current: Current, sql: ShareStatements) -> list[Statement]:
    """Consumer side (account per domain), last in the plan and run as the domain's mounting role (`USE ROLE`):
    the role that creates a database from a share is granted every database role of the share
    (https://docs.snowflake.com/en/user-guide/data-sharing-policy-protected-data), and the creator is the session's
    primary role (https://docs.snowflake.com/en/sql-reference/sql/use-role), so a mount run as the deployer,
    SYSADMIN or ACCOUNTADMIN would leave that role holding them all. Revoke what the reading role is no longer
    entitled to (destructive), mount each upstream share, grant the reading role the database roles it is
    entitled to, and have the mounting role give up every database role of the share."""
    build: list[Statement] = []
    withdrawn: list[Statement] = []
    for m in shares.mounts:
        mounted = m.database in current.databases

        def holders(role: str, database: str = m.database) -> set[str]:
            return current.mount_holders.get(f"{database}.{role}", set())

        # creating a database from a share needs IMPORT SHARE and CREATE DATABASE
        # (https://docs.snowflake.com/en/user-guide/data-share-consumers); the mounting role owns the database
        needs = f"{m.mounter} (IMPORT SHARE and CREATE DATABASE on the account; owns the mounted database)"
        if not mounted:
            build.append(Statement(sql.mount(m.database, m.share), "create", "database",
                                   m.database, f"{shares.domain} reads the share {m.share}", role=needs))
        build += [Statement(sql.grant("USAGE", "DATABASE_ROLE", f"{m.database}.{role}", "ROLE", holder), "grant",
                            "database role",
                            f"{m.database}.{role}", f"{holder} reads the product (SELECT)" if role == m.product_reader
                            else f"governance library: {holder} inherits {role}", role=needs)
                  for role, holder in m.grants if not mounted or holder not in holders(role)]
        build += [Statement(sql.grant("USAGE", "DATABASE_ROLE", f"{m.database}.{role}", "ROLE", m.mounter,
                                      revoke=True), "revoke",
                            "database role", f"{m.database}.{role}", f"the mounting role {m.mounter} keeps none of "
                            "the share's database roles", role=needs, relinquishes=True)
                  for role in m.offered if not mounted or m.mounter in holders(role)]
        withdrawn += [Statement(sql.grant("USAGE", "DATABASE_ROLE", f"{m.database}.{role}", "ROLE", m.reader,
                                          revoke=True), "revoke",
                                "database role", f"{m.database}.{role}",
                                f"governance library: {m.reader} no longer inherits {role}", destructive=True)
                      for role in m.offered if mounted and (role, m.reader) not in m.grants
                      and m.reader in holders(role)]
    if not build and not withdrawn:
        return []
    mounter = shares.mounts[0].mounter
    return [Statement(sql.use_role(mounter), "use", "role", mounter, f"the mount statements run as {mounter}: the "
                      "role that creates a database from a share is granted every database role of it"),
            *withdrawn, *build]


def _with_role(statement: Statement, database: str) -> Statement:
    """The statement with the privilege it needs beyond owning the shared objects, when it needs one."""
    if statement.object_kind == "share":
        return replace(statement, role="ACCOUNTADMIN or a role granted CREATE SHARE ON ACCOUNT")
    if statement.object_kind == "database role" and statement.action == "create":
        return replace(statement, role=f"ACCOUNTADMIN or a role granted CREATE DATABASE ROLE ON DATABASE {database}")
    if statement.object_kind == "listing":
        return replace(statement, role="ACCOUNTADMIN or a role granted CREATE LISTING ON ACCOUNT")
    return statement
