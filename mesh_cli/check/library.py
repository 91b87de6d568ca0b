"""The governance library as the build reads it, checked once per `mesh check` (not per domain): a policy body the
engine cannot create, an entitlement of an undeclared role (core/policy_bodies.py). A library whose files are those
of a check that found nothing is not checked again: its verdict is kept under the state folder's cache, keyed by
the engine and the files' contents, so a check with governance unchanged pays neither the parse nor the engine."""

from __future__ import annotations

import hashlib

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.governance_library import GOVERNANCE_FILE
from mesh_cli.core.policy_bodies import library_problems
from mesh_cli.engines.registry import engine_for


def library_refusals(config: MeshConfig, domains: dict[str, Domain], target: str, *, cache: bool = True) -> list[str]:
    """What every build would refuse in the mesh's governance libraries, one line each; empty when nothing."""
    engine = engine_for(config, list(domains.values()), target)
    files = [config.root / GOVERNANCE_FILE, *(domains[name].path / "dbt_project.yml" for name in sorted(domains))]
    digest = hashlib.sha256(engine.adapter_type.encode())
    for path in files:
        digest.update(str(path).encode() + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
    verdict = config.state_dir / "cache" / "library" / digest.hexdigest()
    if cache and verdict.is_file():
        return []
    problems = library_problems(config.root, domains.values(), engine.policy_problems)
    if cache and not problems:
        verdict.parent.mkdir(parents=True, exist_ok=True)
        verdict.touch()
    return problems
