"""The desired state of a domain's shares, from its domain.yml and its dbt manifest.

Each product becomes one share named `<DOMAIN>_<PRODUCT>` holding USAGE on the domain's database and the schemas
of its models, SELECT on every version of each model, REFERENCE_USAGE on the other databases its secure views
read, and the product's entitlement database roles (`database_roles:`, read by the `<policy>_shared` masking and
row access policies). Consumers are accounts: those listed under `consumers.accounts`, and in an account-per-domain
mesh the accounts of the consumer domains. In one account, consumer domains read through a database role
`<DOMAIN DB>.<PRODUCT>_READER` granted to their roles instead: no share needed.

A product that reaches another account is built only from the domain's own data (a view over another domain is
refused); on an engine whose rebuild drops grants, every shared model must be built with `copy_grants`; the last
publish record names the consumer roles and reader roles publishing made, so a withdrawn consumer's are revoked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_library import AccessModel
from mesh_cli.core.identifiers import identifier
from mesh_cli.core.manifest import ModelInfo, ref_targets_of
from mesh_cli.core.product_text import share_comment
from mesh_cli.core.products import ProductSpec, product_specs
from mesh_cli.core.share_access import (
    Mount,
    clearing_roles,
    model_policies,
    product_database_roles,
    product_entry,
)
from mesh_cli.core.share_settings import (
    ACCOUNT_PER_DOMAIN,
    ONE_ACCOUNT,
    ShareSettings,
    account_name,
    reader_role,
    share_name,
)
from mesh_cli.shares.listing import listing_access, listing_manifest

SHARE, DATABASE_ROLE = "SHARE", "DATABASE ROLE"
REBUILT = ("table", "view", "incremental")     # materializations dbt re-creates with CREATE OR REPLACE


@dataclass(frozen=True, order=True)
class Grant:
    """A privilege held by a share or database role, as SHOW GRANTS TO lists it."""

    privilege: str     # USAGE, SELECT, REFERENCE_USAGE
    on: str            # DATABASE, SCHEMA, TABLE, VIEW, DATABASE_ROLE
    name: str          # upper-case, qualified


@dataclass(frozen=True)
class Grantee:
    """What receives the grants: a share, or a database role (one-account consumers)."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Desired:
    """One share or reader database role as the product declares it."""

    product: str                       # customers.customer_master
    grantee: Grantee
    grants: frozenset[Grant]
    consumers: frozenset[str]          # accounts of a share; account roles of a database role
    comment: str = ""
    models: tuple[str, ...] = ()       # labels of the shared model versions
    managed: frozenset[str] = frozenset()  # reader role: the consumer roles publishing grants and revokes (the
                                           # other holders come from provisioning, `upstreams: true`)


@dataclass
class DomainShares:
    """Everything a domain publishes (and, as a consumer, mounts) on one target."""

    domain: str
    database: str
    topology: str
    desired: list[Desired] = field(default_factory=list)
    database_roles: tuple[str, ...] = ()        # roles that must exist in the database, unqualified
    mounts: list[Mount] = field(default_factory=list)
    listings: dict[str, str] = field(default_factory=dict)     # share name -> listing manifest (YAML)
    notes: list[str] = field(default_factory=list)
    retired_roles: tuple[str, ...] = ()   # qualified reader and entitlement database roles the last publish
                                          # made and no product declares now
    listed_before: dict[str, str | None] = field(default_factory=dict)   # share -> the manifest its listing was
                                                                         # published with (None: not recorded)


def _upper(*parts: str | None) -> str:
    return ".".join(identifier(str(part), what="object name").upper() for part in parts)


READ_THROUGH = ("view", "ephemeral")     # a view's query reads what these read: the walk goes on through them


def _read_objects(model: ModelInfo, manifest: dict[str, Any]) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    """Every object a view reads, each with the views and ephemeral models it is read through: its parents, and
    through each parent view or ephemeral model, that one's, down to tables and sources (a view reads its
    parent view's objects when queried; an ephemeral model is inlined in the query)."""
    found: list[tuple[dict[str, Any], tuple[str, ...]]] = []
    seen: set[str] = set()
    pending: list[tuple[str, tuple[str, ...]]] = [(parent, ()) for parent in model.depends_on]
    while pending:
        unique_id, through = pending.pop(0)
        if unique_id in seen:
            continue
        seen.add(unique_id)
        node = (manifest["nodes"].get(unique_id) or (manifest.get("sources") or {}).get(unique_id)) or {}
        materialized = (node.get("config") or {}).get("materialized")
        if materialized != "ephemeral":    # an ephemeral model is no object: its query is inlined
            found.append((node, through))
        if materialized in READ_THROUGH:
            label = f"{node.get('package_name')}.{node.get('name')}"
            pending += [(parent, (*through, label)) for parent in (node.get("depends_on") or {}).get("nodes") or ()]
    return found


def _read_databases(domain: Domain, spec: ProductSpec, model: ModelInfo, manifest: dict[str, Any],
                    cross_account: bool) -> set[Grant]:
    """REFERENCE_USAGE on each other database a shared view reads, directly or through views and ephemeral
    models, which the share needs before the view
    (https://docs.snowflake.com/en/sql-reference/sql/grant-privilege-share). A product that reaches another
    account is built only from the domain's own data: a view reading another domain, at any depth, is refused, as
    a database mounted from a share cannot be shared again and another domain decides who reads its products
    (https://docs.snowflake.com/en/user-guide/data-share-consumers#general-limitations-for-shared-databases)."""
    references: set[Grant] = set()
    node = manifest["nodes"][model.unique_id]
    for found, through in _read_objects(model, manifest):
        database = found.get("database")
        if not database or str(database).upper() == str(model.database).upper():
            continue
        owner = found.get("package_name")
        if cross_account and owner != node.get("package_name"):
            via = f" (through {' and '.join(through)})" if through else ""
            raise MeshError(f"{model.label} in product {spec.id}, shared with other accounts, is a view reading "
                            f"{owner}.{found.get('name')}{via}; a product shared across accounts is built only "
                            f"from {domain.name}'s own data (a database mounted from a share cannot be shared "
                            f"again): materialize {model.name} as a table, or leave it out of the product",
                            path=domain.path / node["original_file_path"])
        references.add(Grant("REFERENCE_USAGE", "DATABASE", _upper(database)))
    return references


def _objects(domain: Domain, spec: ProductSpec, models: list[ModelInfo], manifest: dict[str, Any],
             cross_account: bool, access: AccessModel | None,
             keep_grants: bool) -> tuple[set[Grant], set[Grant], list[str], list[str]]:
    """SELECT grants on every version of the product's models, REFERENCE_USAGE on other databases their views
    read, the shared labels, and the library policies the models carry (tag-based masking included).
    `keep_grants`: the engine's rebuild drops grants, so every shared model must be built with COPY GRANTS."""
    nodes = manifest["nodes"]
    selects: set[Grant] = set()
    references: set[Grant] = set()
    labels: list[str] = []
    policies: list[str] = []
    for model in sorted((m for m in models if m.name in spec.models), key=lambda m: m.label):
        node = nodes[model.unique_id]
        config = node.get("config") or {}
        materialized = config.get("materialized")
        if model.access != "public":
            raise MeshError(f"product {spec.name!r} of {domain.name} lists {model.label}, which is {model.access}; "
                            "only public models may be shared", path=domain.path / "domain.yml")
        if materialized == "view" and not config.get("secure"):
            raise MeshError(f"{model.label} is a view in product {spec.id} but not secure; shared views must be "
                            "secure: set `secure: true` in its config", path=domain.path / node["original_file_path"])
        if keep_grants and materialized in REBUILT and not config.get("copy_grants"):
            raise MeshError(f"{model.label} in product {spec.id} is rebuilt with CREATE OR REPLACE, which drops the "
                            "SELECT its share and reader role hold until the next publish "
                            "(https://docs.snowflake.com/en/sql-reference/sql/create-table, COPY GRANTS): set "
                            f"`+copy_grants: true` for it in {domain.path / 'dbt_project.yml'} and rebuild "
                            f"{domain.name}", path=domain.path / node["original_file_path"])
        kind = "VIEW" if materialized == "view" else "TABLE"
        selects.add(Grant("SELECT", kind, _upper(model.database, model.schema, model.alias)))
        labels.append(model.label)
        if kind == "VIEW":
            references |= _read_databases(domain, spec, model, manifest, cross_account)
        policies += model_policies(node, model, access)
    return selects, references, labels, list(dict.fromkeys(policies))


def _comment(domain: Domain, spec: ProductSpec) -> str:
    owner = {"name": domain.owner.name, "email": domain.owner.email} if domain.owner else None
    return share_comment({"id": spec.id, "domain": domain.name, "description": spec.description, "owner": owner})


def desired_shares(domain: Domain, manifest: dict[str, Any], domains: dict[str, Domain],
                   settings: ShareSettings, access: AccessModel | None = None,
                   published: dict[str, dict[str, Any]] | None = None,
                   keep_grants: bool = False) -> DomainShares:
    """The shares, reader roles and mounts of `domain`, validated against its manifest and the mesh. Across
    accounts, a product's models carry `<policy>_shared` variants deciding with database roles: the roles its
    policies name in the access model are created in the database and granted to the share (unless the product
    lists its own `database_roles:`), for the consumer account to grant to its roles. `published` (the products
    of the last publish record) names the consumer roles and reader roles publishing made before: those of a
    consumer withdrawn or a domain deleted since are revoked, not forgotten. `keep_grants`: the engine's rebuild
    drops grants (Snowflake), so a shared model built without `copy_grants` is refused."""
    before = published or {}
    granted_before = {str(role) for entry in before.values()
                      for role in (entry.get("consumers") or {}).get("roles") or []}
    models = ref_targets_of(manifest, domain.name)  # a public seed or snapshot is shared as a table
    specs = product_specs(domain, {m.name for m in models if m.access == "public"}, set(domains))
    databases = {str(m.database).upper() for m in models if m.database}
    result = DomainShares(domain.name, _upper(sorted(databases)[0]) if databases else domain.name.upper(),
                          settings.topology)
    roles: set[str] = set()
    for spec in specs:
        listed = {account_name(a, where=f"{domain.path / 'domain.yml'}: product {spec.name}")
                  for a in spec.consumer_accounts}
        accounts = set(listed)
        if settings.topology == ACCOUNT_PER_DOMAIN:
            for consumer in spec.consumer_domains:
                account = settings.account_of(consumer)
                if account is None:
                    raise MeshError(f"product {spec.id} is consumed by {consumer}, which has no account under "
                                    f"`snowflake.accounts`; add `{consumer}: ORG.ACCOUNT` to mesh.yml")
                accounts.add(account)
        listing = product_entry(domain, spec.name).get("listing")   # a listing reaches accounts of the organisation
        cross_account = settings.topology == ACCOUNT_PER_DOMAIN or bool(accounts) or bool(listing)
        selects, references, labels, policies = _objects(domain, spec, models, manifest, cross_account, access,
                                                         keep_grants)
        schemas = {Grant("USAGE", "SCHEMA", ".".join(g.name.split(".")[:2])) for g in selects}
        derived = clearing_roles(policies, access) if access is not None and cross_account else ()
        entitlements = product_database_roles(domain, spec.name, derived)
        roles.update(entitlements)
        role_grants = {Grant("USAGE", "DATABASE_ROLE", f"{result.database}.{r}") for r in entitlements}
        name = share_name(domain.name, spec.name)
        reader = f"{result.database}.{reader_role(spec.name)}"
        # Across accounts a consumer reads through the database roles the share carries, granted to its roles
        # (https://docs.snowflake.com/en/user-guide/data-sharing-gs, "grant a database role to a share"): SELECT
        # goes to the product's reader database role, granted to the share; none to the share itself, whose
        # objects only IMPORTED PRIVILEGES (all or nothing) would reach.
        reads_by_role = settings.topology == ACCOUNT_PER_DOMAIN and bool(spec.consumer_domains)
        shared = ({Grant("USAGE", "DATABASE_ROLE", reader)} if reads_by_role else schemas | selects)
        result.desired.append(Desired(
            spec.id, Grantee(SHARE, name),
            frozenset({Grant("USAGE", "DATABASE", result.database)} | references | shared | role_grants),
            frozenset(accounts), _comment(domain, spec), tuple(labels)))
        if reads_by_role:
            roles.add(reader_role(spec.name))
            result.desired.append(Desired(spec.id, Grantee(DATABASE_ROLE, reader), frozenset(schemas | selects),
                                          frozenset(), "", tuple(labels)))
        if settings.topology == ONE_ACCOUNT and spec.consumer_domains:
            roles.add(reader_role(spec.name))
            result.desired.append(Desired(   # no entitlement database role: the `_shared` policies would clear
                spec.id, Grantee(DATABASE_ROLE, reader), frozenset(schemas | selects),   # every consumer domain's
                frozenset(settings.role_of(c) for c in spec.consumer_domains), "", tuple(labels),
                frozenset({settings.role_of(d) for d in domains} | granted_before)))
        if listing:
            organization = settings.organization_of(domain.name)
            listing_text = listing_manifest(domain, spec, listing, models, listed, organization)
            outside = listing_access(listed, organization)[1]
            if outside:
                result.notes.append(f"{spec.id}: {', '.join(outside)} outside organisation {organization}: reached "
                                    "by the direct share, never by the organization listing")
            if listing_text is None:
                result.notes.append(f"{spec.id}: no consumer account in organisation {organization}: no "
                                    "organization listing is created")
            else:
                result.listings[name] = listing_text
    result.database_roles = tuple(sorted(roles))
    declared = {d.grantee.name for d in result.desired if d.grantee.kind == DATABASE_ROLE}
    made = {str(entry["database_role"]) for entry in before.values() if entry.get("database_role")}
    made |= {str(role) for entry in before.values() for role in entry.get("entitlement_roles") or []}
    declared |= {f"{result.database}.{role}" for role in result.database_roles}   # still used by a product
    result.retired_roles = tuple(sorted(made - declared))
    result.listed_before = {str(entry["share"]): entry.get("listing_manifest") for entry in before.values()
                            if entry.get("listing") == "listed" and entry.get("share")}
    return result
