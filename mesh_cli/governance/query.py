"""`mesh query`: one read-only SELECT against a domain's database, as given roles, so governance can be seen acting.

The session previews Snowflake's behaviour; it is no security boundary for someone holding the database files.
Within it: exactly one SELECT (anything else is refused) reading only what the role could read on Snowflake
(`query_scope.py`: governed and public relations, never the clear storage), only roles the databases know, no file
access outside the attached databases, and a locked configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.errors import EngineError, MeshError
from mesh_cli.core.lock import wait_for_writers
from mesh_cli.engines.registry import engine_for
from mesh_cli.governance.query_scope import check_reads, query_scope


@dataclass(frozen=True)
class QueryResult:
    """Column names, rows (at most the limit asked for), whether more rows were left out, and the roles in
    session (those given and every role they inherit)."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    roles: list[str]


def run_query(config: MeshConfig, domain_name: str, sql: str, roles: list[str], target: str,
              limit: int = 100) -> QueryResult:
    """Run `sql` read-only in the domain's database with its upstreams attached, as `roles`."""
    domains = discover_domains(config)
    if domain_name not in domains:
        raise MeshError(f"no domain named {domain_name!r}; domains: {', '.join(sorted(domains))}")
    domain = domains[domain_name]
    engine = engine_for(config, [domain], target)
    if not engine.embedded:   # the engine cannot do this: exit 1, as provision, ingest and publish say it
        raise EngineError(f"mesh query reads the embedded engine's databases; target {target!r} is "
                          f"{engine.adapter_type}: query it with your own client and role")
    wait_for_writers(config.state_dir)   # a build writing the databases: wait for it, then name it
    with engine.connect(domain, roles=roles, locked=True) as connection:
        engine.check_single_select(connection, sql)
        share = check_reads(sql, query_scope(config, target, domain,
                                             [domains[u] for u in domain.upstreams if u in domains], engine,
                                             connection))
        if share is not None:     # account per domain: an upstream's product, read as its share's consumer
            engine.read_through_share(connection, *share)
        try:
            cursor = connection.execute(sql)
        except engine.driver_errors() as exc:  # bad SQL, or a write to the read-only database
            raise MeshError(f"query failed in {domain_name}: {str(exc).splitlines()[0]}") from exc
        if cursor.description is None:
            raise MeshError("the statement returned no rows; mesh query runs read-only SELECT statements")
        columns = [column[0] for column in cursor.description]
        rows = cursor.fetchmany(limit + 1)
        in_session = engine.session_roles(connection)
    return QueryResult(columns, [tuple(row) for row in rows[:limit]], len(rows) > limit, in_session)
