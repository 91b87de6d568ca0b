"""`mesh check`: contracts of public models against the deployed mesh, cross-domain impact, governance rules.

The working tree is parsed (`dbt parse`, no warehouse), upstreams first and independent domains at the same
time, each against its upstreams as they are now; a domain whose files, upstreams and tools are unchanged since
an earlier check is not parsed again (`parse_cache.py`); the baseline is the deployed mesh's manifests
(`baseline.py`). Every public model and version is compared, each change's consumers found and the policy
applied (`mesh_cli.contracts`: `changes.py`, `policy.py`), and the governance rules checked (`governance.py`). The
rules themselves are data (`contracts/rules.py`).
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from mesh_cli.check.baseline import Baseline, baseline_source
from mesh_cli.check.governance import Governance
from mesh_cli.check.library import library_refusals
from mesh_cli.check.report import CheckReport
from mesh_cli.check.side_doors import find_side_doors, target_databases
from mesh_cli.contracts.changes import classify
from mesh_cli.contracts.findings import Finding, Hit
from mesh_cli.contracts.policy import Policy
from mesh_cli.contracts.rules import OFF, RULES, configured_rules
from mesh_cli.contracts.snapshot import DomainSnapshot, snapshot
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain, discover_domains, require_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_config import central_library
from mesh_cli.core.governance_library import AccessModel, access_model
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.products import product_specs
from mesh_cli.core.share_settings import ShareSettings, share_settings
from mesh_cli.core.state import PUBLISH_FILE, build_identity, domain_state_dir, fingerprint, mesh_file_digest
from mesh_cli.dbt.invoke import prewarm_shared
from mesh_cli.dbt.parse import missing_parses, parse_domains, parsed_manifest_path
from mesh_cli.dbt.parse_cache import ParseCache

__all__ = ["RULES", "CheckOptions", "CheckReport", "Finding", "Hit", "run_check"]


@dataclass(frozen=True)
class CheckOptions:
    """What to check against: at most one baseline (default: mesh.yml's, else the state folder)."""

    target: str | None = None
    baseline_dir: Path | None = None
    baseline_ref: str | None = None
    baseline_store: str | None = None
    today: date | None = None           # the day deprecation dates are judged against (default: today, UTC)
    jobs: int = 1                       # domains parsed at the same time
    cache: bool = True                  # reuse the parses of domains whose inputs did not change


class PublishProblem(Protocol):
    """What `mesh publish` would refuse in a domain on `target`, as one line, or None: the shares feature's
    validation (mesh_cli.shares.publishable), which the CLI hands `run_check` (a feature imports no other)."""

    def __call__(self, domain: Domain, manifest: dict[str, Any], domains: dict[str, Domain],
                 settings: ShareSettings, access: AccessModel, *, target: str | None = None) -> str | None: ...


class WorkingTreeParse:
    """Parses the working tree; a domain that no longer parses because an upstream changed is parsed once
    more against its upstreams' baseline manifests, and reported (`parse-failed`)."""

    def __init__(self, config: MeshConfig, options: CheckOptions, target: str, baseline: Baseline,
                 scratch: Path, fingerprints: dict[str, str]) -> None:
        self.config = config
        self.options = options
        self.target = target
        self.baseline = baseline
        self.scratch = scratch
        self.fingerprints = fingerprints
        self.failures: dict[str, str] = {}

    def fallback(self, domain: Domain, error: str) -> dict[str, Any]:
        baseline = self.baseline
        upstreams = [name for name in domain.upstreams if name in baseline.manifests or name in baseline.identical]
        if not upstreams:
            raise MeshError(f"dbt parse of {domain.name} failed: {error}", path=domain.path)
        state = self.scratch / f"against-baseline-{domain.name}"
        for name in upstreams:
            path = parsed_manifest_path(state, self.target, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            published = domain_state_dir(self.config, self.target, name) / PUBLISH_FILE
            if published.is_file():   # what the deployed upstream shares, not what its changed domain.yml says
                shutil.copyfile(published, path.parent / PUBLISH_FILE)
            if name in baseline.manifests:
                path.write_text(json.dumps(baseline.manifests[name]), encoding="utf-8")
            else:  # the same at the baseline as in the working tree, whose parse is already there
                path.write_bytes(parsed_manifest_path(self.scratch / "current", self.target, name).read_bytes())
        try:
            manifest = parse_domains(self.config, [domain], self.target, state_dir=state)[domain.name]
        except MeshError as exc:
            raise MeshError(f"dbt parse of {domain.name} failed: {error}", path=domain.path) from exc
        self.failures[domain.name] = error
        return manifest

    def run(self, domains: list[Domain], on_manifest: Callable[[str, dict[str, Any]], None]) -> None:
        cache = ParseCache.of(self.config, self.target) if self.options.cache else None
        parse_domains(self.config, domains, self.target, state_dir=self.scratch / "current",
                      fallback=self.fallback, cache=cache, jobs=self.options.jobs,
                      fingerprints=self.fingerprints, on_manifest=on_manifest,
                      known=deployed_parses(self.baseline, domains, self.fingerprints,
                                            mesh_file_digest(self.config.root)))


def deployed_parses(baseline: Baseline, domains: list[Domain], fingerprints: dict[str, str],
                    mesh_file: str) -> dict[str, Path]:
    """The saved builds of a baseline folder that stand for the working tree's parse: a domain whose files (and
    the package and mesh.yml) are those of its deployed build, as are all its upstreams', built by this dbt
    version. A fresh clone then parses only what differs from the deployed mesh. Empty without fingerprints
    (`--no-cache`)."""
    version = importlib.metadata.version("dbt-core")
    known: dict[str, Path] = {}
    for domain in domains:   # upstreams first
        saved = baseline.saved.get(domain.name)
        checksum = fingerprints.get(domain.name)
        if (saved is not None and checksum is not None and build_identity(checksum, mesh_file) == saved[1]
                and all(upstream in known for upstream in domain.upstreams)
                and (baseline.manifests[domain.name].get("metadata") or {}).get("dbt_version") == version):
            known[domain.name] = saved[0]
    return known


def _prewarm(config: MeshConfig, options: CheckOptions, target: str, ordered: list[Domain]) -> dict[str, str]:
    """The working tree's fingerprints; when several domains must be parsed, more dbt workers start importing
    dbt now, while the baseline is read."""
    if not options.cache:
        prewarm_shared(min(options.jobs, len(ordered)))
        return {}
    fingerprints = {domain.name: fingerprint(config, domain) for domain in ordered}
    missing = missing_parses(config, ordered, target, ParseCache.of(config, target), fingerprints=fingerprints)
    if missing:
        prewarm_shared(min(options.jobs, len(missing)))
    return fingerprints


def run_check(config: MeshConfig, options: CheckOptions,
              publish_problem: PublishProblem | None = None) -> CheckReport:
    """Check the working tree of the mesh against its baseline; with `publish_problem`, refuse first what
    publishing would refuse after the build."""
    rules = configured_rules(config.section("check"))
    target = options.target or config.default_target
    today = options.today or datetime.now(UTC).date()
    domains = require_domains(config, discover_domains(config), "check")
    load_baseline = baseline_source(config, target, folder=options.baseline_dir, ref=options.baseline_ref,
                                    store=options.baseline_store, jobs=options.jobs, cache=options.cache)
    prewarm_shared(1)   # most checks follow an edit: one dbt worker starts importing dbt at once (2 s)
    library = library_refusals(config, domains, target, cache=options.cache)   # bad input, as the build refuses it
    if library.problems:
        raise MeshError("\n".join(library.problems))
    graph = DomainGraph(domains)
    graph.validate()
    governance = Governance(rules)
    central = central_library(config.root)
    for domain in domains.values():   # domain.yml as `mesh build` reads it: keys, names, consumer domains
        product_specs(domain, None, set(domains))
    ordered = [domains[name] for name in graph.order(domains)]
    fingerprints = _prewarm(config, options, target, ordered)
    baseline = load_baseline(domains, fingerprints)
    now: dict[str, DomainSnapshot] = {}
    governed: dict[str, list[Finding]] = {}

    databases = target_databases(domains, target)
    side_door_rule = rules["no-side-door"]
    shares = share_settings(config), access_model(config.root, domains)   # as `mesh publish` reads them
    unpublishable: list[str] = []

    def read(name: str, manifest: dict[str, Any]) -> None:   # while dbt parses other domains
        problem = publish_problem(domains[name], manifest, domains, *shares, target=target) \
            if publish_problem is not None else None
        if problem is not None:
            unpublishable.append(problem)
        now[name] = snapshot(name, manifest, "working tree", domains[name].path)
        governed[name] = (governance.check(now[name], domains[name])
                          + governance.configuration(domains[name], manifest, central))
        if side_door_rule.severity != OFF:
            governed[name] += [Finding("no-side-door", side_door_rule.severity, name, door.message(name),
                                       side_door_rule.fix, file=door.path)
                               for door in find_side_doors(domains[name], domains, databases)]

    with tempfile.TemporaryDirectory(prefix="mesh-check-") as scratch:
        parser = WorkingTreeParse(config, options, target, baseline, Path(scratch), fingerprints)
        parser.run(ordered, read)
    if unpublishable:
        raise MeshError("\n".join(unpublishable))
    now = {domain.name: now[domain.name] for domain in ordered if domain.name in now}   # upstreams first
    before = {name: snapshot(name, manifest, baseline.description) for name, manifest in baseline.manifests.items()}
    before.update((name, replace(now[name], source=baseline.description, project_dir=None))
                  for name in baseline.identical if name in now)
    policy = Policy(rules, before, now, today)
    findings = policy.findings(classify(before, now, today)) + policy.consumer_findings()
    for name in now:
        findings += governed[name]
    parse_rule = rules["parse-failed"]
    if parse_rule.severity != OFF:
        for name, error in parser.failures.items():
            findings.append(Finding("parse-failed", parse_rule.severity, name,
                                    f"{name} does not parse against its upstreams as changed: {error}",
                                    parse_rule.fix, file=domains[name].dependencies_file))
    notes = [f"{name} was parsed against its upstreams' baseline manifests, as it does not parse against "
             "their working tree" for name in parser.failures]
    library.keep()
    return CheckReport(baseline.description, target, config.root, list(graph.order(domains)), findings, notes)
