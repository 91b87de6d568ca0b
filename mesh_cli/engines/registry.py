"""Engines by dbt adapter type, and which one a domain's target uses."""

from __future__ import annotations

import os

import jinja2

from mesh_cli.core.config import TARGET_ENV, MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.store import StateStore
from mesh_cli.core.yamlfile import read_mapping
from mesh_cli.engines.base import Engine
from mesh_cli.engines.duckdb import DuckDBEngine
from mesh_cli.engines.snowflake import SnowflakeEngine

ENGINES: dict[str, type[Engine]] = {cls.adapter_type: cls for cls in (DuckDBEngine, SnowflakeEngine)}
DEFAULT_ADAPTER = DuckDBEngine.adapter_type   # the embedded default, when no domain names an engine


def register(engine: type[Engine]) -> None:
    """Make `engine` the one for its adapter type (how a new engine joins; see docs/engines.md)."""
    ENGINES[engine.adapter_type] = engine


def engine_class(adapter: str) -> type[Engine]:
    """The engine of a dbt adapter type; an error naming the supported ones for another."""
    if adapter not in ENGINES:
        raise MeshError(f"adapter {adapter!r} is not a mesh engine; the mesh supports {', '.join(sorted(ENGINES))}")
    return ENGINES[adapter]


def previews_snowflake_sql(adapter: str) -> bool:
    """Whether the engine of a dbt adapter type runs Snowflake-written models through a transpile and the package's
    local preview macros (False for an adapter that is no mesh engine)."""
    engine = ENGINES.get(adapter)
    return engine is not None and engine.previews_snowflake_sql


def sqlglot_dialect(adapter: str) -> str | None:
    """sqlglot's name for the SQL the engine of a dbt adapter type runs (None for an adapter that is no mesh engine:
    sqlglot's generic SQL)."""
    engine = ENGINES.get(adapter)
    return engine.sqlglot_dialect if engine is not None else None


def emulates_governance(adapter: str) -> bool:
    """Whether the engine of a dbt adapter type emulates governance in its sessions (False for an adapter that is
    no mesh engine: nothing of the mesh's is emulated there)."""
    engine = ENGINES.get(adapter)
    return engine is not None and engine.emulates_governance


def install_statement_guards() -> None:
    """Have each engine's dbt adapter judge the statements a run issues, where the engine guards them."""
    for engine in ENGINES.values():
        engine.install_statement_guard()


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


def default_target(domain: Domain) -> str | None:
    """The target plain `dbt` picks in the domain without `--target`: its profile's `target:`, rendered with
    MESH_TARGET unset (None when that cannot be told: a profile template beyond `env_var`)."""
    profile = read_mapping(domain.path / "profiles.yml").get(domain.profile)
    chosen = profile.get("target") if isinstance(profile, dict) else None
    if chosen is None:
        return "default"   # dbt's own default target name
    def env_var(name: str, default: str | None = None) -> str:
        value = default if name == TARGET_ENV else os.environ.get(name, default)
        if value is None:
            raise jinja2.UndefinedError(name)
        return value
    try:
        return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(str(chosen)).render(env_var=env_var)
    except jinja2.TemplateError:
        return None


def target_args(domain: Domain, target: str) -> tuple[str, ...]:
    """The dbt arguments that select `target`: none when plain `dbt` picks it by default, so that dbt's
    partial-parse state is that of a plain `dbt build` in the domain (dbt parses again from scratch when
    `--target` differs); else `--target`, as plain dbt needs it too."""
    return () if default_target(domain) == target else ("--target", target)


def engine_for(config: MeshConfig, domains: list[Domain], target: str) -> Engine:
    """The one engine the given domains use on `target` (a mesh build runs on one engine at a time)."""
    kinds = {adapter_type(domain, target) for domain in domains}
    if len(kinds) > 1:
        raise MeshError(f"target {target!r} mixes adapters {', '.join(sorted(kinds))} across domains; "
                        "every domain of one target must use the same engine")
    kind = kinds.pop() if kinds else DEFAULT_ADAPTER
    return ENGINES[kind](config, target)


def release_connections(kind: str) -> None:
    """Free what dbt's adapter of `kind` keeps open (nothing for an adapter that is no mesh engine: its dbt run
    failed before connecting)."""
    engine = ENGINES.get(kind)
    if engine is not None:
        engine.release_connections()


def stage_store(location: str) -> StateStore:
    """The state store on a Snowflake stage `@DB.SCHEMA.STAGE[/path]` (deployed records, `state: stores:`)."""
    from mesh_cli.engines.snowflake_stage import StageStore

    return StageStore(location)


__all__ = [
    "DEFAULT_ADAPTER",
    "ENGINES",
    "Engine",
    "adapter_type",
    "default_target",
    "emulates_governance",
    "engine_class",
    "engine_for",
    "install_statement_guards",
    "previews_snowflake_sql",
    "register",
    "release_connections",
    "sqlglot_dialect",
    "stage_store",
    "target_args",
]
