"""The declared footprint of the mesh's domains in a warehouse, engine-neutral: what `mesh provision` reconciles.

`mesh_cli.provision.spec` reads it from mesh.yml and domain.yml; an engine turns it into statements (its
`provisioner`, planned and applied through the contract of `core.plan`).

Entitlement roles, the roles the governance library's policies decide with (PII_READER, ALL_REGIONS, ...), and
every role that inherits one are never granted to the admin role: it rolls up to SYSADMIN, and
`IS_ROLE_IN_SESSION` is true for every role that inherits the tested role
(https://docs.snowflake.com/en/sql-reference/functions/is_role_in_session), so every SYSADMIN user would pass the
policies. The admin role owns them instead: the owner of a role may grant it
(https://docs.snowflake.com/en/sql-reference/sql/grant-role, access control requirements) without inheriting its
privileges, which pass only from a role granted to a role
(https://docs.snowflake.com/en/user-guide/security-access-control-overview, role hierarchy and privilege
inheritance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from mesh_cli.core.governance_library import held_roles
from mesh_cli.core.plan import ApplyResult, Plan


@dataclass(frozen=True)
class Warehouse:
    name: str
    size: str
    auto_suspend: int
    auto_resume: bool
    resource_monitor: str | None


@dataclass(frozen=True)
class ResourceMonitor:
    name: str
    credit_quota: int
    frequency: str
    notify_at: tuple[int, ...]
    suspend_at: int | None


@dataclass(frozen=True)
class FunctionalRole:
    name: str
    function: str
    access_role: str
    reader_roles: tuple[str, ...]       # DB.ROLE: reader database roles of the upstream products it consumes
    warehouse: str | None
    roles: tuple[str, ...]              # further roles granted to it (e.g. governance roles)
    publishes: bool = False             # publishes the domain's shares: CREATE SHARE, CREATE DATABASE ROLE


@dataclass(frozen=True)
class DomainFootprint:
    """What one domain owns in the warehouse."""

    domain: str
    database: str
    schemas: tuple[str, ...]
    warehouse: Warehouse
    resource_monitor: ResourceMonitor
    access_roles: dict[str, str]        # level → role name
    functional_roles: tuple[FunctionalRole, ...]
    mounting_role: str | None = None    # account per domain, a consumer: the role that mounts upstream shares


@dataclass(frozen=True)
class MeshFootprint:
    """The whole declaration: every selected domain, the admin role and the mesh-wide roles."""

    mesh: str
    admin_role: str
    admin_granted_to: str | None
    roles: tuple[str, ...]              # mesh-wide roles (e.g. PII_READER)
    domains: tuple[DomainFootprint, ...]
    complete: bool = True               # every domain of the mesh is declared (drift of objects is checked)
    library_grants: tuple[tuple[str, str], ...] = ()   # (role, granted_to) of the governance library's `inherits`
    entitlement_roles: frozenset[str] = field(default_factory=frozenset)  # roles the library's policies decide with

    @property
    def marker(self) -> str:
        """The comment on every object the tool creates: what it may prune."""
        return f"managed by dbt-data-mesh (mesh {self.mesh})"

    def all_roles(self) -> list[str]:
        names = [self.admin_role, *self.roles]
        for domain in self.domains:
            names += [*domain.access_roles.values(), *(role.name for role in domain.functional_roles)]
            names += [domain.mounting_role] if domain.mounting_role else []
        return list(dict.fromkeys(names))

    def _hierarchy(self) -> list[tuple[str, str]]:
        """Every role-to-role grant but those to the admin role, as (role, granted_to)."""
        grants = []
        for domain in self.domains:
            levels = domain.access_roles
            grants += [(levels["READ"], levels["WRITE"]), (levels["WRITE"], levels["OWNER"])]
            for role in domain.functional_roles:
                grants.append((role.access_role, role.name))
                grants += [(extra, role.name) for extra in role.roles]
        return grants + list(self.library_grants)

    def _managed_by_admin(self) -> list[str]:
        """The roles the admin role manages: the mesh-wide roles, the functional and the mounting roles."""
        names = list(self.roles)
        for domain in self.domains:
            names += [role.name for role in domain.functional_roles]
            names += [domain.mounting_role] if domain.mounting_role else []
        return list(dict.fromkeys(names))

    def admin_owned(self) -> list[str]:
        """The managed roles that are or inherit (through the declared hierarchy) an entitlement role: owned by the
        admin role, never granted to it."""
        hierarchy = self._hierarchy()
        return [role for role in self._managed_by_admin()
                if set(held_roles(role, hierarchy)) & self.entitlement_roles]

    def role_grants(self) -> list[tuple[str, str]]:
        """Every account-role-to-role grant, as (role, granted_to) (database roles: `reader_grants`): the
        hierarchy, and each managed role holding no entitlement rolled up to the admin role."""
        owned = set(self.admin_owned())
        rolled_up = [(role, self.admin_role) for role in self._managed_by_admin() if role not in owned]
        return list(dict.fromkeys(rolled_up + self._hierarchy()))

    def reader_grants(self) -> list[tuple[str, str]]:
        """Every upstream product's reader database role granted to a consumer role, as (DB.ROLE, granted_to)."""
        return list(dict.fromkeys((reader, role.name) for domain in self.domains
                                  for role in domain.functional_roles for reader in role.reader_roles))


class Provisioner(Protocol):
    """How an engine reconciles a footprint, under the one plan/apply contract (`core.plan`): `plan` reads the
    current state of each unit the engine provisions (an account, a database file) and returns one plan per unit;
    `apply` runs plans `plan` returned, one `ApplyResult` each. `internal_sql`: the statements are the engine's
    own bookkeeping (said in words to the user, never shown), not statements to review and run under a role."""

    internal_sql: bool

    def plan(self, footprint: MeshFootprint, *, prune: bool) -> list[Plan]: ...

    def apply(self, plans: list[Plan]) -> list[ApplyResult]: ...
