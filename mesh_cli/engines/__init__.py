"""Engines by dbt adapter type, and which one a domain's target uses."""

from __future__ import annotations

from mesh_cli.core.config import TARGET_ENV, MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.yamlfile import read_mapping
from mesh_cli.engines.base import Engine
from mesh_cli.engines.duckdb import DuckDBEngine
from mesh_cli.engines.snowflake import SnowflakeEngine
from mesh_cli.errors import MeshError

ENGINES: dict[str, type[Engine]] = {cls.adapter_type: cls for cls in (DuckDBEngine, SnowflakeEngine)}


def adapter_type(domain: Domain, target: str) -> str:
    """The adapter type of `target` in the domain's profiles.yml."""
    path = domain.path / "profiles.yml"
    profiles = read_mapping(path)
    profile = profiles.get(domain.profile)
    if not isinstance(profile, dict):
        raise MeshError(f"no profile named {domain.profile!r} for domain {domain.name}", path=path)
    output = (profile.get("outputs") or {}).get(target)
    if not isinstance(output, dict):
        known = ", ".join(sorted(profile.get("outputs") or {})) or "none"
        raise MeshError(f"profile {domain.profile!r} has no target {target!r} (targets: {known})", path=path)
    kind = output.get("type")
    if kind not in ENGINES:
        raise MeshError(f"target {target!r} of {domain.name} uses adapter {kind!r}; the mesh supports "
                        f"{', '.join(sorted(ENGINES))}", path=path)
    return kind


def target_args(domain: Domain, target: str) -> tuple[str, ...]:
    """The dbt arguments that select `target` when MESH_TARGET is set to it: none when the profile already
    follows MESH_TARGET (the mesh's profiles) or names `target` itself, so that dbt's partial-parse state is
    the same as that of a plain `dbt build` in the domain (dbt re-parses when `--target` differs); else
    `--target`."""
    profile = read_mapping(domain.path / "profiles.yml").get(domain.profile)
    chosen = str(profile.get("target", "")) if isinstance(profile, dict) else ""
    if chosen == target or TARGET_ENV in chosen:
        return ()
    return ("--target", target)


def engine_for(config: MeshConfig, domains: list[Domain], target: str) -> Engine:
    """The one engine the given domains use on `target` (a mesh build runs on one engine at a time)."""
    kinds = {adapter_type(domain, target) for domain in domains}
    if len(kinds) > 1:
        raise MeshError(f"target {target!r} mixes adapters {', '.join(sorted(kinds))} across domains; "
                        "every domain of one target must use the same engine")
    kind = kinds.pop() if kinds else "duckdb"
    return ENGINES[kind](config, target)


def release_connections(kind: str) -> None:
    ENGINES[kind].release_connections()


__all__ = ["ENGINES", "Engine", "adapter_type", "engine_for", "release_connections", "target_args"]
