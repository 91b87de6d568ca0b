"""The baseline of `mesh check`: the manifests of the deployed mesh, from a folder, a git ref or a stage.

- a folder: one subfolder per domain with its `manifest.json` — the state folder of a target
  (`.mesh/state/prod`), a copy of the whole `.mesh` folder, or of `.mesh/state`;
- a git ref: the mesh at that revision, what differs from the working tree parsed (`git_baseline.py`);
- a state store (a folder, object storage or a Snowflake stage: docs/deploying.md): the records deployed there,
  pulled first; the default is the store of the target.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesh_cli.check.git_baseline import GitRevision, from_git_ref
from mesh_cli.core.config import MESH_FILE, MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.manifest import load_manifest
from mesh_cli.core.state import FINGERPRINT, saved_build_identity, saved_commits
from mesh_cli.deployed.location import open_store, target_store
from mesh_cli.deployed.sync import deployed_domains, pull_records


@dataclass
class Baseline:
    """The deployed mesh: each domain's manifest, and where they came from. A domain in `identical` is the same
    at the baseline as in the working tree (a git baseline's untouched domains): its manifest is the working
    tree's, read once."""

    description: str
    manifests: dict[str, dict[str, Any]]
    identical: set[str] = field(default_factory=set)
    saved: dict[str, tuple[Path, str]] = field(default_factory=dict)   # a folder's: manifest file, build identity


def _manifest_root(folder: Path, target: str) -> Path:
    for candidate in (folder / "state" / target, folder / target):
        if any(candidate.glob("*/manifest.json")):
            return candidate
    return folder


def _check_folder(folder: Path, target: str) -> Path:
    if not folder.is_dir():
        raise MeshError(f"baseline folder {folder} does not exist")
    if not any(_manifest_root(folder, target).glob("*/manifest.json")):
        raise MeshError(f"no manifests in baseline folder {folder}: expected <domain>/manifest.json "
                        f"(e.g. a copy of .mesh/state/{target})")
    return folder


def from_folder(folder: Path, target: str, description: str | None = None,
                domains: Mapping[str, Domain] | None = None) -> Baseline:
    """Manifests from `folder/<domain>/manifest.json` (also under `state/<target>/` or `<target>/`); a domain of
    the mesh (`domains`) that a baseline manifest reads must have its own."""
    root = _manifest_root(_check_folder(folder, target), target)
    incomplete = sorted(p for p in root.iterdir() if p.is_dir() and not (p / "manifest.json").is_file()
                        and any(p.glob("*.json*")))
    if incomplete:   # a deployed domain without its manifest is not an added domain: its changes would pass
        raise MeshError(f"the baseline holds state of {incomplete[0].name} but no manifest.json: it is incomplete; "
                        f"restore the manifest (rebuild {incomplete[0].name} on the deployed target) or pass a "
                        "complete --baseline", path=incomplete[0])
    manifests = {}
    saved: dict[str, tuple[Path, str]] = {}
    for path in sorted(root.glob("*/manifest.json")):
        manifest = load_manifest(path)
        name = str((manifest.get("metadata") or {}).get("project_name") or path.parent.name)
        manifests[name] = manifest
        identity = saved_build_identity(path.parent / FINGERPRINT)
        if identity is not None:
            saved[name] = (path, identity)
    domains = domains or {}
    missing = _read_but_missing(manifests, domains)
    if missing:
        upstream, reader = min(missing.items())
        raise MeshError(f"the baseline has no manifest of {upstream}, which {reader} read when it was deployed: "
                        f"it is incomplete, not a baseline where {upstream} is new; restore "
                        f"{upstream}/manifest.json (rebuild {upstream} on the deployed target) or pass a complete "
                        "--baseline", path=root)
    deployed = _deployed_but_missing(root, manifests, domains)
    if deployed:
        name, commit = deployed
        raise MeshError(f"the baseline has no manifest of {name}, which exists in commit {commit[:12]} its other "
                        f"domains were built from: it is incomplete, not a baseline where {name} is new; restore "
                        f"{name}/manifest.json (rebuild {name} on the deployed target) or pass a complete --baseline",
                        path=root)
    return Baseline(description or f"folder {folder}", manifests, saved=saved)


def _deployed_but_missing(root: Path, manifests: dict[str, Any],
                          domains: Mapping[str, Domain]) -> tuple[str, str] | None:
    """(domain, commit) for a domain of the mesh without a baseline manifest whose project was in a commit the
    baseline's builds came from (saved in their fingerprint.json), or None."""
    commits = sorted(saved_commits(root))
    for name, domain in sorted(domains.items()):
        if name in manifests:
            continue
        for commit in commits:
            found = subprocess.run(["git", "cat-file", "-e", f"{commit}:./dbt_project.yml"], cwd=domain.path,
                                   capture_output=True, check=False)
            if found.returncode == 0:
                return name, commit
    return None


def _read_but_missing(manifests: dict[str, Any], domains: Mapping[str, Domain]) -> dict[str, str]:
    """{domain: a baseline domain that read it} for the mesh's domains without a baseline manifest that another
    baseline manifest depends on (a cross-domain ref resolved at deploy time)."""
    missing: dict[str, str] = {}
    for name, manifest in manifests.items():
        for node in (manifest.get("nodes") or {}).values():
            for parent in (node.get("depends_on") or {}).get("nodes") or []:
                package = str(parent).split(".")[1] if str(parent).count(".") >= 2 else ""
                if package in domains and package not in manifests and package != name:
                    missing.setdefault(package, name)
    return missing


def from_store(config: MeshConfig, location: str, target: str, domains: Mapping[str, Domain] | None = None,
               into: Path | None = None) -> Baseline:
    """The records deployed on `target` in the store at `location` (docs/deploying.md), pulled into `into` (by
    default a cache folder of their own) and read as a folder."""
    store = open_store(config, location)
    names = deployed_domains(store, target)
    if not names:
        raise MeshError(f"no deployed records for target {target} on {store.location}: deploy the mesh first "
                        f"(`mesh build --target {target}`), or pass another baseline")
    folder = into or config.state_dir / "cache" / "baseline" / hashlib.sha256(location.encode()).hexdigest()[:16]
    pull_records(store, target, names, folder / target)
    return from_folder(folder / target, target, f"store {store.location}", domains)


# Reads the baseline, given the working tree's domains and their fingerprints (a git baseline compares with the
# first and reuses the second for untouched domains).
BaselineLoader = Callable[[dict[str, Domain], dict[str, str]], Baseline]


def baseline_source(config: MeshConfig, target: str, *, folder: Path | None = None, ref: str | None = None,
                    store: str | None = None, jobs: int = 1, cache: bool = True) -> BaselineLoader:
    """The baseline named by the options, else by `check: baseline:` in mesh.yml, else the store of the target
    (its records pulled into the state folder): checked now (a git ref that does not exist, a folder without
    manifests), read when the loader is called."""
    given = [name for name, value in (("--baseline", folder), ("--baseline-ref", ref),
                                      ("--baseline-store", store)) if value]
    if len(given) > 1:
        raise MeshError(f"give one baseline, not {' and '.join(given)}")
    if not given:
        settings = config.section("check").get("baseline") or {}
        if not isinstance(settings, dict) or set(settings) - {"dir", "ref", "store", "stage"} or len(settings) > 1:
            raise MeshError("`check: baseline:` must be one of {dir: PATH}, {ref: GIT_REF}, {store: LOCATION}",
                            path=config.root / MESH_FILE)
        folder = config.root / settings["dir"] if settings.get("dir") else None
        ref, store = settings.get("ref"), settings.get("store") or settings.get("stage")
    if ref:
        revision = GitRevision(config, str(ref))
        return lambda current, fingerprints: Baseline(*from_git_ref(revision, target, current, jobs=jobs,
                                                                    cache=cache, fingerprints=fingerprints))
    if store:
        return lambda current, _: from_store(config, str(store), target, current)
    if folder is None:
        folder = config.manifests_dir(target)
        located = target_store(config, target)
        if not located.default:   # the deployed records of the target's store, into its working folder
            pull_records(located.store, target, deployed_domains(located.store, target), folder)
        if not any(folder.glob("*/manifest.json")):
            raise MeshError("no baseline: pass --baseline DIR (the deployed state folder), --baseline-ref REF or "
                            "--baseline-store LOCATION, or set `check: baseline:` in mesh.yml (the default, the state "
                            f"folder {folder}, has no manifests: `mesh build` saves them there)")
    checked = _check_folder(folder, target)
    return lambda current, _: from_folder(checked, target, domains=current)
