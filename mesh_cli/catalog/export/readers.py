"""Who reads a contract version's servers, and where the embedded engine's test copies lie.

Readers: `producer`, the owner's full view (the stored rows, read with the domain's build roles); `consumer`, what
the first consuming domain's build roles see through the governed view.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain, discover_domains
from mesh_cli.core.yamlfile import read_mapping

PRODUCER, CONSUMER = "producer", "consumer"
SESSION_PLUGIN = "mesh_cli.engines.duckdb_session"


def relation_parts(relation: str) -> list[str]:
    """`"db"."schema"."table"` as its three names."""
    return relation.replace('"', "").split(".")


def copy_name(relation: str, domain: str) -> str:
    """Where `relation` lies in a test copy of `domain`'s contracts: `schema.table` for the domain's own,
    `<db>__<schema>.table` for another domain's (a DuckDB file holds one catalog)."""
    database, schema, table = relation_parts(relation)
    return f"{schema}.{table}" if database == domain else f"{database}__{schema}.{table}"


def build_roles(domain: Domain, target: str) -> list[str]:
    """The roles a domain's DuckDB sessions hold on `target` (its profile's session plugin), else its deployer's."""
    output = ((read_mapping(domain.path / "profiles.yml").get(domain.profile) or {}).get("outputs") or {}).get(target)
    for plugin in (output or {}).get("plugins") or [] if isinstance(output, dict) else []:
        if isinstance(plugin, dict) and plugin.get("module") == SESSION_PLUGIN:
            return [str(role) for role in (plugin.get("config") or {}).get("roles") or []]
    return [f"{domain.name.upper()}_DEPLOYER"]


def readers(config: MeshConfig, product: dict[str, Any], target: str) -> dict[str, list[str]]:
    """The roles of each reader of a product's contracts: the producer, and the first consuming domain if any."""
    domains = discover_domains(config)
    found = {PRODUCER: build_roles(domains[product["domain"]], target)}
    consumers = [name for name in product["consumers"]["domains"] if name in domains]
    if consumers:
        found[CONSUMER] = build_roles(domains[consumers[0]], target)
    return found


def copy_path(config: MeshConfig, target: str, version_id: str, reader: str) -> Path:
    return config.state_dir / "contract-tests" / target / version_id / f"{reader}.duckdb"
