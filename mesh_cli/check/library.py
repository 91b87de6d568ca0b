"""The governance library as the build reads it, checked once per `mesh check` (not per domain): a policy body the
engine cannot create, an entitlement of an undeclared role (core/policy_bodies.py). A library whose files are those
of a completed check that found nothing is not checked again: its verdict is kept under the state folder's cache,
keyed by the engine and the files' contents (written once the check completes: bad input changes nothing), so a
check with governance unchanged pays neither the parse nor the engine."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.governance_library import GOVERNANCE_FILE
from mesh_cli.core.policy_bodies import library_problems
from mesh_cli.engines.registry import engine_for


@dataclass(frozen=True)
class LibraryVerdict:
    """The library's refusals, and where a sound library's verdict is kept once the check completes (None: not
    kept, or already there)."""

    problems: list[str]
    keep_at: Path | None = None

    def keep(self) -> None:
        """Mark the library sound, so the next check with the same files does not check it again."""
        if self.keep_at is not None:
            self.keep_at.parent.mkdir(parents=True, exist_ok=True)
            self.keep_at.touch()


def library_refusals(config: MeshConfig, domains: dict[str, Domain], target: str, *,
                     cache: bool = True) -> LibraryVerdict:
    """What every build would refuse in the mesh's governance libraries, one line each (none when sound)."""
    engine = engine_for(config, list(domains.values()), target)
    files = [config.root / GOVERNANCE_FILE, *(domains[name].path / "dbt_project.yml" for name in sorted(domains))]
    digest = hashlib.sha256(engine.adapter_type.encode())
    for path in files:
        digest.update(str(path).encode() + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
    verdict = config.state_dir / "cache" / "library" / digest.hexdigest()
    if cache and verdict.is_file():
        return LibraryVerdict([])
    problems = library_problems(config.root, domains.values(), engine.policy_problems)
    return LibraryVerdict(problems, verdict if cache and not problems else None)
