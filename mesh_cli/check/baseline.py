"""The baseline of `mesh check`: the manifests of the deployed mesh, from a folder, a git ref or a stage.

- a folder: one subfolder per domain with its `manifest.json` — the state folder of a target
  (`.mesh/state/prod`), a copy of the whole `.mesh` folder, or of `.mesh/state`;
- a git ref: the mesh at that revision, parsed in a temporary worktree (`dbt parse`, no database);
- a Snowflake stage: the same layout as a folder, downloaded first.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesh_cli.core.config import MESH_FILE, MeshConfig, load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.manifest import load_manifest
from mesh_cli.errors import MeshError
from mesh_cli.parse import parse_domains


@dataclass
class Baseline:
    """The deployed mesh: each domain's manifest, and where they came from."""

    description: str
    manifests: dict[str, dict[str, Any]]


def _manifest_root(folder: Path, target: str) -> Path:
    for candidate in (folder / "state" / target, folder / target):
        if any(candidate.glob("*/manifest.json")):
            return candidate
    return folder


def from_folder(folder: Path, target: str, description: str | None = None) -> Baseline:
    """Manifests from `folder/<domain>/manifest.json` (also under `state/<target>/` or `<target>/`)."""
    if not folder.is_dir():
        raise MeshError(f"baseline folder {folder} does not exist")
    root = _manifest_root(folder, target)
    manifests = {}
    for path in sorted(root.glob("*/manifest.json")):
        manifest = load_manifest(path)
        name = (manifest.get("metadata") or {}).get("project_name") or path.parent.name
        manifests[str(name)] = manifest
    if not manifests:
        raise MeshError(f"no manifests in baseline folder {folder}: expected <domain>/manifest.json "
                        f"(e.g. a copy of .mesh/state/{target})")
    return Baseline(description or f"folder {folder}", manifests)


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise MeshError("--baseline-ref needs git on the PATH") from exc


def from_git_ref(config: MeshConfig, ref: str, target: str) -> Baseline:
    """The mesh at git revision `ref`, parsed in a temporary worktree (no database needed)."""
    top = _git(config.root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise MeshError(f"--baseline-ref needs a git repository, and {config.root} is not in one")
    commit = _git(config.root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        raise MeshError(f"git ref {ref!r} does not exist in {top.stdout.strip()} (in CI, fetch it first: "
                        "`git fetch origin main`, or check out with fetch-depth: 0)")
    sha = commit.stdout.strip()
    relative = config.root.relative_to(Path(top.stdout.strip()).resolve())
    scratch = Path(tempfile.mkdtemp(prefix="mesh-baseline-"))
    tree = scratch / "tree"
    added = _git(config.root, "worktree", "add", "--detach", str(tree), sha)
    if added.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise MeshError(f"cannot check out {ref} in a temporary worktree: {added.stderr.strip()}")
    try:
        root = tree / relative
        if not (root / MESH_FILE).is_file():
            raise MeshError(f"git ref {ref!r} has no {MESH_FILE} at {relative.as_posix() or '.'}")
        base = load_config(root)
        domains = discover_domains(base)
        graph = DomainGraph(domains)
        try:
            manifests = parse_domains(base, [domains[n] for n in graph.order(domains)], target,
                                      state_dir=scratch / "state")
        except MeshError as exc:
            raise MeshError(f"the baseline {ref} does not parse: {exc}") from exc
    finally:
        _git(config.root, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(scratch, ignore_errors=True)
    return Baseline(f"git ref {ref} ({sha[:12]})", manifests)


def from_stage(stage: str, target: str) -> Baseline:
    """Manifests downloaded from a Snowflake stage laid out like a folder."""
    from mesh_cli.engines.snowflake_stage import download_manifests

    with tempfile.TemporaryDirectory(prefix="mesh-stage-") as scratch:
        download_manifests(stage, Path(scratch))
        return from_folder(Path(scratch), target, f"stage {stage}")


def load_baseline(config: MeshConfig, target: str, *, folder: Path | None = None, ref: str | None = None,
                  stage: str | None = None) -> Baseline:
    """The baseline named by the options, else by `check: baseline:` in mesh.yml, else the state folder."""
    given = [name for name, value in (("--baseline", folder), ("--baseline-ref", ref),
                                      ("--baseline-stage", stage)) if value]
    if len(given) > 1:
        raise MeshError(f"give one baseline, not {' and '.join(given)}")
    if not given:
        settings = config.section("check").get("baseline") or {}
        if not isinstance(settings, dict) or set(settings) - {"dir", "ref", "stage"} or len(settings) > 1:
            raise MeshError("`check: baseline:` must be one of {dir: PATH}, {ref: GIT_REF}, {stage: @STAGE}",
                            path=config.root / MESH_FILE)
        folder = config.root / settings["dir"] if settings.get("dir") else None
        ref, stage = settings.get("ref"), settings.get("stage")
    if ref:
        return from_git_ref(config, str(ref), target)
    if stage:
        return from_stage(str(stage), target)
    if folder is None:
        folder = config.manifests_dir(target)
        if not any(folder.glob("*/manifest.json")):
            raise MeshError("no baseline: pass --baseline DIR (the deployed state folder), --baseline-ref REF or "
                            "--baseline-stage @STAGE, or set `check: baseline:` in mesh.yml "
                            f"(the default, the state folder {folder}, has no manifests)")
    return from_folder(folder, target)
