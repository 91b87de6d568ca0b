"""The mesh's domain graph as a file an orchestrator reads without dbt (`mesh orchestrate graph`).

It holds, per domain, its upstream domains, the data products it publishes (each an orchestrator asset, keyed
`mesh://<mesh>/<target>/<domain>/<product>`) and the products of its upstreams it reads; plus the target and the
commit it was written from. Everything comes from mesh.yml, dependencies.yml and domain.yml: no parse.

A domain run one model a task (`--per-model`) also gets a `models` entry, which build/handover.py makes: the dbt
manifest its task group is rendered from, its project and profile, the folder its tasks leave their run results in
and the environment its dbt runs in.
"""

from __future__ import annotations

from typing import Any

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain, discover_domains, require_domains
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.products import product_specs
from mesh_cli.core.state import head_commit
from mesh_cli.deployed.record import now

GRAPH_FORMAT = 1


def asset_uri(mesh: str, target: str, domain: str, product: str) -> str:
    """The asset of a data product on a target.

    >>> asset_uri("retail", "prod", "customers", "customer_master")
    'mesh://retail/prod/customers/customer_master'
    """
    return f"mesh://{mesh}/{target}/{domain}/{product}"


def _reads(domain: Domain, domains: dict[str, Domain], products: dict[str, list[Any]]) -> list[str]:
    """The upstream products the domain consumes: those listing it as a consumer domain, else (a product that
    names no consumer domain) every product of its upstreams."""
    read = []
    for upstream in domain.upstreams:
        listing = [spec for spec in products.get(upstream, []) if domain.name in spec.consumer_domains]
        read += [spec.id for spec in listing or products.get(upstream, [])]
    return read


def graph_file(config: MeshConfig, target: str,
               per_model: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The graph file's content for `target`, domains in build order; the domains of `per_model` get their entry of
    per-model task groups (`build.handover.per_model_entry`)."""
    domains = require_domains(config, discover_domains(config), "orchestrate")
    graph = DomainGraph(domains)
    graph.validate()
    products = {name: product_specs(domain, None, set(domains)) for name, domain in domains.items()}
    entries = {}
    for name in graph.order(domains):
        domain = domains[name]
        entries[name] = {
            "upstreams": list(domain.upstreams),
            "products": {spec.name: asset_uri(config.name, target, name, spec.name) for spec in products[name]},
            "reads": [asset_uri(config.name, target, *product.split(".", 1)) for product in
                      _reads(domain, domains, products)],
        }
        if per_model and name in per_model:
            entries[name]["models"] = per_model[name]
    return {"format": GRAPH_FORMAT, "mesh": config.name, "target": target, "written_at": now(),
            "commit": head_commit(config.root), "domains": entries}
