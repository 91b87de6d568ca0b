"""What a domain's dbt profile says about a target: its output, and the database it builds into."""

from __future__ import annotations

import os
from typing import Any

import jinja2

from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.identifiers import qualified
from mesh_cli.core.yamlfile import read_mapping


def target_output(domain: Domain, target: str) -> dict[str, Any]:
    """The `target` output of the domain's profile in its profiles.yml, as written (empty when there is none)."""
    output = ((read_mapping(domain.path / "profiles.yml").get(domain.profile) or {}).get("outputs") or {}).get(target)
    return output if isinstance(output, dict) else {}


def target_database(domain: Domain, target: str) -> str:
    """The database of the domain's `target` output, rendered like dbt renders it (`env_var`)."""
    written = target_output(domain, target).get("database")
    if not isinstance(written, str):
        raise MeshError(f"target {target!r} of profile {domain.profile!r} has no `database`",
                        path=domain.path / "profiles.yml")
    rendered = jinja2.Environment(autoescape=False).from_string(written).render(
        env_var=lambda name, default=None: os.environ.get(name, default))
    return qualified(rendered, what="database")
