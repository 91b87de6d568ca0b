"""Cross-domain ref resolution: which upstream public models a domain's dbt parse must know about.

dbt calls this through the `dbt_data_mesh` plugin. It reads the domain's `dependencies.yml`, finds the
cross-domain refs in its files statically, and returns the referenced public models (every version) from each
upstream's saved manifest. Only what is referenced is returned, so the cost follows the number of cross-domain
refs, not the size of the upstream; a file with dynamic refs makes every public model of the upstreams
available instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection
from pathlib import Path

from mesh_cli.core.config import TARGET_ENV, MeshConfig, find_mesh_root, load_config
from mesh_cli.core.domains import Domain, discover_domains, load_domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.graph import cross_domain_refs
from mesh_cli.core.manifest import ModelInfo, ref_targets_of
from mesh_cli.core.model_index import read_model_index
from mesh_cli.core.refs import ModelRef, scan_refs
from mesh_cli.core.state import domain_state_dir, load_target_manifest
from mesh_cli.core.yamlfile import read_mapping
from mesh_cli.engines.registry import adapter_type


def resolve_target(flag_target: str | None, config: MeshConfig) -> str:
    """The target dbt runs: the `--target` flag, else MESH_TARGET (what the profiles read), else the default."""
    return flag_target or os.environ.get(TARGET_ENV) or config.default_target


def _upstream_models(config: MeshConfig, target: str, domain: Domain, upstream: Domain,
                     names: Collection[str] | None = None) -> list[ModelInfo]:
    """The upstream's models (those in `names`, or all) for `target`, built on the same adapter as this domain:
    from the model index of its last `mesh build` when there is one, else from its manifest."""
    adapter = adapter_type(domain, target)
    indexed = read_model_index(domain_state_dir(config, target, upstream.name), adapter, names)
    if indexed is not None:
        return indexed
    found = load_target_manifest(config, target, upstream, adapter)
    if found is not None:
        return ref_targets_of(found[1], upstream.name)
    raise MeshError(
        f"{domain.name} refs models of {upstream.name}, but {upstream.name} has no {adapter} manifest for "
        f"target {target!r}; build it first with `mesh build -s +{domain.name} --target {target}`",
        path=domain.dependencies_file)


def _matching(ref: ModelRef, domain: Domain, upstream: str, models: list[ModelInfo],
              every_model: Callable[[], list[ModelInfo]]) -> list[ModelInfo]:
    """The public model (every version) a ref names; anything else is an error naming both domains."""
    call = f"ref('{upstream}', '{ref.name}'" + (f", v={ref.version}" if ref.version else "") + ")"
    named = [m for m in models if m.name == ref.name]
    if not named:
        public = [m.name for m in every_model() if m.access == "public"]
        raise MeshError(f"{call} in {domain.name}: {upstream} has no model {ref.name!r} "
                        f"(its public models: {', '.join(sorted(set(public))) or 'none'})", path=ref.file)
    private = [m for m in named if m.access != "public"]
    if private:
        raise MeshError(f"{call} in {domain.name}: {upstream}.{ref.name} is {private[0].access} to "
                        f"{upstream}; only public models can be referenced from another domain",
                        path=ref.file)
    if ref.version is not None and ref.version not in {m.version for m in named}:
        versions = ", ".join(sorted(str(m.version) for m in named if m.version is not None)) or "none"
        raise MeshError(f"{call} in {domain.name}: {upstream}.{ref.name} has no version {ref.version} "
                        f"(versions: {versions})", path=ref.file)
    return named


def local_names(domain: Domain) -> set[str]:
    """The names a domain defines itself (models, snapshots, seeds), read from its file names; an unqualified ref
    to one of them stays in the domain, as dbt resolves the current project first."""
    project = read_mapping(domain.path / "dbt_project.yml")
    folders = [*domain.source_paths, *(domain.path / p for p in project.get("seed-paths", ["seeds"]))]
    names = {f.stem for folder in folders if folder.is_dir() for f in folder.rglob("*")
             if f.suffix in {".sql", ".py", ".csv"}}
    return names | {re.sub(r"_v\d+$", "", name) for name in names}   # versions: dim_x_v2.sql is dim_x


def unqualified_refs(domain: Domain, refs: list[ModelRef], published: Callable[[str], dict[str, list[ModelInfo]]]
                     ) -> list[ModelRef]:
    """dbt-loom's unqualified refs (`ref('stg_orders')`) to a public model, seed or snapshot of an upstream, each
    as the two-argument ref it means: the one upstream that publishes the name; two candidates are an error, and
    so is a name only a protected or private model of an upstream has (dbt would say "not found").
    `published(upstream)` gives the upstream's models, seeds and snapshots by name, whatever their access."""
    local = local_names(domain)
    wanted = sorted({r.name for r in refs if r.package is None and r.name not in local})
    if not wanted:
        return []
    by_upstream = {name: published(name) for name in domain.upstreams}
    qualified = []
    for ref in (r for r in refs if r.package is None and r.name in wanted):
        owners = sorted(u for u, found in by_upstream.items() if any(m.access == "public" for m in found.get(
            ref.name, [])))
        hidden = sorted((u, found[ref.name][0].access) for u, found in by_upstream.items() if found.get(ref.name))
        if not owners and hidden:
            upstream, access = hidden[0]
            raise MeshError(f"ref('{ref.name}') in {domain.name}: {upstream}.{ref.name} is {access} to {upstream}; "
                            f"only public models can be referenced from another domain: give it `access: public` "
                            f"in {upstream}, or ref a public model", path=ref.file)
        if len(owners) > 1:
            raise MeshError(f"ref('{ref.name}') in {domain.name} is ambiguous: both {owners[0]} and {owners[1]} "
                            f"publish {ref.name!r}; write ref('{owners[0]}', '{ref.name}') or "
                            f"ref('{owners[1]}', '{ref.name}')", path=ref.file)
        if owners:
            qualified.append(ModelRef(ref.name, owners[0], ref.version, ref.file))
    return qualified


ShareLookup = Callable[[MeshConfig, str, str, Domain, Domain, list[tuple[ModelInfo, Path]]], list[ModelInfo]]
"""Given (config, target, adapter type, consumer, upstream, matched models with the file that refs each), the
relations the consumer reads: the upstream's own, or its share's (publishing decides; the plugin passes
`mesh_cli.shares.access.shared_relations`)."""


def resolve(project_dir: Path, target_flag: str | None = None, *, share_lookup: ShareLookup) -> list[ModelInfo]:
    """The upstream public models to inject into the parse of the dbt project at `project_dir`."""
    root = find_mesh_root(project_dir)
    if root is None or not (project_dir / "dependencies.yml").is_file():
        return []
    config = load_config(root)
    domain = load_domain(project_dir)
    domains = discover_domains(config)
    for name in domain.upstreams:
        if name not in domains:
            raise MeshError(f"{domain.name} declares upstream {name!r}, which is not a domain of this mesh",
                            path=domain.dependencies_file)
    refs = scan_refs(domain.source_paths)
    wanted = cross_domain_refs(domain, refs, domains)
    target = resolve_target(target_flag, config)
    names = {r.name for r in refs.refs if r.package is None}

    def published(name: str) -> dict[str, list[ModelInfo]]:
        found: dict[str, list[ModelInfo]] = {}
        for model in _upstream_models(config, target, domain, domains[name], names):
            found.setdefault(model.name, []).append(model)
        return found
    if not refs.dynamic_files:
        wanted += unqualified_refs(domain, list(refs.refs), published)
    injected: dict[str, ModelInfo] = {}
    for name in domain.upstreams:
        upstream_refs = [ref for ref in wanted if ref.package == name]
        if not upstream_refs and not refs.dynamic_files:
            continue
        upstream = domains[name]
        wanted_names: set[str] | None = None if refs.dynamic_files else {ref.name for ref in upstream_refs}
        models = _upstream_models(config, target, domain, upstream, wanted_names)
        if refs.dynamic_files:
            chosen = [m for m in models if m.access == "public"]
        else:
            def every_model(upstream: Domain = upstream) -> list[ModelInfo]:
                return _upstream_models(config, target, domain, upstream)
            matched = [(m, ref.file) for ref in upstream_refs
                       for m in _matching(ref, domain, name, models, every_model)]
            chosen = share_lookup(config, target, adapter_type(domain, target), domain, upstream, matched)
        injected.update((m.unique_id, m) for m in chosen)
    return list(injected.values())
