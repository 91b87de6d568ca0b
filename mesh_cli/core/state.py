"""The mesh state folder: each domain's artifacts from its last successful build, per target, and their history:
the run results of the last `KEPT_RUNS` builds, failed ones included (core/run_record.py), and the manifest of
each of the last `KEPT_CONTRACTS` distinct states of the domain's public contracts (`history/runs/`,
`history/contracts/`, gzipped, named by dbt's `generated_at`)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from mesh_cli.core.config import MESH_FILE, MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_library import GOVERNANCE_FILE
from mesh_cli.core.manifest import load_manifest, public_models, unrunnable_tests
from mesh_cli.core.model_index import write_model_index
from mesh_cli.core.run_record import BuiltFrom, built_from, run_record
from mesh_cli.core.safe_io import copy_atomic, write_text_atomic
from mesh_cli.core.yamlfile import read_mapping

SOURCES = "sources.json"          # `dbt source freshness`'s results, which a build runs first where sources declare it
ARTIFACTS = ("manifest.json", "run_results.json", SOURCES)
FINGERPRINT = "fingerprint.json"
PUBLISH_FILE = "publish.json"     # what `mesh publish` last applied (shares/publish.py writes it)
_IGNORED_DIRS = {"target", "dbt_packages", "logs", "__pycache__", ".venv"}
_IGNORED_FILES = {"package-lock.yml", ".user.yml"}
# What shapes every domain's build beside its own files: the shared package, and the central governance library
# (its policies, roles and entitlements decide who reads what: an edit must rebuild and re-check every domain).
ROOT_PACKAGE_FILES = ("dbt_project.yml", "macros", "models", GOVERNANCE_FILE)
RUN_HISTORY, CONTRACT_HISTORY = Path("history/runs"), Path("history/contracts")
KEPT_RUNS, KEPT_CONTRACTS = 30, 20


def domain_state_dir(config: MeshConfig, target: str, domain: str) -> Path:
    return config.manifests_dir(target) / domain


def manifest_candidates(config: MeshConfig, target: str, domain: Domain) -> list[Path]:
    """Where a domain's manifest for `target` may be: the saved one of its last successful `mesh build`,
    then the one a plain dbt command left in its target/ folder (which may be of another target)."""
    return [path for path in (domain_state_dir(config, target, domain.name) / "manifest.json",
                              domain.path / "target" / "manifest.json") if path.is_file()]


def load_target_manifest(config: MeshConfig, target: str, domain: Domain,
                         adapter: str) -> tuple[Path, dict[str, Any]] | None:
    """The domain's manifest for `target`, if one built with `adapter` exists: a dev manifest left in
    target/ never stands in for prod."""
    for path in manifest_candidates(config, target, domain):
        manifest = load_manifest(path)
        if manifest.get("metadata", {}).get("adapter_type") == adapter:
            return path, manifest
    return None


def target_manifest(config: MeshConfig, target: str, domain: Domain, adapter: str) -> dict[str, Any] | None:
    """The manifest of `load_target_manifest` alone (None before the domain's first build or parse)."""
    found = load_target_manifest(config, target, domain, adapter)
    return found[1] if found else None


def published_products(config: MeshConfig, target: str, domain: str) -> dict[str, dict[str, Any]] | None:
    """The products of the domain's last publish on `target` (None before its first); an unreadable publish state
    is an error naming it."""
    path = domain_state_dir(config, target, domain) / PUBLISH_FILE
    return load_publish_record(path, domain) if path.is_file() else None


def load_publish_record(path: Path, domain: str) -> dict[str, dict[str, Any]]:
    """The products of a `publish.json` (`{"products": {"<product>": {...}}}`); a wrong shape names the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MeshError(f"cannot read the publish state ({exc}); run `mesh publish {domain}` to rewrite it",
                        path=path) from exc
    products = data.get("products") if isinstance(data, dict) else None
    if not isinstance(products, dict) or not all(isinstance(entry, dict) for entry in products.values()):
        raise MeshError("not a publish state (`products` must map product names to mappings); run "
                        f"`mesh publish {domain}` to rewrite it (rebuild)", path=path)
    return products


def shapes_build(relative: Path) -> bool:
    """Whether a file (relative to its project) counts for the fingerprint: not a build leftover."""
    return relative.name not in _IGNORED_FILES and not _IGNORED_DIRS.intersection(relative.parts)


def _project_files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    found = []
    for parent, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in _IGNORED_DIRS]
        found += [Path(parent, name) for name in files
                  if name not in _IGNORED_FILES and os.path.isfile(os.path.join(parent, name))]
    return sorted(found)


def _digest(root: Path, folders: list[Path]) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        if not folder.exists():
            continue
        for path in _project_files(folder):
            # a domain reached through a symlink lies outside the root: named from its own folder then
            relative = path.relative_to(root) if path.is_relative_to(root) else path.relative_to(folder.parent)
            digest.update(str(relative).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def package_digest(root: Path) -> str:
    """The shared package's files, read once however many domains are fingerprinted (again when one changed)."""
    stats = []
    for folder in [root / name for name in ROOT_PACKAGE_FILES]:
        for path in _project_files(folder) if folder.exists() else []:
            stat = path.stat()
            stats.append((str(path), stat.st_mtime_ns, stat.st_size))
    return _package_digest_of(root, tuple(stats))


@cache
def _package_digest_of(root: Path, stats: tuple[tuple[str, int, int], ...]) -> str:
    return _digest(root, [root / name for name in ROOT_PACKAGE_FILES])


def fingerprint(config: MeshConfig, domain: Domain) -> str:
    """A checksum of everything that shapes the domain's build: its project files, the shared package and the
    governance library, and the mesh's share settings (`access_digest`)."""
    own = _digest(config.root, [domain.path])
    shaping = f"{own}\0{package_digest(config.root)}\0{access_digest(config.root, domain)}"
    return hashlib.sha256(shaping.encode()).hexdigest()


def access_digest(root: Path, domain: Domain) -> str:
    """A checksum of what decides who reads the domain's models beside the governance library: its products and
    their consumers (domain.yml) and the mesh's `snowflake:` settings (topology, accounts, consumer roles). A
    change reaches models whose code did not change (which policy variants they carry, who is granted them), so
    `--changed` rebuilds the domain whole and publishes again."""
    path = root / MESH_FILE
    stat = path.stat() if path.is_file() else None
    settings = _share_settings(path, stat.st_mtime_ns, stat.st_size) if stat else "null"
    products = json.dumps(list(domain.products), sort_keys=True, default=str)
    return hashlib.sha256(f"{settings}\0{products}".encode()).hexdigest()


@cache
def _share_settings(path: Path, mtime_ns: int, size: int) -> str:
    """mesh.yml's `snowflake:` section as canonical JSON, read once however many domains are fingerprinted."""
    return json.dumps(read_mapping(path, default={}).get("snowflake"), sort_keys=True, default=str)


def saved_access_digest(config: MeshConfig, target: str, domain: str) -> str | None:
    """The `access_digest` the domain's saved build was built with."""
    digest = _fingerprint_record(domain_state_dir(config, target, domain) / FINGERPRINT).get("access")
    return digest if isinstance(digest, str) else None


def saved_package_digest(config: MeshConfig, target: str, domain: str) -> str | None:
    """The digest of the shared package and the governance library the domain's saved build was built with."""
    digest = _fingerprint_record(domain_state_dir(config, target, domain) / FINGERPRINT).get("package")
    return digest if isinstance(digest, str) else None


def saved_fingerprint(config: MeshConfig, target: str, domain: str) -> str | None:
    checksum = _fingerprint_record(domain_state_dir(config, target, domain) / FINGERPRINT).get("fingerprint")
    return checksum if isinstance(checksum, str) else None


def _fingerprint_record(path: Path) -> dict[str, Any]:
    """What a saved build recorded in its fingerprint.json (empty when there is none, or it does not read)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


UNRUNNABLE_TESTS = "unrunnable_tests.json"


def saved_unrunnable_tests(folder: Path) -> list[str]:
    """The tests dbt disabled in the saved build (a ref not found), as save_build noted them."""
    path = folder / UNRUNNABLE_TESTS
    return list(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else []


def save_build(config: MeshConfig, target: str, domain: Domain, checksum: str) -> Path:
    """Copy a successful build's artifacts into the state folder and keep its run in the history; returns the
    folder."""
    folder = domain_state_dir(config, target, domain.name)
    for name in ARTIFACTS:
        source = domain.path / "target" / name
        if source.is_file():
            copy_atomic(source, folder / name)
    origin = built_from(config.root, _shaping(config, domain))
    manifest = load_manifest(folder / "manifest.json") if (folder / "manifest.json").is_file() else None
    if manifest is not None:
        write_model_index(folder, manifest)
        (folder / UNRUNNABLE_TESTS).write_text(json.dumps(unrunnable_tests(manifest, domain.name)))
        if contract_digest(manifest, domain.name) != _newest_kept_digest(folder / CONTRACT_HISTORY, domain.name):
            _keep(folder / CONTRACT_HISTORY, (folder / "manifest.json").read_bytes(), manifest, KEPT_CONTRACTS,
                  origin)
    if (folder / "run_results.json").is_file():
        run_results = json.loads((folder / "run_results.json").read_text(encoding="utf-8"))
        _keep_run(folder, run_record(run_results, manifest, failed=False, reason=None, origin=origin))
    write_text_atomic(folder / FINGERPRINT, json.dumps({"fingerprint": checksum,
                                                        "commit": origin.commit if origin else None,
                                                        "mesh_file": mesh_file_digest(config.root),
                                                        "package": package_digest(config.root),
                                                        "access": access_digest(config.root, domain)}))
    return folder


def keep_failed_build(config: MeshConfig, target: str, domain: Domain, since: datetime, reason: str | None,
                      artifacts: tuple[dict[str, Any], dict[str, Any]] | None = None) -> None:
    """Keep a failed build of the domain in its run history, marked failed with its reason: its run results and
    manifest (`artifacts`, as the per-model tasks' merged ones; else those dbt's build wrote in the domain's target/
    since `since`, when the build began) and the source freshness written since, else an empty run (dbt's build did
    not run: ingestion, parsing or a refusal stopped it). The saved artifacts of the last successful build stay as
    they are."""
    folder = domain_state_dir(config, target, domain.name)
    written = domain.path / "target"
    run_results, manifest = artifacts or (_written_since(written / "run_results.json", since), None)
    if artifacts is None and run_results is not None:
        if (run_results.get("args") or {}).get("which") != "build":
            run_results = None
        manifest = _written_since(written / "manifest.json", since) if run_results is not None else None
    if _written_since(written / SOURCES, since) is not None:
        copy_atomic(written / SOURCES, folder / SOURCES)
    _keep_run(folder, run_record(run_results, manifest, failed=True, reason=reason,
                                 origin=built_from(config.root, _shaping(config, domain))))


def _written_since(path: Path, since: datetime) -> dict[str, Any] | None:
    """A dbt artifact, when it was generated at or after `since` (an older one is another command's)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        stamp = datetime.fromisoformat(str(data["metadata"]["generated_at"]).replace("Z", "+00:00"))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=since.tzinfo)
    return data if isinstance(data, dict) and stamp >= since else None


def _shaping(config: MeshConfig, domain: Domain) -> list[Path]:
    """What shapes the domain's build in the repository: its folder, the shared package and mesh.yml."""
    return [domain.path, *(config.root / name for name in ROOT_PACKAGE_FILES), config.root / MESH_FILE]


def _keep_run(folder: Path, record: dict[str, Any]) -> None:
    _keep(folder / RUN_HISTORY, json.dumps(record).encode(), record, KEPT_RUNS)


def mesh_file_digest(root: Path) -> str:
    """A checksum of mesh.yml, which shapes every domain's parse (its SQL dialect, its topology's relations)."""
    path = root / MESH_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def build_identity(checksum: str, mesh_file: str) -> str:
    """What a parse of a domain depends on beyond its upstreams: its files, the package and mesh.yml."""
    return f"{checksum}/{mesh_file}"


def saved_build_identity(path: Path) -> str | None:
    """The identity a saved build recorded in its fingerprint.json (None from a build that did not record one)."""
    saved = _fingerprint_record(path)
    checksum, mesh_file = saved.get("fingerprint"), saved.get("mesh_file")
    if not isinstance(checksum, str) or not isinstance(mesh_file, str):
        return None
    return build_identity(checksum, mesh_file)


def head_commit(root: Path) -> str | None:
    """The git commit the mesh's working tree is at (None outside git): a saved build says what it was built
    from, so a baseline folder of saved builds can tell a deployed domain it lacks from a new one."""
    try:
        done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=False)
    except OSError:   # no git on this machine
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def saved_commits(folder: Path) -> set[str]:
    """The commits the domains of a state folder (`<folder>/<domain>/fingerprint.json`) were built from."""
    commits = {_fingerprint_record(path).get("commit") for path in folder.glob(f"*/{FINGERPRINT}")}
    return {commit for commit in commits if isinstance(commit, str) and commit}


def contract_digest(manifest: dict[str, Any], domain: str) -> str:
    """A checksum of what the domain's public contracts promise: each public model version's access, versions,
    deprecation date, contract, constraints and columns, and the data tests on them."""
    models = {model.unique_id: model for model in public_models(manifest, domain)}
    promised = [[model.label, model.latest_version, model.access, str(model.deprecation_date),
                 model.contract_enforced, manifest["nodes"][uid].get("constraints"),
                 {name: [c.get("data_type"), c.get("constraints")] for name, c in model.columns.items()}]
                for uid, model in sorted(models.items())]
    tests = sorted(json.dumps([node.get("attached_node"), node.get("column_name"), node.get("test_metadata"),
                               (node.get("config") or {}).get("enabled")], sort_keys=True, default=str)
                   for node in manifest["nodes"].values()
                   if node.get("resource_type") == "test" and node.get("attached_node") in models)
    return hashlib.sha256(json.dumps([promised, tests], sort_keys=True, default=str).encode()).hexdigest()


def kept_files(folder: Path) -> list[Path]:
    """The files of a history folder, oldest first."""
    return sorted(folder.glob("*.json.gz")) if folder.is_dir() else []


def _newest_kept_digest(folder: Path, domain: str) -> str | None:
    kept = kept_files(folder)
    if not kept:
        return None
    try:
        manifest = json.loads(gzip.decompress(kept[-1].read_bytes()))
    except (OSError, ValueError):
        return None  # unreadable: the new state is kept anyway
    return contract_digest(manifest, domain) if isinstance(manifest, dict) and "nodes" in manifest else None


def _keep(folder: Path, content: bytes, data: dict[str, Any], limit: int, origin: BuiltFrom | None = None) -> None:
    """A gzipped copy of an artifact (`content`, whose JSON is `data`), named by its `generated_at`, with the git
    commit it was built from beside it (`NAME.commit`) when there is one; only the newest `limit` stay."""
    stamp = str((data.get("metadata") or {}).get("generated_at") or "")
    name = "".join(ch for ch in stamp if ch.isalnum()) or "undated"
    folder.mkdir(parents=True, exist_ok=True)
    if origin:
        write_text_atomic(folder / f"{name}.commit", origin.text())
    (folder / f"{name}.tmp").write_bytes(gzip.compress(content))
    (folder / f"{name}.tmp").replace(folder / f"{name}.json.gz")
    for old in kept_files(folder)[:-limit]:
        old.unlink()
        kept_commit_file(old).unlink(missing_ok=True)


def kept_commit_file(kept: Path) -> Path:
    """Where the commit of a kept artifact (`NAME.json.gz`) is written: `NAME.commit`."""
    return kept.with_name(kept.name.removesuffix(".json.gz") + ".commit")


def kept_commit(kept: Path) -> BuiltFrom | None:
    """The git commit a kept artifact was built from (and whether with uncommitted changes), when it was built in
    a git repository."""
    path = kept_commit_file(kept)
    return BuiltFrom.parse(path.read_text(encoding="utf-8")) if path.is_file() else None
