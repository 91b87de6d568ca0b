"""The production engine: Snowflake, through dbt-snowflake for builds and the Python connector (or a Snowpark
session) for what the mesh reconciles itself: shares, provisioning, ingestion objects.

Credentials come from the same environment variables the domain profiles read (see README), so one set of
variables serves dbt and the mesh.
"""

from __future__ import annotations

import os
from typing import Any

from mesh_cli.core.errors import MeshError
from mesh_cli.core.plan import ShowTooLarge, show_statement
from mesh_cli.engines.base import Engine

CONNECTION_ENV = {
    "account": "SNOWFLAKE_ACCOUNT",
    "user": "SNOWFLAKE_USER",
    "password": "SNOWFLAKE_PASSWORD",
    "authenticator": "SNOWFLAKE_AUTHENTICATOR",
    "private_key_file": "SNOWFLAKE_PRIVATE_KEY_PATH",
    "role": "SNOWFLAKE_ROLE",
    "warehouse": "SNOWFLAKE_WAREHOUSE",
    "host": "SNOWFLAKE_HOST",
    "port": "SNOWFLAKE_PORT",
    "protocol": "SNOWFLAKE_PROTOCOL",
}
# "The result set size exceeded the max number of rows(10000) supported for SHOW statements"
SHOW_TOO_LARGE = 90153


def connection_parameters(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Connector parameters from the environment; SNOWFLAKE_ACCOUNT is required."""
    environ = dict(os.environ if environ is None else environ)
    if not environ.get("SNOWFLAKE_ACCOUNT"):
        raise MeshError("SNOWFLAKE_ACCOUNT is not set: the prod target needs Snowflake credentials in the "
                        "environment (see README, 'Production: Snowflake'); use --plan for an offline plan")
    parameters: dict[str, Any] = {key: environ[name] for key, name in CONNECTION_ENV.items() if environ.get(name)}
    if "port" in parameters:
        parameters["port"] = int(parameters["port"])
    return parameters


class SnowflakeEngine(Engine):
    """Domains build into their Snowflake databases; cross-domain relations come from upstream manifests."""

    adapter_type = "snowflake"

    def __init__(self, config: Any, target: str, connection: Any = None) -> None:
        super().__init__(config, target)
        self._connection = connection

    @property
    def connection(self) -> Any:
        """A connector connection (opened on first use from the environment, or the one given)."""
        if self._connection is None:
            import snowflake.connector

            self._connection = snowflake.connector.connect(**connection_parameters())
        return self._connection

    def execute(self, sql: str) -> list[dict[str, Any]]:
        """Run one statement; rows as dicts with lower-case keys."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)
            if cursor.description is None:
                return []
            names = [column[0].lower() for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def state_reader(self) -> SnowflakeState:
        return SnowflakeState(self)


class SnowflakeState:
    """A StateReader over a live account: each `show` is one SHOW statement; one Snowflake refuses for its size
    raises ShowTooLarge, so that the plan reads narrower scopes."""

    def __init__(self, engine: SnowflakeEngine) -> None:
        self.engine = engine
        self.queries = 0

    def show(self, kind: str, scope: str | None = None, like: str | None = None) -> list[dict[str, Any]]:
        self.queries += 1
        sql = show_statement(kind, scope, like)
        try:
            return self.engine.execute(sql)
        except Exception as exc:  # the connector's error; only its error number tells a refusal for size apart
            if getattr(exc, "errno", None) == SHOW_TOO_LARGE:
                raise ShowTooLarge(f"{sql}: Snowflake lists at most 10,000 rows per SHOW") from exc
            raise
