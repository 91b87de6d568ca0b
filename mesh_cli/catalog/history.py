"""The history of a data product: each state of its contracts, and every change between two states as `mesh check`
classifies it (breaking or not, and which consumers it hit).

The states come from the manifests the state folder keeps (`history/contracts/`, one per distinct contract, written
by `mesh build`), from the git history of a deployed manifest that the repository tracks (the state folder, or the
folder `check: baseline: {dir: ...}` names), and the manifest the catalogue reads now.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from mesh_cli.catalog.kept import read_kept
from mesh_cli.contracts.changes import classify
from mesh_cli.contracts.policy import Policy
from mesh_cli.contracts.rules import BREAKING, configured_rules
from mesh_cli.contracts.snapshot import DomainSnapshot, snapshot
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.state import (
    CONTRACT_HISTORY,
    KEPT_CONTRACTS,
    contract_digest,
    domain_state_dir,
    kept_commit,
    kept_files,
)

NOTICE = "consumer-notice"   # the policy's per-consumer copy of a change: the change itself is listed once


@dataclass(frozen=True)
class ContractState:
    """A domain's manifest at one time, and where it was found."""

    at: datetime | None
    source: str
    manifest: dict[str, Any]
    commit: str | None = None    # the git commit it was built from, when known
    uncommitted: bool = False    # ... with uncommitted changes in the working tree


def generated_at(manifest: dict[str, Any]) -> datetime | None:
    stamp = (manifest.get("metadata") or {}).get("generated_at")
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")) if stamp else None
    except ValueError:
        return None


def _kept_states(config: MeshConfig, target: str, domain: str) -> list[ContractState]:
    states = []
    for path in kept_files(domain_state_dir(config, target, domain) / CONTRACT_HISTORY):
        manifest = read_kept(path, "dbt manifest", "nodes")
        origin = kept_commit(path)
        states.append(ContractState(generated_at(manifest), "build", manifest, origin.commit if origin else None,
                                    bool(origin and origin.uncommitted)))
    return states


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    except FileNotFoundError:
        return None


def _tracked_manifests(config: MeshConfig, target: str, domain: str) -> list[Path]:
    folders = [config.manifests_dir(target)]
    baseline = config.section("check").get("baseline")
    if isinstance(baseline, dict) and baseline.get("dir"):
        root = config.root / str(baseline["dir"])
        folders += [root / "state" / target, root / target, root]
    return [folder / domain / "manifest.json" for folder in folders]


def _git_states(config: MeshConfig, target: str, domain: str) -> list[ContractState]:
    """The committed versions of the domain's deployed manifest, when the repository tracks one."""
    states = []
    for path in _tracked_manifests(config, target, domain):
        log = _git(config.root, "log", f"-n{KEPT_CONTRACTS}", "--format=%H %cI", "--", str(path))
        if log is None or log.returncode != 0:
            continue   # no git, not a repository, or a folder outside it: no repository history there
        for line in reversed(log.stdout.decode().splitlines()):   # oldest first: commits in one second stay in order
            sha, _, when = line.partition(" ")
            shown = _git(config.root, "show", f"{sha}:./{Path(os.path.relpath(path, config.root)).as_posix()}")
            if shown is None or shown.returncode != 0:
                continue   # deleted in that commit
            try:
                manifest = json.loads(shown.stdout)
            except ValueError:
                continue   # a broken manifest in an old commit is not the catalogue's to fix
            if isinstance(manifest, dict) and "nodes" in manifest:
                states.append(ContractState(datetime.fromisoformat(when), f"git {sha[:10]}", manifest, sha))
    return states


def contract_states(config: MeshConfig, target: str, domain: str, current: dict[str, Any]) -> list[ContractState]:
    """Each distinct state of the domain's public contracts, oldest first, at the first time it was seen."""
    found = _kept_states(config, target, domain) + _git_states(config, target, domain)
    found.append(ContractState(generated_at(current), "current", current))
    found.sort(key=lambda state: state.at or datetime.max.replace(tzinfo=UTC))
    distinct: list[ContractState] = []
    last = None
    for state in found:
        digest = contract_digest(state.manifest, domain)
        if digest != last:
            distinct.append(state)
            last = digest
    return distinct


def _versions(states: list[ContractState], snapshots: list[DomainSnapshot], models: list[str],
              domain: str) -> list[dict[str, Any]]:
    """Every public version of the product's models the history saw: when first and last seen, its deprecation."""
    seen: dict[str, dict[str, Any]] = {}
    for state, view in zip(states, snapshots, strict=True):
        for (name, version), contract in sorted(view.contracts.items(), key=lambda item: str(item[0])):
            if name not in models or not contract.public:
                continue
            entry = seen.setdefault(contract.info.label, {"id": contract.info.label, "model": name,
                                                          "version": version, "first_seen": _iso(state.at)})
            entry["deprecation_date"] = (contract.deprecation_date.date().isoformat()
                                         if contract.deprecation_date else None)
            entry["last_seen"] = _iso(state.at)
    current = {c.info.label for c in snapshots[-1].contracts.values() if c.public} if snapshots else set()
    for entry in seen.values():
        entry["status"] = "current" if entry["id"] in current else "removed"
        if entry["status"] == "current":
            entry["last_seen"] = None
    return list(seen.values())


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def product_history(states: list[ContractState], domain: str, models: list[str],
                    consumers: dict[str, DomainSnapshot]) -> dict[str, Any]:
    """The product's contract versions and the changes between consecutive states, newest first; `consumers`
    are the other domains as they read the product now, for the consumers each change hits."""
    rules = configured_rules({})   # every rule at its default: the history shows every change
    snapshots = [snapshot(domain, state.manifest, state.source) for state in states]
    changes = []
    for (before, old), (after, new) in pairwise(zip(states, snapshots, strict=True)):
        today = (after.at or datetime.now(UTC)).date()
        found = [c for c in classify({domain: old}, {domain: new}, today) if c.model in models]
        readers = {name: view for name, view in consumers.items() if name != domain} | {domain: new}
        findings = [f for f in Policy(rules, {domain: old}, readers, today).findings(found) if f.rule != NOTICE]
        if not findings:
            continue
        changes.append({
            "at": _iso(after.at), "source": after.source, "since": _iso(before.at),
            "commit": after.commit[:10] if after.commit else None, "uncommitted": after.uncommitted,
            "models": sorted({f.model for f in findings if f.model}),
            "breaking": any(f.classification == BREAKING for f in findings),
            "changes": [{"rule": f.rule, "model": f.model, "column": f.column, "classification": f.classification,
                         "reason": f.message, "hits": [hit.describe() for hit in f.hits]} for f in findings],
        })
    return {"first_recorded": _iso(states[0].at) if states else None,
            "states": len(states), "versions": _versions(states, snapshots, models, domain),
            "changes": changes[::-1]}
