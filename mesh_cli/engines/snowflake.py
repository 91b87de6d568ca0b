"""The production engine: Snowflake, through dbt-snowflake (credentials from the domain profiles' env vars)."""

from __future__ import annotations

from mesh_cli.engines.base import Engine


class SnowflakeEngine(Engine):
    """Domains build into their Snowflake databases; cross-domain relations come from upstream manifests."""

    adapter_type = "snowflake"
