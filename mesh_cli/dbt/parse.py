"""`dbt parse` of domains, upstreams first: manifests without a warehouse.

A downstream's parse needs its upstreams' manifests (the cross-domain ref resolver reads them). Parsed into a
separate state folder (`state_dir`), every domain sees its upstreams exactly as just parsed, never an older
build's manifest; without one, manifests land in each domain's `target/` as with plain `dbt parse`.

Domains whose upstreams are parsed run at the same time, up to `jobs`, in the process's shared dbt workers.
With a `ParseCache` (which needs a `state_dir`), a domain whose parse key is cached is not parsed at all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mesh_cli.core.config import STATE_DIR_ENV, MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.manifest import load_manifest
from mesh_cli.core.scheduler import Tasks, run_tasks
from mesh_cli.dbt.invoke import DbtCall, DbtJob, DbtOutcome, prewarm_shared, run_shared, with_deps
from mesh_cli.dbt.parse_cache import ParseCache, parse_keys
from mesh_cli.engines.registry import engine_for

# Called with a domain whose parse failed and dbt's error; returns a manifest to stand in for it (so that its
# downstream can still be parsed) or raises.
Fallback = Callable[[Domain, str], dict[str, Any]]


def parsed_manifest_path(state_dir: Path, target: str, domain: str) -> Path:
    """Where `parse_domains(..., state_dir=...)` leaves a domain's manifest (the layout of the state folder)."""
    return state_dir / "state" / target / domain / "manifest.json"


class _Parser:
    """One `parse_domains` call: what each domain's parse looks like, and where its manifest ends up."""

    def __init__(self, config: MeshConfig, domains: list[Domain], target: str, state_dir: Path | None,
                 cache: ParseCache | None, fingerprints: dict[str, str] | None = None) -> None:
        if cache is not None and state_dir is None:
            raise ValueError("a parse cache needs a state folder")
        self.target = target
        self.state_dir = state_dir
        self.cache = cache
        engine = engine_for(config, domains, target)
        self.adapter = engine.adapter_type
        # The workers are shared and long-lived: every variable the profiles and the resolver read is passed as
        # the caller has it now (empty: unset), then this parse's own.
        self.env = {STATE_DIR_ENV: "",
                    **{k: v for k, v in os.environ.items() if k.startswith(("MESH_", "SNOWFLAKE_"))},
                    **engine.dbt_env(), "MESH_TARGET": target}
        if state_dir is not None:
            self.env[STATE_DIR_ENV] = str(state_dir)
        self.keys = (parse_keys(config, domains, target, self.adapter, self.env, fingerprints)
                     if cache is not None else {})

    def output(self, domain: Domain) -> Path:
        """Where this domain's parse leaves its manifest for its downstream to read."""
        if self.state_dir is None:
            return domain.path / "target" / "manifest.json"
        return parsed_manifest_path(self.state_dir, self.target, domain.name)

    def job(self, domain: Domain, cacheable: bool) -> DbtJob:
        args = ["parse", "--target", self.target]
        if self.cache is not None and cacheable and self.cache.partial_parse:
            args += ["--target-path", str(self.cache.work_dir(domain.name))]
        elif self.state_dir is not None:
            # A tree parsed once (a git baseline): nothing to gain from dbt's partial-parse file.
            args += ["--target-path", str(self.output(domain).parent), "--no-partial-parse"]
        return DbtJob(with_deps(domain.path, DbtCall(tuple(args), domain.path)), self.env, self.adapter)

    def parsed_file(self, domain: Domain, cacheable: bool) -> Path:
        if self.cache is not None and cacheable and self.cache.partial_parse:
            return self.cache.work_dir(domain.name) / "manifest.json"
        return self.output(domain)

    def lookup(self, domain: Domain) -> Path | None:
        return self.cache.lookup(domain.name, self.keys[domain.name]) if self.cache is not None else None

    def expose(self, domain: Domain, manifest: Path) -> None:
        """Make a cached manifest (and its model index) the one this domain's downstream reads, unless the
        parse already left its manifest there."""
        folder = self.output(domain).parent
        if folder.exists():
            return
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.symlink_to(manifest.parent, target_is_directory=True)

    def keep(self, domain: Domain, cacheable: bool) -> Path:
        """The manifest of a successful parse: stored in the cache when it may be, and exposed."""
        parsed = self.parsed_file(domain, cacheable)
        if self.cache is not None and cacheable:
            stored = self.cache.store(domain.name, self.keys[domain.name], parsed)
            self.expose(domain, stored)
            return stored
        if parsed != self.output(domain):
            self.output(domain).parent.mkdir(parents=True, exist_ok=True)
            self.output(domain).write_bytes(parsed.read_bytes())
        return self.output(domain)


def missing_parses(config: MeshConfig, domains: list[Domain], target: str, cache: ParseCache, *,
                   fingerprints: dict[str, str] | None = None) -> list[str]:
    """The domains (given upstreams first) whose parse is not in the cache."""
    parser = _Parser(config, domains, target, Path("unused"), cache, fingerprints)
    return [domain.name for domain in domains if parser.lookup(domain) is None]


def parse_domains(config: MeshConfig, domains: list[Domain], target: str, *, state_dir: Path | None = None,
                  fallback: Fallback | None = None, cache: ParseCache | None = None, jobs: int = 1,
                  fingerprints: dict[str, str] | None = None, load: Collection[str] | None = None,
                  on_manifest: Callable[[str, dict[str, Any]], None] | None = None,
                  known: dict[str, Path] | None = None) -> dict[str, dict[str, Any]]:
    """Parse `domains` (given upstreams first), up to `jobs` at a time; returns the manifest of each domain
    (of those in `load`, when given).

    An upstream outside `domains` is read from `state_dir` as it is. `fingerprints` stand in for the files of
    domains known to be identical elsewhere (see `parse_cache.parse_keys`). `known` manifests stand for the
    parse of their domain (a deployed build of the same files), like cache hits. A domain parsed against a
    fallback's manifest, or downstream of one, is neither looked up in nor stored in the cache. Cached
    manifests are read (and handed to `on_manifest`) while dbt parses the others.
    """
    if not domains:
        return {}
    parser = _Parser(config, domains, target, state_dir, cache, fingerprints)
    names = {domain.name for domain in domains}
    wanted = names if load is None else names.intersection(load)
    hits = dict(known or {})
    hits.update({d.name: hit for d in domains if d.name not in hits and (hit := parser.lookup(d)) is not None})
    if len(hits) < len(domains):
        prewarm_shared(min(jobs, len(domains) - len(hits)))
    manifests: dict[str, dict[str, Any]] = {}

    def read(name: str, path: Path) -> None:
        manifests[name] = load_manifest(path)
        if on_manifest is not None:
            on_manifest(name, manifests[name])

    unread: list[tuple[str, Path]] = []   # cached manifests still to load
    tainted: set[str] = set()   # parsed against a fallback's manifest: not cached
    cacheable: dict[str, bool] = {}
    by_name = {domain.name: domain for domain in domains}

    def start(name: str) -> Future[DbtOutcome] | None:
        """A parse running, or None for a cache hit (exposed now, read while dbt parses the others)."""
        domain = by_name[name]
        cacheable[name] = not tainted.intersection(domain.upstreams)
        if not cacheable[name]:
            tainted.add(name)
        elif name in hits:
            parser.expose(domain, hits[name])
            if name in wanted:
                unread.append((name, hits[name]))
            return None
        return threads.submit(run_shared, parser.job(domain, cacheable[name]))

    def finish(name: str, outcome: DbtOutcome | None) -> bool:
        """Keep a parsed manifest; a failed parse raises, or with a fallback goes on with its stand-in."""
        if outcome is None or outcome.ok:
            if outcome is not None:
                kept = parser.keep(by_name[name], cacheable[name])
                if name in wanted:
                    read(name, kept)
            return True
        error = outcome.error or "; ".join(outcome.failures) or "unknown error"
        if fallback is None:
            raise MeshError(f"dbt parse of {name} failed: {error}", path=by_name[name].path)
        manifests[name] = fallback(by_name[name], error)
        if on_manifest is not None:
            on_manifest(name, manifests[name])
        tainted.add(name)
        path = parser.output(by_name[name])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(manifests[name]), encoding="utf-8")
        return True

    def idle() -> bool:
        if unread:
            read(*unread.pop())
            return True
        return False

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as threads:
        tasks: Tasks[DbtOutcome, None] = Tasks(
            [d.name for d in domains], {d.name: d.upstreams for d in domains}, start, finish, idle=idle,
            instant=lambda name: name in hits and not tainted.intersection(by_name[name].upstreams))
        run_tasks(tasks, jobs)
    while unread:
        read(*unread.pop())
    return manifests
