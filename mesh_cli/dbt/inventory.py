"""What the mesh holds, read from each domain's dbt manifest: public models and cross-domain model edges.

A domain that was never built is parsed first (`dbt parse`, no warehouse needed), upstreams before downstreams,
since a downstream's parse needs its upstreams' manifests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain, discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.manifest import ModelInfo, ref_targets_of
from mesh_cli.core.state import load_target_manifest
from mesh_cli.dbt.parse import parse_domains
from mesh_cli.deployed.location import target_store
from mesh_cli.deployed.sync import pull_records
from mesh_cli.engines.registry import engine_for


@dataclass(frozen=True)
class ModelEdge:
    """A model of one domain that reads a public model of another."""

    upstream: str
    downstream: str


@dataclass
class DomainView:
    """One domain with what its manifest says."""

    domain: Domain
    manifest_path: Path
    models: list[ModelInfo]

    @property
    def public_models(self) -> list[ModelInfo]:
        return [model for model in self.models if model.access == "public"]


@dataclass
class Inventory:
    """Every domain of the mesh with its manifest, and the model edges that cross domains."""

    graph: DomainGraph
    views: dict[str, DomainView]
    edges: list[ModelEdge] = field(default_factory=list)


def load_inventory(config: MeshConfig, target: str, *, parse_missing: bool = True) -> Inventory:
    """Read every domain's manifest (parsing the domains that have none when `parse_missing`)."""
    domains = discover_domains(config)
    graph = DomainGraph(domains)
    graph.validate()
    order = graph.order(domains)
    adapter = engine_for(config, list(domains.values()), target).adapter_type
    located = target_store(config, target)
    if not located.default:   # what is deployed there is the mesh as built: its records come first
        pull_records(located.store, target, order, config.manifests_dir(target))
    found = {name: load_target_manifest(config, target, domains[name], adapter) for name in order}
    missing = [domains[name] for name in order if found[name] is None]
    if missing and parse_missing:
        parse_domains(config, missing, target)
        found.update({d.name: load_target_manifest(config, target, d, adapter) for d in missing})
    views: dict[str, DomainView] = {}
    edges: list[ModelEdge] = []
    for name in order:
        manifest_of = found[name]
        if manifest_of is None:
            raise MeshError(f"{name} has no manifest for target {target!r}; run `mesh build {name}`",
                            path=domains[name].path)
        path, manifest = manifest_of
        models = ref_targets_of(manifest, name)  # models, and seeds and snapshots a product may share
        views[name] = DomainView(domains[name], path, models)
        for model in models:
            for parent in model.depends_on:
                parts = parent.split(".")
                if parts[0] == "model" and parts[1] != name and parts[1] in domains:
                    edges.append(ModelEdge(".".join(parts[1:]), ".".join(model.unique_id.split(".")[1:])))
    return Inventory(graph, views, sorted(set(edges), key=lambda e: (e.upstream, e.downstream)))
