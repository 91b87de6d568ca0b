"""The SQL that sets a DuckDB session's roles (the `mesh_roles` variable the governance emulation reads).

Kept apart from the dbt-duckdb plugin so that the CLI sets roles without importing dbt.
"""

from __future__ import annotations

import re

ROLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def roles_literal(roles: list[str]) -> str:
    """A DuckDB list literal of validated, upper-cased role names."""
    for role in roles:
        if not ROLE_NAME.match(role):
            raise ValueError(f"role name {role!r} must be letters, digits and underscores")
    return "[" + ", ".join(f"'{role.upper()}'" for role in roles) + "]::varchar[]"


def set_roles_sql(roles: list[str]) -> str:
    """Set the session's roles as given."""
    return f"set variable mesh_roles = {roles_literal(roles)}"


def set_expanded_roles_sql(roles: list[str], closure: str = "governance.mesh_role_closure") -> str:
    """Set the session's roles with every role they inherit, from the database's role hierarchy (as Snowflake
    counts a role granted to a role in session as in session)."""
    literal = roles_literal(roles)
    return (f"set variable mesh_roles = (select list_distinct(list_concat({literal}, coalesce("
            f"(select list(role_name) from {closure} where list_contains({literal}, holder)), []::varchar[]))))")

