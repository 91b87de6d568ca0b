"""The statements of the share model, in an engine's own language, from engine-neutral parts: what an engine that
publishes data products implements (`Engine.share_statements`), so that the share plan (mesh_cli.shares.diff)
holds no engine's SQL.

The model is Snowflake's (https://docs.snowflake.com/en/user-guide/data-sharing-provider): a share holds
privileges on a database, its schemas and objects and database roles, and is added to consumer accounts; a
database role holds privileges and is granted to roles; a listing offers a share; a consumer mounts a share as a
database. Names arrive qualified and upper-cased; `grantee_kind` is SHARE, DATABASE ROLE or ROLE; `on` is
DATABASE, SCHEMA, TABLE, VIEW or DATABASE_ROLE (a database role granted as a whole).
"""

from __future__ import annotations

from typing import Protocol


class ShareStatements(Protocol):
    """One statement per change of the share model."""

    def create_share(self, share: str, comment: str) -> str: ...

    def comment_share(self, share: str, comment: str) -> str: ...

    def share_accounts(self, share: str, accounts: list[str], *, add: bool) -> str: ...

    def drop_share(self, share: str) -> str: ...

    def grant(self, privilege: str, on: str, name: str, grantee_kind: str, grantee: str, *,
              revoke: bool = False) -> str:
        """Grant (or revoke) `privilege` on `on` `name` to the grantee; `on` DATABASE_ROLE grants the role."""
        ...

    def create_database_role(self, role: str) -> str: ...

    def drop_database_role(self, role: str) -> str: ...

    def create_listing(self, listing: str, share: str, manifest: str) -> str: ...

    def alter_listing(self, listing: str, manifest: str) -> str:
        """Replace the listing's manifest (its targets: who may read the share through it)."""
        ...

    def unpublish_listing(self, listing: str) -> str: ...

    def drop_listing(self, listing: str) -> str: ...

    def mount(self, database: str, share: str) -> str:
        """Create `database` from the provider's `share` (`ORG.ACCOUNT.SHARE`)."""
        ...

    def use_role(self, role: str) -> str:
        """Make `role` the session's primary role: the statements after it run, and create objects, as it."""
        ...
