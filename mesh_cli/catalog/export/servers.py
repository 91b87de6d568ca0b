"""Where `datacontract test` reads a contract version on the export's target, as ODCS `servers` entries.

Where the engine's data is read in place (Snowflake) the server is the domain's database, read with the
connection's role. Where contract tests read copies (`Engine.contract_tests_read_copies`: DuckDB) the servers are
the test copies of each reader (test_copies.py): `<target>-producer`, the owner's full view, and
`<target>-consumer`, what a consuming domain's roles see.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

import jinja2

from mesh_cli.catalog.export.readers import PRODUCER, copy_path
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.profiles import target_output
from mesh_cli.engines.registry import ENGINES

READER_TEXT = {"producer": "The owner's full view: the stored rows, as `mesh export test-data` copies them.",
               "consumer": "What a consuming domain's roles see through the governed relation (row access and "
                           "masking applied), as `mesh export test-data` copies it."}


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


def servers(config: MeshConfig, domain: Domain, schema: str, target: str, readers: dict[str, list[str]],
            version_id: str) -> list[dict[str, Any]]:
    """The servers of one contract version on `target`, each as its engine describes it (none when the profile
    has no such target): the domain's database in place, read as the producer; where contract tests read copies,
    the test copy of each reader in place of the domain's database."""
    output = target_output(domain, target)
    if output.get("type") not in ENGINES:
        return []
    engine = ENGINES[output["type"]](config, target)
    described = engine.server(domain.name, schema, partial(_setting, output))
    if not engine.contract_tests_read_copies:
        return [{"server": target, **described, "environment": target,
                 "roles": [{"role": role, "access": "read"} for role in readers[PRODUCER]]}]
    found = []
    for reader, roles in readers.items():
        path = copy_path(engine, version_id, reader)
        found.append({"server": f"{target}-{reader}", **described, "environment": target,
                      "database": str(path.relative_to(config.root) if path.is_relative_to(config.root) else path),
                      "description": READER_TEXT[reader],
                      "roles": [{"role": role, "access": "read"} for role in roles]})
    return found
