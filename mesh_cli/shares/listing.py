"""The YAML manifest of a product's organization listing, generated from domain.yml and the model contracts.

    listing:
      title: Customer master                 # default: the product name in words
      support: customer-data@retail.example  # default: the domain owner's e-mail
      approver: data-owner@retail.example    # default: the support contact
      access: all                            # or the consumer accounts (default)

An organization listing reaches only accounts of the provider's own organisation
(https://docs.snowflake.com/en/sql-reference/sql/create-organization-listing); its manifest names them by account
name within that organisation. A consumer account `ORG.ACCOUNT` of the provider's organisation is listed as
`ACCOUNT`; one of another organisation is never listed (its name would designate another account): it is reached by
the product's direct share (`ALTER SHARE ... ADD ACCOUNTS = ORG.ACCOUNT`), as Snowflake allows
(https://docs.snowflake.com/en/sql-reference/sql/create-listing for an external listing).
"""

from __future__ import annotations

from typing import Any

import yaml

from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.manifest import ModelInfo
from mesh_cli.core.products import ProductSpec

KEYS = {"title", "support", "approver", "access"}


def _columns(model: ModelInfo) -> str:
    columns = ", ".join(f"{name} {column.get('data_type') or ''}".strip() for name, column in model.columns.items())
    return f"- {model.label}: {model.description.strip().splitlines()[0] if model.description.strip() else ''}" \
           f" Columns: {columns}."


def listing_access(accounts: set[str], organization: str | None) -> tuple[list[str], list[str]]:
    """The consumer accounts (`ORG.ACCOUNT`) an organization listing may target (by account name, those of the
    provider's organisation) and those only a direct share reaches (every other organisation's)."""
    inside = sorted(a.split(".", 1)[1] for a in accounts if a.split(".", 1)[0] == organization)
    outside = sorted(a for a in accounts if a.split(".", 1)[0] != organization)
    return inside, outside


def listing_manifest(domain: Domain, spec: ProductSpec, listing: Any, models: list[ModelInfo],
                     accounts: set[str], organization: str | None) -> str | None:
    """The manifest of `CREATE ORGANIZATION LISTING ... AS $$<manifest>$$` for the consumer `accounts` of the
    provider's `organization` (None when the listing would target no account); bad settings name the domain.yml."""
    path = domain.path / "domain.yml"
    if listing is True:
        listing = {}
    if not isinstance(listing, dict) or set(listing) - KEYS:
        raise MeshError(f"product {spec.name!r} of {domain.name}: `listing` must be `true` or a mapping with "
                        f"{', '.join(sorted(KEYS))}", path=path)
    owner_email = domain.owner.email if domain.owner else None
    support = listing.get("support") or owner_email
    if not support:
        raise MeshError(f"product {spec.name!r} of {domain.name}: a listing needs a support contact; set "
                        "`listing.support` or `domain.owner.email`", path=path)
    shared = sorted((m for m in models if m.name in spec.models and m.access == "public"), key=lambda m: m.label)
    hours = spec.sla.get("freshness_hours")
    description = "\n".join(
        [spec.description.strip() or f"Data product {spec.id}.",
         f"Data product {spec.id}, owned by {domain.owner.name if domain.owner else domain.name}."]
        + ([f"Freshness: rebuilt at least every {hours:g} hours."] if hours else [])
        + ["Models and contract columns:"] + [_columns(m) for m in shared])
    if listing.get("access") == "all":
        access: list[dict[str, Any]] = [{"all_internal_accounts": True}]
    else:
        if accounts and organization is None:
            raise MeshError(f"product {spec.name!r} of {domain.name}: an organization listing reaches only the "
                            "provider's organisation, which mesh.yml does not name: set `snowflake.organization: ORG`",
                            path=path)
        access = [{"account": name} for name in listing_access(accounts, organization)[0]]
        if not access:
            return None
    manifest = {
        "title": str(listing.get("title") or spec.name.replace("_", " ").capitalize()),
        "description": description,
        "organization_targets": {"discovery": [{"all_internal_accounts": True}], "access": access},
        "support_contact": str(support),
        "approver_contact": str(listing.get("approver") or support),
        "locations": {"access_regions": [{"name": "ALL"}]},
    }
    text = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=1000)
    if "$$" in text:
        raise MeshError(f"product {spec.name!r} of {domain.name}: the listing text may not contain `$$`", path=path)
    return text
