"""Shares on Snowflake: their statements (`core.share_statements.ShareStatements`); the account they are read
from with SHOW and applied to is the engine's own (engines/account_backend.py).

Statements as documented: CREATE SHARE / ALTER SHARE ... ADD|REMOVE ACCOUNTS
(https://docs.snowflake.com/en/sql-reference/sql/create-share, alter-share); GRANT <privilege> ... TO SHARE and
GRANT DATABASE ROLE ... TO SHARE (https://docs.snowflake.com/en/sql-reference/sql/grant-privilege-share,
grant-database-role-share); CREATE / DROP DATABASE ROLE (create-database-role, drop-database-role, which revokes
every grant of it); CREATE ORGANIZATION LISTING (create-organization-listing); CREATE DATABASE ... FROM SHARE
(create-database); USE ROLE (use-role). The DuckDB engine emulates this same model (engines/duckdb_shares.py).
"""

from __future__ import annotations

from mesh_cli.core.sql_literals import snowflake_string


class SnowflakeShareStatements:
    """Snowflake's spelling of each share statement."""

    def create_share(self, share: str, comment: str) -> str:
        return f"CREATE SHARE {share} COMMENT = {snowflake_string(comment)}"

    def comment_share(self, share: str, comment: str) -> str:
        return f"ALTER SHARE {share} SET COMMENT = {snowflake_string(comment)}"

    def share_accounts(self, share: str, accounts: list[str], *, add: bool) -> str:
        return f"ALTER SHARE {share} {'ADD' if add else 'REMOVE'} ACCOUNTS = {', '.join(accounts)}"

    def drop_share(self, share: str) -> str:
        return f"DROP SHARE {share}"

    def grant(self, privilege: str, on: str, name: str, grantee_kind: str, grantee: str, *,
              revoke: bool = False) -> str:
        verb, to = ("REVOKE", "FROM") if revoke else ("GRANT", "TO")
        if on == "DATABASE_ROLE":
            return f"{verb} DATABASE ROLE {name} {to} {grantee_kind} {grantee}"
        return f"{verb} {privilege} ON {on} {name} {to} {grantee_kind} {grantee}"

    def create_database_role(self, role: str) -> str:
        return f"CREATE DATABASE ROLE IF NOT EXISTS {role}"

    def drop_database_role(self, role: str) -> str:
        return f"DROP DATABASE ROLE {role}"

    def create_listing(self, listing: str, share: str, manifest: str) -> str:
        return f"CREATE ORGANIZATION LISTING IF NOT EXISTS {listing} SHARE {share} AS $$\n{manifest}$$ PUBLISH = TRUE"

    def alter_listing(self, listing: str, manifest: str) -> str:
        # https://docs.snowflake.com/en/sql-reference/sql/alter-listing: `ALTER LISTING <name> AS '<manifest>'`,
        # the manifest dollar-quoted as CREATE takes it
        return f"ALTER LISTING {listing} AS $$\n{manifest}$$"

    def unpublish_listing(self, listing: str) -> str:
        return f"ALTER LISTING {listing} UNPUBLISH"

    def drop_listing(self, listing: str) -> str:
        # https://docs.snowflake.com/en/sql-reference/sql/drop-listing: only a DRAFT or UNPUBLISHED listing
        return f"DROP LISTING {listing}"

    def mount(self, database: str, share: str) -> str:
        return f"CREATE DATABASE {database} FROM SHARE {share}"

    def use_role(self, role: str) -> str:
        return f"USE ROLE {role}"
