"""The contract gate of a deploy: `mesh build` refuses a breaking change to a public model that a consumer reads.

What the build is about to deploy is compared with the state it pulled from the target's store (the deployed
records in `.mesh/state/<target>/`), with the classification of `mesh check` (`mesh_cli.contracts`) and its
column-level lineage: only a domain the build selects, that is deployed, that changed since, and that other
domains read is parsed, with its downstream (each unchanged domain's deployed manifest stands for its parse). A
breaking change that reaches a consumer stops the build before anything is built (exit 1), naming the
consumers, unless it ships as a new version (which is not breaking) or the user names the model
(`--allow-breaking MODEL`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mesh_cli.check.baseline import Baseline
from mesh_cli.check.run import CheckOptions, WorkingTreeParse
from mesh_cli.contracts.changes import classify
from mesh_cli.contracts.findings import Finding
from mesh_cli.contracts.policy import Policy
from mesh_cli.contracts.rules import BREAKING, ERROR, configured_rules
from mesh_cli.contracts.snapshot import DomainSnapshot, snapshot
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.errors import MeshError, RunFailed
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.manifest import load_manifest
from mesh_cli.core.state import FINGERPRINT, build_identity, fingerprint, mesh_file_digest, saved_build_identity

DEPLOYED = "the deployed state"


class BreakingDeploy(RunFailed):
    """A deploy refused: breaking changes to public models that consumers read (one line each)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


def _changed_and_read(config: MeshConfig, graph: DomainGraph, state: Path, building: Iterable[str],
                      mesh_file: str) -> dict[str, dict[str, Any]]:
    """The deployed manifests of the selected domains that are read by another domain and changed since."""
    found: dict[str, dict[str, Any]] = {}
    for name in graph.order(set(building)):
        if not graph.downstream_of(name) or not (state / name / "manifest.json").is_file():
            continue     # read by nobody, or never deployed: nothing to compare, and no hashing of its files
        identity = build_identity(fingerprint(config, graph.domains[name]), mesh_file)
        if saved_build_identity(state / name / FINGERPRINT) == identity:
            continue
        manifest = _deployed(state / name / "manifest.json")
        if manifest is not None:
            found[name] = manifest
    return found


def _deployed(path: Path) -> dict[str, Any] | None:
    """A deployed manifest; None where there is none, or none readable (the build rewrites it: nothing to keep)."""
    try:
        return load_manifest(path) if path.is_file() else None
    except MeshError:
        return None


def allowed(finding: Finding, allow: Collection[str]) -> bool:
    """Whether `--allow-breaking` names the finding's model: `dim_customers`, `customers.dim_customers` or with
    its version, `customers.dim_customers.v1`."""
    label = finding.model or ""
    parts = label.split(".")
    return bool({label, ".".join(parts[:2]), parts[1] if len(parts) > 1 else label} & set(allow))


def _line(finding: Finding, target: str) -> str:
    where = f"{finding.file}: " if finding.file else ""
    return (f"{where}{finding.model}: {finding.message}; {finding.hits_text}; not deployed to {target}: "
            f"ship it as a new version of the model, change the consumers first, or pass "
            f"--allow-breaking {'.'.join((finding.model or '').split('.')[:2])}")


def breaking_findings(config: MeshConfig, graph: DomainGraph, target: str, building: Iterable[str], *,
                      jobs: int = 1) -> list[Finding]:
    """The error-level breaking findings that reach a consumer, of the selected domains against their deployed
    records (empty when none of them is deployed, changed and read)."""
    state = config.manifests_dir(target)
    mesh_file = mesh_file_digest(config.root)
    gated = _changed_and_read(config, graph, state, building, mesh_file)
    if not gated:
        return []
    involved = set(gated)
    for name in gated:
        involved |= graph.downstream_of(name)
    involved |= set().union(*(graph.upstream_of(name) for name in involved))
    ordered = [graph.domains[name] for name in graph.order(involved)]
    deployed: dict[str, dict[str, Any]] = {}
    saved: dict[str, tuple[Path, str]] = {}
    for domain in ordered:
        path = state / domain.name / "manifest.json"
        manifest = gated[domain.name] if domain.name in gated else _deployed(path)
        if manifest is not None:
            deployed[domain.name] = manifest
            identity = saved_build_identity(path.parent / FINGERPRINT)
            if identity is not None:
                saved[domain.name] = (path, identity)
    fingerprints = {domain.name: fingerprint(config, domain) for domain in ordered}
    baseline = Baseline(DEPLOYED, deployed, saved=saved)
    now: dict[str, DomainSnapshot] = {}
    with tempfile.TemporaryDirectory(prefix="mesh-contract-gate-") as scratch:
        parser = WorkingTreeParse(config, CheckOptions(target=target, jobs=jobs, cache=False), target, baseline,
                                  Path(scratch), fingerprints)
        parser.run(ordered, lambda name, manifest: now.update(
            {name: snapshot(name, manifest, "working tree", graph.domains[name].path)}))
    today = datetime.now(UTC).date()
    before = {name: snapshot(name, deployed[name], DEPLOYED) for name in gated}
    policy = Policy(configured_rules(config.section("check")), before, now, today)
    findings = policy.findings(classify(before, {name: now[name] for name in gated if name in now}, today))
    return [f for f in findings if f.classification == BREAKING and f.severity == ERROR and f.hits
            and f.rule != "consumer-notice"]


def refuse_breaking(config: MeshConfig, graph: DomainGraph, target: str, building: Iterable[str],
                    allow: Collection[str] = (), *, jobs: int = 1) -> None:
    """Raise `BreakingDeploy` for each breaking change a consumer reads that `allow` does not name."""
    refused = [f for f in breaking_findings(config, graph, target, building, jobs=jobs) if not allowed(f, allow)]
    if refused:
        raise BreakingDeploy([_line(finding, target) for finding in refused])
