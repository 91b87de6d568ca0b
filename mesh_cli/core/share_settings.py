"""Sharing settings from the `snowflake:` section of mesh.yml: the topology and each domain's account.

    snowflake:
      topology: one_account            # or account_per_domain
      organization: RETAIL             # one_account: the account's organisation (listings reach only it)
      accounts:                        # account_per_domain: each domain's account, ORG.ACCOUNT
        customers: RETAIL.CUSTOMERS
      roles:                           # one_account: the role a consumer domain reads with (default <DOMAIN>_DEPLOYER)
        orders: ORDERS_DEPLOYER
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mesh_cli.core.config import MESH_FILE, MeshConfig
from mesh_cli.core.errors import MeshError
from mesh_cli.core.identifiers import identifier
from mesh_cli.core.strict import check_keys

ONE_ACCOUNT, ACCOUNT_PER_DOMAIN = "one_account", "account_per_domain"
ACCOUNT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ShareSettings:
    """How the mesh's domains sit in Snowflake accounts."""

    topology: str = ONE_ACCOUNT
    accounts: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    organization: str | None = None

    def organization_of(self, domain: str) -> str | None:
        """The organisation of the account a domain publishes from: its own account's (account per domain), else
        the mesh's `organization`."""
        account = self.accounts.get(domain) if self.topology == ACCOUNT_PER_DOMAIN else None
        return account.split(".", 1)[0] if account else self.organization

    def role_of(self, domain: str) -> str:
        """The account role a consumer domain reads with in one account."""
        return self.roles.get(domain, f"{domain.upper()}_DEPLOYER")

    def mounter_of(self, domain: str) -> str:
        """The account role that mounts the shares a consumer domain reads (account per domain): it holds IMPORT
        SHARE and CREATE DATABASE (`mesh provision`), and none of the shares' database roles once it granted them."""
        return identifier(f"{domain}_MOUNTER".upper(), what="mounting role name")

    def account_of(self, domain: str) -> str | None:
        return self.accounts.get(domain)


def account_name(value: str, *, where: str) -> str:
    """An `ORG.ACCOUNT` identifier, upper-cased."""
    if not isinstance(value, str) or not ACCOUNT.match(value):
        raise MeshError(f"{where}: account {value!r} must be ORG.ACCOUNT (letters, digits and _), "
                        "e.g. RETAIL.FINANCE")
    return value.upper()


def share_settings(config: MeshConfig) -> ShareSettings:
    """The `snowflake:` section of mesh.yml, validated."""
    path = config.root / MESH_FILE
    section = config.section("snowflake")
    check_keys(section, ("topology", "organization", "accounts", "roles"), path=path, where="snowflake")
    organization = section.get("organization")
    if organization is not None:
        organization = identifier(str(organization), what=f"{path}: snowflake.organization").upper()
    topology = section.get("topology", ONE_ACCOUNT)
    if topology not in (ONE_ACCOUNT, ACCOUNT_PER_DOMAIN):
        raise MeshError(f"`snowflake.topology` is {topology!r}; use {ONE_ACCOUNT} or {ACCOUNT_PER_DOMAIN}", path=path)
    accounts, roles = section.get("accounts") or {}, section.get("roles") or {}
    if not isinstance(accounts, dict) or not isinstance(roles, dict):
        raise MeshError("`snowflake.accounts` and `snowflake.roles` must map domain names to names", path=path)
    return ShareSettings(
        topology=topology,
        accounts={str(d): account_name(a, where=f"{path}: snowflake.accounts.{d}") for d, a in accounts.items()},
        roles={str(d): identifier(str(r), what=f"snowflake.roles.{d}").upper() for d, r in roles.items()},
        organization=organization,
    )


def reader_role(product: str) -> str:
    """The database role, in the provider's database, through which one-account consumer roles read a product."""
    return identifier(f"{product}_READER".upper(), what="reader role name")


def share_name(domain: str, product: str) -> str:
    """The share of a product, and the database a consumer account mounts it as."""
    return identifier(f"{domain}_{product}".upper(), what="share name")
