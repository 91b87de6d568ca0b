"""`mesh query` runs exactly one read-only SELECT, with file access outside the attached databases off and the
configuration locked, as roles the databases know. Anything else is refused in one line (exit 2) before it runs:
a `set variable mesh_roles` would raise the session to clear data, a `copy ... to` would write clear PII to a file.
Local enforcement previews Snowflake's; it is no security boundary for whoever holds the database files."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from mesh_cli.build.run import BuildReport


@pytest.mark.parametrize(("sql", "kind"), [
    ("set variable mesh_roles = ['PII_READER', 'ALL_REGIONS']", "SET"),
    ("copy (select email from marts.dim_customers_v2) to '{out}'", "COPY"),
    ("attach '{out}' as x", "ATTACH"),
    ("pragma database_list", "PRAGMA"),
    ("install httpfs", "LOAD"),
    ("load httpfs", "LOAD"),
    ("create table marts.x as select 1 as a", "CREATE"),
    ("select 1; set variable mesh_roles = ['PII_READER']", "SELECT, SET"),
    ("select 1; select 2", "SELECT, SELECT"),
    ("call pragma_version()", "CALL"),
])
def test_anything_but_one_select_is_refused(built_mesh: tuple[Path, BuildReport], tmp_path: Path, sql: str,
                                            kind: str) -> None:
    out = tmp_path / "leak.csv"
    result = run_cli(built_mesh[0], "query", "customers", sql.format(out=out))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: mesh query runs exactly one read-only SELECT; got {kind}"]
    assert not out.exists()


def test_files_outside_the_databases_cannot_be_read(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    landed = next((root / "domains/customers/landing/customers").glob("*.csv"))
    result = run_cli(root, "query", "customers", f"select * from read_csv('{landed}')")
    assert result.exit_code == 2 and "file system operations are disabled" in result.stderr


def test_an_unknown_role_is_an_error_listing_the_roles(built_mesh: tuple[Path, BuildReport]) -> None:
    result = run_cli(built_mesh[0], "query", "customers", "select 1", "--role", "APAC_ANALYS")
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "unknown role(s) APAC_ANALYS; the roles of customers and its upstreams:" in message
    assert "APAC_ANALYST" in message and "PII_READER" in message


def test_a_known_role_still_reads(built_mesh: tuple[Path, BuildReport]) -> None:
    result = run_cli(built_mesh[0], "query", "orders", "select count(*) as n from marts.fct_orders",
                     "--role", "ORDERS_DEPLOYER", "--json")
    assert result.exit_code == 0, result.output
