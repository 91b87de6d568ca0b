"""Who reads a data product across the mesh, the consumer side of shares: the library policies a model carries
and the database roles its share carries, the shares a domain mounts across accounts (account per domain) and the
roles that hold a product's reader role by its last publish. In core because both the shares (publish plans them)
and governance (`mesh query` reads an upstream as the role could) decide by them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_library import AccessModel
from mesh_cli.core.identifiers import identifier
from mesh_cli.core.manifest import ModelInfo, governance_meta, ref_targets_of
from mesh_cli.core.share_settings import ACCOUNT_PER_DOMAIN, ShareSettings, reader_role, share_name


@dataclass(frozen=True)
class Mount:
    """Consumer side (account per domain): a database this domain creates from an upstream's share."""

    database: str
    share: str                         # ORG.ACCOUNT.SHARE
    grants: tuple[tuple[str, str], ...] = ()   # (database role of the share, account role of this domain)
    reader: str = ""                   # this domain's reading role: the holder whose grants the mesh manages
    offered: tuple[str, ...] = ()      # the share's database roles the mesh manages (granted or revoked)
    mounter: str = ""                  # the role that creates the database: it is granted every database role of
                                       # the share, and gives each up once granted on
    product_reader: str = ""           # the share's database role holding SELECT on the product's models

def product_entry(domain: Domain, product: str) -> dict[str, Any]:
    return next(e for e in domain.products if isinstance(e, dict) and e.get("name") == product)


def product_database_roles(domain: Domain, product: str, derived: tuple[str, ...] = ()) -> tuple[str, ...]:
    """`database_roles:` of the product, else the roles its policies decide with (`derived`)."""
    value = product_entry(domain, product).get("database_roles") or list(derived)
    if not isinstance(value, list):
        raise MeshError(f"product {product!r} of {domain.name}: `database_roles` must be a list of database role "
                        "names, e.g. [PII_READER]", path=domain.path / "domain.yml")
    return tuple(identifier(str(r), what=f"database role of product {domain.name}.{product}").upper()
                 for r in value)


def clearing_roles(policies: list[str], access: AccessModel) -> tuple[str, ...]:
    return tuple(dict.fromkeys(role for policy in policies for role in access.clearing_roles(policy)))


def shared_database_roles(domain: Domain, manifest: dict[str, Any], product: str,
                          access: AccessModel) -> tuple[str, ...]:
    """The entitlement database roles the share of `domain`'s `product` carries across accounts, as
    `desired_shares` grants them: `database_roles:` of the product, else the roles its models' policies decide
    with. A consumer account manages only these: a database role the share does not carry does not exist in the
    database mounted from it (https://docs.snowflake.com/en/sql-reference/sql/grant-database-role-share)."""
    listed = set(product_entry(domain, product).get("models") or [])
    nodes = manifest["nodes"]
    policies = [policy for model in ref_targets_of(manifest, domain.name) if model.name in listed
                for policy in model_policies(nodes[model.unique_id], model, access)]
    return product_database_roles(domain, product, clearing_roles(list(dict.fromkeys(policies)), access))

def model_policies(node: dict[str, Any], model: ModelInfo, access: AccessModel | None) -> list[str]:
    """The library policies a model carries: its row access policy, its columns' masking policies, and the masking
    policies of a column's tags where the column names none (tag-based masking)."""
    row_access = governance_meta(node).get("row_access") or {}
    policies = [str(row_access.get("policy"))] if isinstance(row_access, dict) and row_access else []
    for entry in model.columns.values():
        policy = governance_meta(entry).get("masking") or None
        name = policy.get("policy") if isinstance(policy, dict) else policy
        policies += [str(name).removesuffix("_shared")] if name else []
        tags = governance_meta(entry).get("tags") or {}
        if not name and access is not None and isinstance(tags, dict):
            policies += [p for tag in tags for p in access.tag_policies.get(str(tag), ())]
    return policies

def mounts_of(domain: Domain, domains: dict[str, Domain], settings: ShareSettings,
              access: AccessModel | None = None,
              manifest_of: Callable[[Domain], dict[str, Any] | None] | None = None) -> list[Mount]:
    """Account per domain: the shares of upstream products this domain consumes, mounted under the share's name
    by the domain's mounting role; the domain's reading role is granted the product's reader database role (its
    SELECT) and the share's database roles it holds as account roles in the access model (ORDERS_DEPLOYER
    inherits ALL_REGIONS: it gets `<share>.ALL_REGIONS`). With an access model, `manifest_of` gives each
    upstream's manifest, from which the database roles its share carries are known (`shared_database_roles`):
    only those exist in the mounted database, so only those are granted on and given up."""
    if settings.topology != ACCOUNT_PER_DOMAIN:
        return []
    mounts = []
    for upstream in domain.upstreams:
        upstream_manifest: dict[str, Any] | None = None    # read once, for the first product it is needed for
        for entry in domains[upstream].products:
            consumers = (entry.get("consumers") or {}).get("domains") or [] if isinstance(entry, dict) else []
            if domain.name in consumers:
                account = settings.account_of(upstream)
                if account is None:
                    raise MeshError(f"{domain.name} mounts a share of {upstream}, which has no account under "
                                    f"`snowflake.accounts`; add `{upstream}: ORG.ACCOUNT` to mesh.yml")
                name = share_name(upstream, str(entry["name"]))
                reader = settings.role_of(domain.name)
                product_reader = reader_role(str(entry["name"]))    # SELECT on the product's models
                held: list[str] = []
                shared: set[str] = {product_reader}
                if access is not None:
                    if upstream_manifest is None and manifest_of is not None:
                        upstream_manifest = manifest_of(domains[upstream])
                    manifest = upstream_manifest
                    if manifest is None:
                        raise MeshError(f"{domain.name} mounts {name} of {upstream}, whose manifest is not there to "
                                        "say which database roles the share carries; build or parse "
                                        f"{upstream} first (`mesh build {upstream}`)")
                    shared |= set(shared_database_roles(domains[upstream], manifest, str(entry["name"]), access))
                    held = [role for role in access.inherited(reader)[1:] if role in shared]
                grants = tuple((role, reader) for role in [product_reader, *held])
                mounts.append(Mount(name, f"{account}.{name}", grants, reader, tuple(sorted(shared)),
                                    settings.mounter_of(domain.name), product_reader))
    return mounts

def product_of(model: ModelInfo, consumer: str, upstream: Domain,
                published: dict[str, dict[str, Any]] | None) -> str | None:
    """The product of `upstream` that shares `model` with `consumer`, if any."""
    if published is not None:
        for name, entry in sorted(published.items()):
            if consumer in (entry.get("consumers") or {}).get("domains", []) and model.label in entry.get("models", []):
                return name
        return None
    for entry in upstream.products:
        if (isinstance(entry, dict) and model.name in (entry.get("models") or [])
                and consumer in ((entry.get("consumers") or {}).get("domains") or [])):
            return str(entry["name"])
    return None


def reader_holders(settings: ShareSettings, consumer: str, upstream: Domain, model: ModelInfo,
                   published: dict[str, dict[str, Any]] | None) -> tuple[str | None, tuple[str, ...]]:
    """The product of `upstream` sharing `model` with `consumer` (the build's rule, `product_of`) and the account
    roles that hold its reader role there, as the last publish granted it: in one account the consumer roles the
    record names (https://docs.snowflake.com/en/sql-reference/sql/grant-database-role); across accounts the
    consumer domain's reading role, to which its mount grants the share's reader database role. Before the first
    publish, or once the consumer is withdrawn, no role holds it."""
    product = product_of(model, consumer, upstream, published) if published is not None else None
    if product is None or published is None:
        return product, ()
    if settings.topology == ACCOUNT_PER_DOMAIN:
        return product, (settings.role_of(consumer),)
    roles = (published[product].get("consumers") or {}).get("roles") or []
    return product, tuple(str(role).upper() for role in roles)
