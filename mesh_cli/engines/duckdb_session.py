"""A dbt-duckdb plugin that sets the roles of every DuckDB session dbt opens, and closes the session's side doors.

The governance emulation reads the session's roles from the DuckDB variable `mesh_roles` (as Snowflake's
policies read the roles in session). A domain profile names its build roles:

    plugins:
      - module: mesh_cli.engines.duckdb_session
        config: {roles: [CUSTOMERS_DEPLOYER]}

Once the profile's databases are attached (the first cursor dbt takes), the session reads files of its own
project only (`allowed_directories`: its seeds; `enable_external_access = false`, which DuckDB never turns back
on; on Snowflake a query reaches files only through a stage its role may use,
https://docs.snowflake.com/en/sql-reference/sql/copy-into-location) and its configuration is locked
(`lock_configuration = true`) unless the profile sets `settings:`, which dbt-duckdb applies again on every cursor.
Every statement dbt runs through the connection outside the nodes' judged SQL (hooks, `run_query` in Jinja) is
judged by `mesh_cli.core.compiled_guard` before it runs, so a hook cannot attach a database, set `mesh_roles` or
read another domain's storage. Landing files are read by `mesh ingest` in its own session.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from mesh_cli.core.compiled_guard import statement_refusal
from mesh_cli.engines.duckdb import DuckDBEngine
from mesh_cli.engines.duckdb_roles import set_expanded_roles_sql, set_roles_sql


def _project_dir() -> str:
    """The folder of the dbt project being run (its `--project-dir`, else the working folder)."""
    from dbt.flags import get_flags

    return os.path.abspath(getattr(get_flags(), "PROJECT_DIR", None) or ".")


def lock_session_sql(project_dir: str, lock: bool) -> list[str]:
    """Files of the project only, then (when `lock`) no configuration change."""
    folder = project_dir.rstrip("/").replace("'", "''") + "/"
    return [f"set allowed_directories = ['{folder}']", "set enable_external_access = false",
            *(["set lock_configuration = true"] if lock else [])]


def install_statement_guard() -> None:
    """Judge every statement dbt-duckdb runs before it runs (idempotent). It wraps a private dbt internal,
    `DuckDBConnectionManager.add_query` (dbt-adapters' `SQLConnectionManager.add_query`, every statement a hook or
    `run_query` sends), and reads `get_if_exists()`'s connection name: dbt has no hook for run-time SQL.
    Tested with dbt-core 1.10.11 and 1.11.16 (dbt-adapters 1.16.4 and 1.24.5, dbt-duckdb 1.10.0 and 1.11.1);
    tests/test_dbt_patches.py fails naming it when dbt changes it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt_common.exceptions import DbtRuntimeError

    if getattr(DuckDBConnectionManager.add_query, "data_mesh_guarded", False):
        return
    add_query = DuckDBConnectionManager.add_query

    @functools.wraps(add_query)
    def _add_query(self: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        connection = self.get_if_exists()
        refused = statement_refusal(sql, getattr(connection, "name", None), DuckDBEngine.sqlglot_dialect)
        if refused:
            raise DbtRuntimeError(refused)
        return add_query(self, sql, *args, **kwargs)

    setattr(_add_query, "data_mesh_guarded", True)                # noqa: B010 (marks the wrapper: installed once)
    setattr(DuckDBConnectionManager, "add_query", _add_query)     # noqa: B010


class Plugin(BasePlugin):
    """Sets `mesh_roles` on the connection and on every cursor dbt-duckdb hands out; locks the session."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        roles = plugin_config.get("roles") or []
        if not isinstance(roles, list):
            raise ValueError("the mesh_cli.engines.duckdb_session plugin takes `roles:` as a list")
        self.roles = [str(role) for role in roles]
        set_roles_sql(self.roles)  # validates the names
        install_statement_guard()

    def _set_roles(self, connection: Any) -> None:
        # Before the first on-run-start of a new database there is no role hierarchy yet: plain roles.
        try:
            connection.execute(set_expanded_roles_sql(self.roles))
        except duckdb.CatalogException:
            connection.execute(set_roles_sql(self.roles))

    def configure_connection(self, conn: Any) -> None:
        self._set_roles(conn)

    def configure_cursor(self, cursor: Any) -> None:
        self._set_roles(cursor)
        # The first cursor comes after the profile's attachments: lock the shared database instance once.
        if cursor.execute("select current_setting('enable_external_access')").fetchall()[0][0]:
            settings = getattr(getattr(self, "creds", None), "settings", None)
            for statement in lock_session_sql(_project_dir(), lock=not settings):
                cursor.execute(statement)
