"""`dbt parse` of domains, upstreams first: manifests without a warehouse.

A downstream's parse needs its upstreams' manifests (the cross-domain ref resolver reads them). Parsed into a
separate state folder (`state_dir`), every domain sees its upstreams exactly as just parsed, never an older
build's manifest; without one, manifests land in each domain's `target/` as with plain `dbt parse`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mesh_cli.core.config import STATE_DIR_ENV, MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.manifest import load_manifest
from mesh_cli.dbt_invoke import DbtCall, DbtJob, run_shared, with_deps
from mesh_cli.engines import engine_for
from mesh_cli.errors import MeshError

# Called with a domain whose parse failed and dbt's error; returns a manifest to stand in for it (so that its
# downstream can still be parsed) or raises.
Fallback = Callable[[Domain, str], dict[str, Any]]


def parsed_manifest_path(state_dir: Path, target: str, domain: str) -> Path:
    """Where `parse_domains(..., state_dir=...)` leaves a domain's manifest (the layout of the state folder)."""
    return state_dir / "state" / target / domain / "manifest.json"


def parse_domains(config: MeshConfig, domains: list[Domain], target: str, *, state_dir: Path | None = None,
                  fallback: Fallback | None = None) -> dict[str, dict[str, Any]]:
    """Parse `domains` in the given order (upstreams first); returns each domain's manifest."""
    if not domains:
        return {}
    engine = engine_for(config, domains, target)
    # The worker is shared and started once: every variable the profiles and the resolver read is passed as the
    # caller has it now (empty: unset), then this parse's own.
    env = {STATE_DIR_ENV: "",
           **{name: value for name, value in os.environ.items() if name.startswith(("MESH_", "SNOWFLAKE_"))},
           **engine.dbt_env(), "MESH_TARGET": target}
    if state_dir is not None:
        env[STATE_DIR_ENV] = str(state_dir)
    manifests: dict[str, dict[str, Any]] = {}
    for domain in domains:
        args = ["parse", "--target", target]
        if state_dir is not None:
            # Plugin-injected upstream nodes are not tracked by partial parsing: always parse in full.
            args += ["--target-path", str(parsed_manifest_path(state_dir, target, domain.name).parent),
                     "--no-partial-parse"]
        calls = with_deps(domain.path, DbtCall(tuple(args), domain.path))
        outcome = run_shared(DbtJob(calls, env, engine.adapter_type))
        path = (parsed_manifest_path(state_dir, target, domain.name) if state_dir is not None
                else domain.path / "target" / "manifest.json")
        if outcome.ok:
            manifests[domain.name] = load_manifest(path)
            continue
        error = outcome.error or "; ".join(outcome.failures) or "unknown error"
        if fallback is None:
            raise MeshError(f"dbt parse of {domain.name} failed: {error}", path=domain.path)
        manifests[domain.name] = fallback(domain, error)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(manifests[domain.name]), encoding="utf-8")
    return manifests
