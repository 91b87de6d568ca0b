"""Who reads a contract version's servers, and where the test copies lie (engines whose contract tests read copies).

Readers: `producer`, the owner's full view (the stored rows, read with the domain's build roles); `consumer`, what
the first consuming domain's build roles see through the governed view.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain, discover_domains
from mesh_cli.core.profiles import target_output
from mesh_cli.engines.base import Engine
from mesh_cli.engines.registry import ENGINES

PRODUCER, CONSUMER = "producer", "consumer"


def relation_parts(relation: str) -> list[str]:
    """`"db"."schema"."table"` as its three names."""
    return relation.replace('"', "").split(".")


def copy_name(relation: str, domain: str) -> str:
    """Where `relation` lies in a test copy of `domain`'s contracts: `schema.table` for the domain's own,
    `<db>__<schema>.table` for another domain's (a copy is one database)."""
    database, schema, table = relation_parts(relation)
    return f"{schema}.{table}" if database == domain else f"{database}__{schema}.{table}"


def build_roles(domain: Domain, target: str) -> list[str]:
    """The roles a domain's build sessions hold on `target`, as its engine reads them in the profile, else its
    deployer's."""
    output = target_output(domain, target)
    engine = ENGINES.get(str(output.get("type")))
    roles = engine.build_roles(output) if engine is not None else None
    return roles if roles is not None else [f"{domain.name.upper()}_DEPLOYER"]


def readers(config: MeshConfig, product: dict[str, Any], target: str) -> dict[str, list[str]]:
    """The roles of each reader of a product's contracts: the producer, and the first consuming domain if any."""
    domains = discover_domains(config)
    found = {PRODUCER: build_roles(domains[product["domain"]], target)}
    consumers = [name for name in product["consumers"]["domains"] if name in domains]
    if consumers:
        found[CONSUMER] = build_roles(domains[consumers[0]], target)
    return found


def copy_path(engine: Engine, version_id: str, reader: str) -> Path:
    """The test copy of a contract version for one reader, a database file of the engine (`write_copy`)."""
    folder = engine.config.state_dir / "contract-tests" / engine.target / version_id
    return folder / f"{reader}{engine.database_suffix}"
