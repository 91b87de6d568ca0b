"""A data product as an Open Data Product Standard (ODPS) v1 descriptor.

Output ports are the product's public model versions, each pointing at its ODCS contract (`mesh export odcs`);
input ports are the other domains' public models the product is built from.
"""

from __future__ import annotations

from typing import Any

from mesh_cli.catalog.export.validate import ODPS_SCHEMA, check
from mesh_cli.catalog.index import Catalog, find_product
from mesh_cli.core.errors import MeshError

API_VERSION = "v1.0.0"


def _input_ports(catalog: Catalog, product: dict[str, Any]) -> list[dict[str, str]]:
    own = {v["id"] for m in product["models"] for v in m["versions"]}
    upstream = sorted({edge["upstream"] for edge in catalog.index["lineage"]["edges"]
                       if edge["downstream"] in own and edge["upstream"].split(".")[0] != product["domain"]})
    nodes = {node["id"]: node for node in catalog.index["lineage"]["nodes"]}
    return [{"name": f"{nodes[node]['domain']}.{nodes[node]['model']}", "version": nodes[node]["version"] or "1",
             "contractId": node} for node in upstream]


def _output_ports(product: dict[str, Any]) -> list[dict[str, str]]:
    return [{"name": model["name"], "version": version["version"] or "1", "contractId": version["id"],
             "type": "view" if version["materialized"] == "view" else "table",
             "description": (model["description"] or product["description"]).strip()}
            for model in product["models"] for version in model["versions"]]


def odps_product(catalog: Catalog, product_id: str) -> dict[str, Any]:
    """The ODPS descriptor of the product `DOMAIN.PRODUCT`, validated against the shipped ODPS JSON schema."""
    product = find_product(catalog, product_id)
    if product is None:
        known = ", ".join(p["id"] for p in catalog.products) or "none"
        raise MeshError(f"{product_id!r} is not a data product of this mesh (products: {known}); "
                        "products are declared under `products:` in each domain.yml")
    versions = [v for m in product["models"] for v in m["versions"]]
    limitations = [f"Confidentiality: {product['confidentiality']}."]
    limitations += [f"{d['model']} is deprecated and removed after {d['date']}." for d in product["deprecations"]]
    descriptor: dict[str, Any] = {
        "apiVersion": API_VERSION, "kind": "DataProduct", "id": product["id"], "name": product["name"],
        "status": "deprecated" if all(v["deprecation_date"] for v in versions) else "active",
        "domain": product["domain"], "tenant": catalog.index["mesh"],
        "description": {"purpose": product["description"], "usage": product["access"]["mesh_domains"],
                        "limitations": " ".join(limitations)},
        "inputPorts": _input_ports(catalog, product),
        "outputPorts": _output_ports(product),
        "team": {"name": (product["owner"] or {}).get("name") or product["domain"],
                 "members": [{"username": c.get("email") or c["name"], "name": c["name"], "role": c.get("role", "")}
                             for c in product["contacts"]]},
        "customProperties": [{"property": "sla", "value": product["sla"]},
                             {"property": "consumers", "value": {"domains": product["consumers"]["domains"],
                                                                 "accounts": product["consumers"]["accounts"]}},
                             {"property": "publishStatus", "value": product["publish"]["status"]}],
    }
    if product["tags"]:
        descriptor["tags"] = product["tags"]
    emails = [c["email"] for c in product["contacts"] if c.get("email")]
    if emails:
        descriptor["support"] = [{"channel": "email", "tool": "email", "url": f"mailto:{emails[0]}"}]
    check(descriptor, ODPS_SCHEMA, f"the ODPS descriptor of {product['id']}")
    return descriptor
