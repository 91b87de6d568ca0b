"""Where a domain's models live on each target of its profile, as ODCS `servers` entries."""

from __future__ import annotations

import os
from functools import partial
from typing import Any

import jinja2

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.yamlfile import read_mapping
from mesh_cli.engines.registry import ENGINES


def _render(value: Any, *, placeholders: bool) -> str:
    """A profile value with dbt's `env_var()` resolved from the environment; an unset variable gives its default,
    or `${NAME}` when `placeholders` is set."""
    def env_var(name: str, default: str | None = None) -> str:
        if name in os.environ:
            return os.environ[name]
        return f"${{{name}}}" if placeholders or default is None else default
    return jinja2.Environment(autoescape=False).from_string(str(value)).render(env_var=env_var)


def _setting(output: dict[str, Any], key: str) -> str:
    """A rendered profile setting; when it renders empty, the variables it needs as `${NAME}`."""
    value = _render(output.get(key, ""), placeholders=False)
    return value or _render(output.get(key, ""), placeholders=True)


def servers(config: MeshConfig, domain: Domain, schema: str) -> list[dict[str, Any]]:
    """One server per target of the domain's profile that runs on a supported engine, as the engine describes it."""
    profile = read_mapping(domain.path / "profiles.yml").get(domain.profile) or {}
    found = []
    for target, output in sorted((profile.get("outputs") or {}).items()):
        kind = output.get("type") if isinstance(output, dict) else None
        if kind in ENGINES:
            described = ENGINES[kind](config, target).server(domain.name, schema, partial(_setting, output))
            found.append({"server": target, **described, "environment": target})
    return found
