"""`mesh query` runs exactly one read-only SELECT, with file access outside the attached databases off and the
configuration locked, as roles the databases know. Anything else is refused in one line (exit 2) before it runs:
a `set variable mesh_roles` would raise the session to clear data, a `copy ... to` would write clear PII to a file.
Local enforcement previews Snowflake's; it is no security boundary for whoever holds the database files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from conftest import run_cli

from mesh_cli.build.run import BuildReport
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.engines.registry import engine_for


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
    assert result.exit_code == 2 and "read_csv() reads files" in result.stderr
    # Beneath the check, the session itself reads no file: external access is off, and stays off.
    config = load_config(root)
    domain = discover_domains(config)["customers"]
    with engine_for(config, [domain], "dev").connect(domain, locked=True) as connection:
        for sql in (f"select * from read_csv('{landed}')", "set enable_external_access = true"):
            with pytest.raises(duckdb.Error) as refused:
                connection.execute(sql)
            assert "disabled" in str(refused.value) or "locked" in str(refused.value) or "Cannot enable" in str(
                refused.value), refused.value


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


# Issue #26 item 9: `mesh query` reads what the role could read on Snowflake. There a governed table carries its
# policies, so every role reads it through them, its owner too
# (https://docs.snowflake.com/en/user-guide/security-column-intro), and another domain is read through its products
# only (https://docs.snowflake.com/en/user-guide/security-access-control-overview). The emulation's clear storage
# (`mesh_protected`), staging, landing and another domain's governance are refused before the query runs.
@pytest.mark.parametrize(("domain", "sql", "refused"), [
    ("customers", "select email, phone from mesh_protected.marts__dim_customers_v2",
     "customers.mesh_protected.marts__dim_customers_v2 is the clear storage of a governed model, which no role "
     "reads on Snowflake: read its governed view customers.marts.dim_customers_v2"),
    ("customers", 'select email from "CUSTOMERS"."MESH_PROTECTED"."MARTS__DIM_CUSTOMERS_V2"',
     "customers.mesh_protected.marts__dim_customers_v2 is the clear storage"),
    ("customers", "with c as (select * from staging.stg_customers) select email from c",
     "customers.staging.stg_customers is neither governed nor public in customers: read a governed or public model "
     "(customers.marts.dim_customers_v1, customers.marts.dim_customers_v2, customers.marts.dim_regions)"),
    ("customers", "select count(*) from (select email from landing.customers)",
     "customers.landing.customers is neither governed nor public in customers"),
    ("orders", "select email from customers.mesh_protected.marts__dim_customers_v2",
     "customers.mesh_protected.marts__dim_customers_v2 is the clear storage of a governed model"),
    ("orders", "select email from customers.staging.stg_customers",
     "customers.staging.stg_customers is not a public model of customers: another domain is read through its "
     "products only"),
    ("orders", "select * from customers.governance.mesh_entitlements",
     "customers.governance.mesh_entitlements is not a public model of customers"),
    ("customers", "select * from query_table('mesh_protected.marts__dim_customers_v2')", "query_table() reads"),
    ("customers", "select stats from pragma_storage_info('mesh_protected.marts__dim_customers_v2')",
     "pragma_storage_info() reads"),
    ("customers", "summarize mesh_protected.marts__dim_customers_v2", "got SUMMARIZE"),
])
def test_a_query_reads_no_relation_beyond_what_the_role_reads_on_snowflake(
        built_mesh: tuple[Path, BuildReport], domain: str, sql: str, refused: str) -> None:
    result = run_cli(built_mesh[0], "query", domain, sql, "--role", "EMEA_ANALYST")
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: mesh query ") and refused in line, line


def test_governed_views_public_models_and_governance_records_still_read(built_mesh: tuple[Path, BuildReport]) -> None:
    """The issue's reproduction as the analyst reads it: its region only, e-mails masked; upstream products and the
    domain's own governance records read; a CTE named like a relation is no relation."""
    root = built_mesh[0]
    result = run_cli(root, "query", "customers", "select distinct region, email like '*****@%' as masked from "
                     "marts.dim_customers_v2", "--role", "EMEA_ANALYST", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == [{"region": "EMEA", "masked": True}]
    for domain, sql in [("orders", "select count(*) as n from customers.marts.dim_regions"),
                        ("customers", "select count(*) as n from governance.policy_references"),
                        ("customers", "with landing as (select 1 as n) select n from landing"),
                        ("customers", "select count(*) as n from information_schema.tables")]:
        result = run_cli(root, "query", domain, sql, "--role", "EMEA_ANALYST", "--json")
        assert result.exit_code == 0, f"{sql}: {result.output}"
