"""Validate the whole mesh before building any of it: the graph, cross-domain refs, data products, credentials for
the target, the state folder and the database files. Every problem is found up front, one line each, and the
build stops (exit 2) before a single domain is touched.

Refs to another domain are checked against that domain's last successful build when its files have not changed
since (its saved model index); a domain rebuilt in the same run is checked again by the ref resolver at parse.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Collection, Iterable
from pathlib import Path

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain, domain_file
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_config import central_library, declared_problems
from mesh_cli.core.graph import DomainGraph, cross_domain_refs
from mesh_cli.core.manifest import ModelInfo, load_manifest, models_of, rebuild_hint
from mesh_cli.core.model_index import MODEL_INDEX, read_model_index
from mesh_cli.core.policy_bodies import library_problems, parse_problems
from mesh_cli.core.products import product_specs
from mesh_cli.core.refs import ModelRef, scan_refs
from mesh_cli.core.safe_io import os_error_message
from mesh_cli.core.state import (
    ARTIFACTS,
    FINGERPRINT,
    domain_state_dir,
    fingerprint,
    published_products,
    saved_fingerprint,
)
from mesh_cli.core.yamlfile import read_mapping
from mesh_cli.deployed.record import manifest_schema_of, readable_manifest_schema
from mesh_cli.engines.registry import Engine, adapter_type, engine_for
from mesh_cli.ingest.spec import load_ingest_tables

PACKAGE = "data_mesh"                 # the mesh's own dbt package, installed in every domain


class MeshInvalid(MeshError):
    """The mesh cannot be built as it is: every problem found, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _installed_packages(domain: Domain) -> set[str]:
    """Names of the dbt packages a domain installs (a two-argument ref may name one of them)."""
    names = {PACKAGE, "dbt", domain.name}
    entries = read_mapping(domain.path / "packages.yml", default={}).get("packages") or []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("local"):
            project = (domain.path / str(entry["local"]) / "dbt_project.yml")
            if project.is_file():
                names.add(str(read_mapping(project).get("name")))
        elif isinstance(entry, dict):
            source = str(entry.get("package") or entry.get("git") or "")
            names.add(source.rstrip("/").removesuffix(".git").split("/")[-1].replace("-", "_"))
    return names


def _schema_problem(path: Path) -> str | None:
    """A saved manifest written by a dbt of another manifest schema (read from its head, not loaded), or None."""
    written, readable = manifest_schema_of(path), readable_manifest_schema()
    if written and readable and written != readable:
        return f"a dbt manifest of schema {written}, and this dbt reads {readable}; {rebuild_hint(path)} with this dbt"
    return None


def _upstream_models(config: MeshConfig, target: str, upstream: Domain,
                     rebuilt: Collection[str] = ()) -> list[ModelInfo] | None:
    """The upstream's models as of its last build, when its files have not changed since (else None). A saved
    manifest that cannot be read (corrupt, wrong shape, another dbt's schema) is an error naming the build that
    rewrites it, unless this build rewrites it (`rebuilt`): then it stands for nothing."""
    if fingerprint(config, upstream) != saved_fingerprint(config, target, upstream.name):
        return None
    folder = domain_state_dir(config, target, upstream.name)
    manifest_path = folder / "manifest.json"
    try:
        if manifest_path.is_file() and (problem := _schema_problem(manifest_path)):
            raise MeshError(problem, path=manifest_path)
        indexed = read_model_index(folder, adapter_type(upstream, target))
        if indexed is not None:
            return indexed
        return models_of(load_manifest(manifest_path), upstream.name) if manifest_path.is_file() else None
    except MeshError:
        if upstream.name in rebuilt:
            return None
        raise


def _ref_problems(domain: Domain, ref: ModelRef, models: list[ModelInfo]) -> str | None:
    versions = [m for m in models if m.name == ref.name]
    where = f"{ref.file}: ref('{ref.package}', '{ref.name}'" + (f", v={ref.version}" if ref.version else "") + ")"
    if not versions:
        public = sorted({m.name for m in models if m.access == "public"})
        close = difflib.get_close_matches(ref.name, public, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"public models: {', '.join(public) or 'none'}"
        return f"{where} in {domain.name}: {ref.package} has no model {ref.name!r} ({hint}); fix the ref"
    if all(m.access != "public" for m in versions):
        return (f"{where} in {domain.name}: {ref.package}.{ref.name} is {versions[0].access} to {ref.package}; "
                f"ref a public model, or ask {ref.package} to make it `access: public`")
    if ref.version is not None and ref.version not in {m.version for m in versions}:
        known = ", ".join(sorted(str(m.version) for m in versions if m.version is not None)) or "none"
        return f"{where} in {domain.name}: {ref.package}.{ref.name} has no version {ref.version} (versions: {known})"
    return None


def _domain_problems(config: MeshConfig, target: str, domain: Domain, domains: dict[str, Domain],
                     rebuilt: Collection[str] = ()) -> list[str]:
    problems: list[str] = []
    try:
        refs = scan_refs(domain.source_paths)
        cross_domain_refs(domain, refs, domains)
    except MeshError as exc:
        return [str(exc)]
    installed = _installed_packages(domain)
    models_of_upstream: dict[str, list[ModelInfo] | None] = {}
    for ref in refs.refs:
        if ref.package is None or ref.package in installed:
            continue
        if ref.package not in domains:
            close = difflib.get_close_matches(ref.package, list(domains), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"domains: {', '.join(sorted(domains))}"
            problems.append(f"{ref.file}: ref('{ref.package}', '{ref.name}') in {domain.name}: {ref.package!r} is "
                            f"not a domain of this mesh ({hint}); fix the ref")
            continue
        if ref.package not in models_of_upstream:
            try:
                models_of_upstream[ref.package] = _upstream_models(config, target, domains[ref.package], rebuilt)
            except MeshError as exc:
                models_of_upstream[ref.package] = None
                problems.append(str(exc))
        upstream_models = models_of_upstream[ref.package]
        if upstream_models is not None and (problem := _ref_problems(domain, ref, upstream_models)):
            problems.append(problem)
    try:
        own = _upstream_models(config, target, domain, rebuilt)
        public = {m.name for m in own if m.access == "public"} if own is not None else None
        product_specs(domain, public, set(domains))
    except MeshError as exc:
        problems.append(str(exc))
    return problems


def _dropped_products(config: MeshConfig, target: str, domain: Domain) -> list[str]:
    """Products published on `target` that the domain no longer declares: publishing would drop their shares."""
    published = published_products(config, target, domain.name)
    if published is None:
        return []
    declared = {str(entry.get("name")) for entry in domain.products if isinstance(entry, dict)}
    gone = sorted(set(published) - declared)
    if not gone:
        return []
    return [f"{domain_file(domain.path)}: {domain.name} no longer declares published product(s) {', '.join(gone)}; "
            f"publishing would drop their shares: restore the declaration, or build with --allow-destroy"]


def _graph_problems(graph: DomainGraph) -> list[str]:
    try:
        graph.validate()
    except MeshError as exc:
        return [str(exc)]
    return []


def _state_problems(config: MeshConfig) -> list[str]:
    """The state folder must exist (or be creatable) and take a file."""
    try:
        config.state_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=config.state_dir, prefix=".write-check-"):
            pass
    except OSError as exc:
        return [f"state folder {config.state_dir} is not writable: {os_error_message(exc)}"]
    return []


def _engine_problems(config: MeshConfig, domains: dict[str, Domain], target: str) -> tuple[Engine | None, list[str]]:
    try:
        engine = engine_for(config, list(domains.values()), target)
    except MeshError as exc:
        return None, [str(exc)]
    if engine.offline_reason is not None:   # a build cannot run where the engine cannot be reached
        return engine, [f"--target {target}: {engine.offline_reason}"]
    return engine, []


def _database_problems(config: MeshConfig, engine: Engine, target: str, graph: DomainGraph,
                       chosen: set[str], changed: bool) -> list[str]:
    """Local database files: a corrupt one is an error; a missing one is rebuilt under `--changed` (its saved
    fingerprint no longer stands for a build) and is an error when a selected domain reads it."""
    problems = []
    for name in graph.order(graph.domains):
        path = engine.database_file(name)
        if path is None:   # the engine keeps no file per domain
            return []
        saved = domain_state_dir(config, target, name) / FINGERPRINT
        if path.is_file() and not engine.is_database_file(path):
            problems.append(f"{path}: the database file of {name} is not a {engine.adapter_type} database (corrupt "
                            f"or truncated); delete it and rebuild it with `mesh build {name}`")
        elif not path.is_file() and saved.is_file():
            if changed and name in chosen:   # the build its state records is gone: --changed rebuilds it whole
                for artifact in (saved, *(saved.parent / a for a in ARTIFACTS), saved.parent / MODEL_INDEX):
                    artifact.unlink(missing_ok=True)
            elif name not in chosen and graph.downstream_of(name) & chosen:
                problems.append(f"{path}: the database file of {name} is missing, and "
                                f"{', '.join(sorted(graph.downstream_of(name) & chosen))} read(s) it; rebuild it "
                                f"with `mesh build {name}+` or `mesh build --changed`")
    return problems


def validate_mesh(config: MeshConfig, graph: DomainGraph, target: str, selectors: Iterable[str] = (), *,
                  changed: bool = False, allow_destroy: bool = False, publish: bool = True) -> None:
    """Raise `MeshInvalid` listing every problem of the mesh that would stop or spoil a build."""
    problems = _state_problems(config) + _graph_problems(graph)   # graph: its first problem (e.g. one cycle)
    if problems:   # without a sound graph there is no build order to check the rest in
        raise MeshInvalid(problems)
    chosen = graph.select(selectors)
    engine, engine_problems = _engine_problems(config, graph.domains, target)
    problems += engine_problems
    for name in graph.order(graph.domains):
        try:
            problems += _domain_problems(config, target, graph.domains[name], graph.domains, chosen)
            if publish and not allow_destroy and name in chosen:
                problems += _dropped_products(config, target, graph.domains[name])
        except MeshError as exc:
            problems.append(str(exc))
    central = central_library(config.root)
    for name in graph.order(chosen):   # governance blocks as declared: the package refuses the same at build time
        try:
            problems += declared_problems(graph.domains[name], central)
        except MeshError as exc:
            problems.append(str(exc))
    try:   # the library as every build reads it: once for the mesh, not per domain
        problems += library_problems(config.root, graph.domains.values(),
                                     engine.policy_problems if engine is not None else parse_problems)
    except MeshError as exc:
        problems.append(str(exc))
    if engine is not None:
        for name in graph.order(chosen):
            try:
                problems += engine.ingestion_problems(graph.domains[name], load_ingest_tables(graph.domains[name]))
            except MeshError as exc:
                problems.append(str(exc))
    if engine is not None:
        problems += _database_problems(config, engine, target, graph, chosen, changed)
    if problems:
        raise MeshInvalid(list(dict.fromkeys(problems)))
