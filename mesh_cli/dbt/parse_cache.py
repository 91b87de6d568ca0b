"""A content-addressed cache of `dbt parse` results, so that `mesh check` parses only what changed.

A domain's parse is shaped by its project files, the shared package and mesh.yml, its upstreams' parses (the resolver
injects their public models), the target, the variables its profiles read, and the versions of dbt, its
adapter and the mesh's own resolver. The cache key is a hash of all of them, each upstream counted by its own
key, so a change anywhere reaches every domain downstream. Identical content has one key wherever it lives:
a git baseline's extracted tree and the working tree share the parses of every domain a change did not touch.

Entries live in `<state folder>/cache/parse/<target>/<domain>/<key>/manifest.json` (the manifest without what
the mesh never reads, such as dbt's macros) with its model index; the few most recently used per domain are
kept. Each domain also keeps a `work/` folder where dbt parses the working tree with partial
parsing, so re-checking after an edit re-reads only the edited files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from functools import cache
from importlib import metadata
from pathlib import Path

import orjson

from mesh_cli.core.config import MESH_FILE, STATE_DIR_ENV, MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.governance_library import CROSS_ACCOUNT_ENV, GOVERNANCE_FILE, LIBRARY_ENV, TOPOLOGY_ENV
from mesh_cli.core.lock import WAIT_ENV
from mesh_cli.core.manifest import load_manifest
from mesh_cli.core.model_index import write_model_index
from mesh_cli.core.state import fingerprint
from mesh_cli.core.store import LEASE_SECONDS_ENV, STORE_ENV
from mesh_cli.dbt.invoke import KEEP_WORKERS_ENV
from mesh_cli.engines.registry import ENGINES

MANIFEST = "manifest.json"
KEEP = 3   # entries per domain: the working tree's, the baseline's, and one before
# What the check and the resolver never read, left out of the cache: a third of a manifest is dbt's macros.
UNREAD = {"macros", "docs", "parent_map", "child_map", "group_map"}
# Folders of local files, which differ between an extracted baseline and the working tree but shape no parse; what
# the dbt plugin derives from governance.yml, mesh.yml and domain.yml, which the key hashes already; how workers are
# kept; where deployed records are kept, and how long a deploy's lease or a command's wait lasts.
_UNKEYED_ENV = {STATE_DIR_ENV, LIBRARY_ENV, TOPOLOGY_ENV, CROSS_ACCOUNT_ENV, KEEP_WORKERS_ENV, STORE_ENV,
                LEASE_SECONDS_ENV, WAIT_ENV,
                *(name for engine in ENGINES.values() for name in engine.local_dirs_env)}


def tool_sources() -> list[Path]:
    """The mesh's own code a parse runs: every module of mesh_cli and the dbt plugin module beside it."""
    package_dir = Path(__file__).resolve().parent.parent   # mesh_cli/
    return sorted(path for path in [*package_dir.rglob("*.py"), package_dir.parent / "dbt_data_mesh.py"]
                  if path.is_file())


@cache
def _tool_digest() -> str:
    """The versions of dbt and of the mesh's own code (every module: the resolver runs inside each parse)."""
    digest = hashlib.sha256()
    for package in ("dbt-core", *sorted(engine.dbt_package for engine in ENGINES.values())):
        try:
            digest.update(f"{package}=={metadata.version(package)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} missing\0".encode())
    for path in tool_sources():
        digest.update(path.read_bytes())
    return digest.hexdigest()


def parse_keys(config: MeshConfig, domains: list[Domain], target: str, adapter: str, env: dict[str, str],
               fingerprints: dict[str, str] | None = None) -> dict[str, str]:
    """The cache key of each domain's parse; `domains` in build order (upstreams first). `fingerprints` give
    the files' checksum of domains known to be identical to a tree where it was computed (a git baseline's
    untouched domains, whose files need not be read)."""
    known = fingerprints or {}
    mesh_file = config.root / MESH_FILE   # the resolver reads it (where domains are, how shares are laid out)
    library = config.root / GOVERNANCE_FILE   # the package reads it (tags, policies, roles)
    settings = hashlib.sha256(b"".join(f.read_bytes() for f in (mesh_file, library) if f.is_file())).hexdigest()
    shaping_env = {name: value for name, value in sorted(env.items()) if name not in _UNKEYED_ENV}
    keys: dict[str, str] = {}
    for domain in domains:
        upstreams = {name: keys.get(name, "outside the parse") for name in sorted(domain.upstreams)}
        files = known.get(domain.name) or fingerprint(config, domain)
        text = json.dumps({"files": files, "upstreams": upstreams, "mesh": settings, "target": target,
                           "adapter": adapter, "env": shaping_env, "tools": _tool_digest()}, sort_keys=True)
        keys[domain.name] = hashlib.sha256(text.encode()).hexdigest()
    return keys


class ParseCache:
    """The parse cache of one target: `lookup` a key, `store` a fresh parse, `work_dir` for partial parsing."""

    def __init__(self, folder: Path, *, partial_parse: bool = True) -> None:
        self.folder = folder
        self.partial_parse = partial_parse   # off for trees that live only for one run (a git baseline)

    @classmethod
    def of(cls, config: MeshConfig, target: str, *, partial_parse: bool = True) -> ParseCache:
        return cls(config.state_dir / "cache" / "parse" / target, partial_parse=partial_parse)

    def _entry(self, domain: str, key: str) -> Path:
        return self.folder / domain / key

    def lookup(self, domain: str, key: str) -> Path | None:
        """The cached manifest of this parse, if any (marked as just used)."""
        entry = self._entry(domain, key)
        manifest = entry / MANIFEST
        if not manifest.is_file():
            return None
        os.utime(entry)
        return manifest

    def store(self, domain: str, key: str, parsed: Path) -> Path:
        """Keep a successful parse's manifest (with its model index) under `key`; returns the cached manifest."""
        entry = self._entry(domain, key)
        staging = entry.with_name(f".{key}.{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        manifest = {name: value for name, value in load_manifest(parsed).items() if name not in UNREAD}
        (staging / MANIFEST).write_bytes(orjson.dumps(manifest))
        write_model_index(staging, manifest)
        shutil.rmtree(entry, ignore_errors=True)
        staging.replace(entry)
        self._prune(domain)
        return entry / MANIFEST

    def work_dir(self, domain: str) -> Path:
        """Where dbt parses this domain of the working tree (its partial-parse file stays there)."""
        return self.folder / domain / "work"

    def _prune(self, domain: str) -> None:
        entries = [p for p in (self.folder / domain).iterdir()
                   if p.is_dir() and p.name != "work" and not p.name.startswith(".")]
        for stale in sorted(entries, key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]:
            shutil.rmtree(stale, ignore_errors=True)
