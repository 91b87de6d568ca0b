"""A dbt-duckdb plugin that sets the roles of every DuckDB session dbt opens.

The governance emulation reads the session's roles from the DuckDB variable `mesh_roles` (as Snowflake's
policies read the roles in session). A domain profile names its build roles:

    plugins:
      - module: mesh_cli.engines.duckdb_session
        config: {roles: [CUSTOMERS_DEPLOYER]}
"""

from __future__ import annotations

from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from mesh_cli.engines.duckdb_roles import set_expanded_roles_sql, set_roles_sql


class Plugin(BasePlugin):
    """Sets `mesh_roles` on the connection and on every cursor dbt-duckdb hands out."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        roles = plugin_config.get("roles") or []
        if not isinstance(roles, list):
            raise ValueError("the mesh_cli.engines.duckdb_session plugin takes `roles:` as a list")
        self.roles = [str(role) for role in roles]
        set_roles_sql(self.roles)  # validates the names

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
