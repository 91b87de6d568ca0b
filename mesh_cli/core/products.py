"""Data product declarations of a domain's `domain.yml`, checked against what the domain's manifest publishes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.strict import check_keys

PRODUCT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PRODUCT_KEYS = ("name", "description", "models", "sla", "consumers", "tags", "confidentiality", "contacts",
                "database_roles", "listing")
Fail = Callable[[str], NoReturn]


@dataclass(frozen=True)
class ProductSpec:
    """One `products:` entry of a domain.yml, validated."""

    domain: str
    name: str
    description: str
    models: tuple[str, ...]
    sla: dict[str, Any]
    consumer_domains: tuple[str, ...]
    consumer_accounts: tuple[str, ...]
    tags: tuple[str, ...]
    confidentiality: str | None
    contacts: tuple[dict[str, str], ...]

    @property
    def id(self) -> str:
        return f"{self.domain}.{self.name}"


def _strings(value: Any, what: str, fail: Fail) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        fail(f"`{what}` must be a list of names, got {value!r}")
    return tuple(value)


def _contacts(value: Any, fail: Fail) -> tuple[dict[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(c, dict) and c.get("name") for c in value):
        fail("`contacts` must be a list of mappings with a `name:` (and `email:`, `role:`)")
    return tuple({k: str(v) for k, v in contact.items() if k in ("name", "email", "role")} for contact in value)


def product_specs(domain: Domain, public_models: set[str] | None, domains: set[str]) -> list[ProductSpec]:
    """The domain's products; a product that names no model, a model that is not public, an unknown consumer
    domain or a malformed field is an error naming the domain.yml, the product and the fix. `public_models`
    None (not built yet) checks everything but the models."""
    path = domain.path / "domain.yml"
    specs: list[ProductSpec] = []
    for index, entry in enumerate(domain.products):
        label = entry.get("name") if isinstance(entry, dict) else None
        where = f"product {label!r}" if label else f"products[{index}]"

        def fail(message: str, where: str = where) -> NoReturn:
            raise MeshError(f"{where} of {domain.name}: {message}", path=path)

        if not isinstance(entry, dict):
            fail("each product must be a mapping with `name:` and `models:`")
        check_keys(entry, PRODUCT_KEYS, path=path, where=f"products[{index}]")
        name = entry.get("name")
        if not isinstance(name, str) or not PRODUCT_NAME.match(name):
            fail(f"`name` {name!r} must be lower-case letters, digits and underscores, starting with a letter")
        if name in {spec.name for spec in specs}:
            fail("the name is used twice; give each product of a domain its own name")
        models = _strings(entry.get("models"), "models", fail)
        if not models:
            fail("`models` must list at least one public model of the domain")
        for model in models:
            if public_models is not None and model not in public_models:
                known = ", ".join(sorted(public_models)) or "none"
                fail(f"lists model {model!r}, which is not a public model of {domain.name} (public: {known}); "
                     "fix `models:` or make the model `access: public`")
        sla = entry.get("sla") or {}
        hours = sla.get("freshness_hours") if isinstance(sla, dict) else None
        if not isinstance(sla, dict) or (hours is not None and not (isinstance(hours, int | float) and hours > 0)):
            fail(f"`sla` must be a mapping such as `{{freshness_hours: 24}}` (a positive number), got {sla!r}")
        column = sla.get("freshness_column")
        if column is not None and (not isinstance(column, str) or not column or hours is None):
            fail(f"`sla.freshness_column` must name the timestamp column whose newest value dates the data, beside "
                 f"`freshness_hours`, got {column!r}")
        consumers = entry.get("consumers") or {}
        if not isinstance(consumers, dict):
            fail("`consumers` must be a mapping with `domains:` and `accounts:` lists")
        check_keys(consumers, ("domains", "accounts"), path=path, where=f"products[{index}].consumers")
        check_keys(sla, ("freshness_hours", "freshness_column"), path=path, where=f"products[{index}].sla")
        consumer_domains = _strings(consumers.get("domains"), "consumers.domains", fail)
        for consumer in consumer_domains:
            if consumer not in domains or consumer == domain.name:
                fail(f"consumer domain {consumer!r} is not another domain of this mesh; "
                     "list Snowflake accounts under `consumers.accounts`")
        confidentiality = entry.get("confidentiality")
        if confidentiality is not None and not isinstance(confidentiality, str):
            fail(f"`confidentiality` must be a word such as internal or restricted, got {confidentiality!r}")
        specs.append(ProductSpec(
            domain=domain.name, name=name, description=str(entry.get("description") or ""),
            models=models, sla=dict(sla), consumer_domains=consumer_domains,
            consumer_accounts=_strings(consumers.get("accounts"), "consumers.accounts", fail),
            tags=_strings(entry.get("tags"), "tags", fail), confidentiality=confidentiality,
            contacts=_contacts(entry.get("contacts"), fail)))
    return specs
