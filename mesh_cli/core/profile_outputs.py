"""dbt profile outputs as `mesh init --adopt` reads and writes them, in terms no engine owns: the engine of an
output says what stands in the way of building it with the mesh, and writes the output `local` that builds a
project on the mesh's local engine (`Engine.profile_problems`, `Engine.output_collisions`,
`Engine.local_profile_output`; docs/engines.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProfileOutput:
    """One adopted project's output of the target the mesh builds on."""

    project: str
    folder: Path                  # the project's folder, where plain dbt resolves the output's relative paths
    rendered: dict[str, Any]      # as dbt renders it (env_var with its default)
    written: dict[str, Any]       # as written in profiles.yml, templates unrendered
    upstreams: tuple[str, ...]    # the adopted projects it reads


@dataclass(frozen=True)
class ProfileProblem:
    """What stands in the way of building a project's output with the mesh, and its fix. `edit` is (text in the
    project's profiles.yml, its replacement) when the fix is that one literal replacement, safe to make."""

    project: str
    problem: str
    fix: str
    edit: tuple[str, str] | None = None


@dataclass(frozen=True)
class LocalOutput:
    """A profile output building one project with the mesh on the local engine, its upstreams readable."""

    lines: list[str]     # its YAML below the output's name, one line each, not indented
    holds: str           # what it keeps of its own, in words ("its own file shop.duckdb"), for the fix naming it
