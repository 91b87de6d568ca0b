"""The production engine: Snowflake, through dbt-snowflake for builds and the Python connector (or a Snowpark
session) for what the mesh reconciles itself: shares, provisioning, ingestion objects.

Credentials come from the same environment variables the domain profiles read (see README), so one set of
variables serves dbt and the mesh.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import EngineError, MeshError
from mesh_cli.core.ingest_spec import IngestTable
from mesh_cli.core.plan import Plan, ShowTooLarge, StateReader, show_statement
from mesh_cli.core.profiles import target_database
from mesh_cli.core.types import DataType
from mesh_cli.engines.base import Engine
from mesh_cli.engines.snowflake_provision import SnowflakeProvisioner
from mesh_cli.engines.snowflake_shares import SnowflakeShareStatements
from mesh_cli.engines.snowflake_types import snowflake_type

# dbt-snowflake profile key -> snowflake-connector argument
# (https://docs.getdbt.com/docs/core/connect-data-platform/snowflake-setup,
#  https://docs.snowflake.com/en/developer-guide/python-connector/python-connector-api#connect)
PROFILE_KEYS = {
    "account": "account", "user": "user", "password": "password", "authenticator": "authenticator",
    "private_key_path": "private_key_file", "private_key_passphrase": "private_key_file_pwd", "token": "token",
    "oauth_client_id": "oauth_client_id", "oauth_client_secret": "oauth_client_secret",
    "role": "role", "warehouse": "warehouse", "database": "database", "schema": "schema",
    "host": "host", "port": "port", "protocol": "protocol", "insecure_mode": "insecure_mode",
    "client_session_keep_alive": "client_session_keep_alive", "connect_timeout": "login_timeout",
}
# The variables the domain profiles read for each profile key (README, 'Production: Snowflake').
PROFILE_ENV = {
    "account": "SNOWFLAKE_ACCOUNT", "user": "SNOWFLAKE_USER", "password": "SNOWFLAKE_PASSWORD",
    "authenticator": "SNOWFLAKE_AUTHENTICATOR", "private_key_path": "SNOWFLAKE_PRIVATE_KEY_PATH",
    "role": "SNOWFLAKE_ROLE", "warehouse": "SNOWFLAKE_WAREHOUSE", "host": "SNOWFLAKE_HOST",
    "port": "SNOWFLAKE_PORT", "protocol": "SNOWFLAKE_PROTOCOL",
}
_NUMBERS = {"port", "login_timeout"}
# "The result set size exceeded the max number of rows(10000) supported for SHOW statements"
SHOW_TOO_LARGE = 90153


def environment_profile(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Snowflake profile output the domain profiles render from the environment (set variables only)."""
    env = os.environ if environ is None else environ
    return {key: env[name] for key, name in PROFILE_ENV.items() if env.get(name)}


def connection_parameters(profile: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """snowflake-connector arguments from a dbt-snowflake profile output (rendered; by default the one the
    environment gives): the one place credentials are mapped. `query_tag` becomes a session parameter; an empty
    value is left out; `account` is required."""
    profile = environment_profile() if profile is None else profile
    if not profile.get("account"):
        raise MeshError("SNOWFLAKE_ACCOUNT is not set: the prod target needs Snowflake credentials in the "
                        "environment (see README, 'Production: Snowflake'); use --plan for an offline plan")
    parameters: dict[str, Any] = {}
    for key, argument in PROFILE_KEYS.items():
        value = profile.get(key)
        if value is not None and value != "":
            parameters[argument] = int(value) if argument in _NUMBERS else value
    if profile.get("query_tag"):
        parameters["session_parameters"] = {"QUERY_TAG": profile["query_tag"]}
    return parameters


def connect(profile: Mapping[str, Any] | None = None) -> Any:
    """A connector connection from a dbt-snowflake profile output (see `connection_parameters`)."""
    import snowflake.connector

    parameters = connection_parameters(profile)
    try:
        return snowflake.connector.connect(**parameters)
    except snowflake.connector.errors.Error as exc:
        raise SnowflakeEngine.wrap_error(exc) from exc


class SnowflakeEngine(Engine):
    """Domains build into their Snowflake databases; cross-domain relations come from upstream manifests."""

    adapter_type = "snowflake"
    dbt_package = "dbt-snowflake"
    embedded = False
    # "CREATE OR REPLACE TABLE drops the grants on the old table unless it says COPY GRANTS"
    # (https://docs.snowflake.com/en/sql-reference/sql/create-table, COPY GRANTS; create-view likewise)
    replace_drops_grants = True
    share_statements = SnowflakeShareStatements()
    mounts_shares = True        # account per domain: a consumer reads an upstream's products from its mounted share
    sqlglot_dialect = "snowflake"
    accounts_follow_topology = True   # https://docs.snowflake.com/en/user-guide/organizations-manage-accounts

    def __init__(self, config: Any, target: str, connection: Any = None) -> None:
        super().__init__(config, target)
        self._connection = connection

    @property
    def connection(self) -> Any:
        """A connector connection (opened on first use from the environment, or the one given)."""
        if self._connection is None:
            self._connection = connect()
        return self._connection

    def with_connection(self, connection: Any) -> SnowflakeEngine:
        return SnowflakeEngine(self.config, self.target, connection)

    @property
    def offline_reason(self) -> str | None:
        if self._connection is not None:
            return None
        try:
            connection_parameters()
        except MeshError as exc:
            return str(exc)
        return None

    @classmethod
    def driver_errors(cls) -> tuple[type[BaseException], ...]:
        import snowflake.connector

        return (snowflake.connector.errors.Error,)

    def execute(self, sql: str) -> list[dict[str, Any]]:
        """Run one statement; rows as dicts with lower-case keys."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)
            if cursor.description is None:
                return []
            names = [column[0].lower() for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except self.driver_errors() as error:
            raise self.wrap_error(error) from error
        finally:
            cursor.close()

    def provisioner(self, *, plan_only: bool) -> SnowflakeProvisioner:
        return SnowflakeProvisioner(self, plan_only=plan_only)

    def state_reader(self) -> SnowflakeState:
        return SnowflakeState(self)

    def plan_ingestion(self, domain: Domain, tables: list[IngestTable], reader: StateReader, *, full_refresh: bool,
                       offline: bool) -> Plan:
        """Stages, file formats, landing tables, pipes, external tables and Kafka views in the database of the
        domain's target, then this run's loads (engines/snowflake_ingest.py)."""
        from mesh_cli.engines.snowflake_ingest import plan_domain

        return plan_domain(domain.name, tables, target_database(domain, self.target), reader, full_refresh,
                           offline=offline)

    @classmethod
    def spell_type(cls, data_type: DataType) -> str | None:
        return snowflake_type(data_type)

    def server(self, domain: str, schema: str, setting: Callable[[str], str]) -> dict[str, Any]:
        return {"type": self.adapter_type, "account": setting("account"), "database": setting("database"),
                "schema": schema, "warehouse": setting("warehouse")}


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
        except EngineError as exc:  # only the error number tells a refusal for size apart
            if exc.code == SHOW_TOO_LARGE:
                raise ShowTooLarge(f"{sql}: Snowflake lists at most 10,000 rows per SHOW") from exc
            raise
