"""`mesh query` runs exactly one read-only SELECT, with file access outside the attached databases off and the
configuration locked, as roles the databases know. Anything else is refused in one line (exit 2) before it runs:
a `set variable mesh_roles` would raise the session to clear data, a `copy ... to` would write clear PII to a file.
Local enforcement previews Snowflake's; it is no security boundary for whoever holds the database files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml
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
    # the audit's three routes through a SELECT given as a string (#26, item 1): any table function not known to
    # be harmless is refused, whatever its name
    ("customers", "select * from json_execute_serialized_sql(json_serialize_sql('select email, phone, region from "
     "mesh_protected.marts__dim_customers_v2 where region <> ''EMEA'''))",
     "json_execute_serialized_sql() is not known"),
    ("orders", "select * from json_execute_serialized_sql(json_serialize_sql('select email from "
     "customers.mesh_protected.marts__dim_customers_v2'))", "json_execute_serialized_sql() is not known"),
    ("customers", "select (from json_execute_serialized_sql(json_serialize_sql('select * from landing.customers')))",
     "json_execute_serialized_sql() is not known"),
    # EMEA_ANALYST holds no grant on customers' product (#26 audit, item 7)
    ("orders", "select count(*) from customers.marts.dim_customers_v2",
     "customers.marts.dim_customers_v2 is read only by the holders of customers.customer_master's reader role "
     "(FINANCE_DEPLOYER, ORDERS_DEPLOYER, by customers's last publish), and no role in session holds it"),
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
    for domain, sql, role in [
            ("orders", "select count(*) as n from customers.marts.dim_regions", "ORDERS_DEPLOYER"),
            ("customers", "select count(*) as n from governance.policy_references", "EMEA_ANALYST"),
            ("customers", "with landing as (select 1 as n) select n from landing", "EMEA_ANALYST"),
            ("customers", "select count(*) as n from information_schema.tables", "EMEA_ANALYST"),
            ("customers", "select count(*) as n from range(3) join duckdb_tables() on true", "EMEA_ANALYST")]:
        result = run_cli(root, "query", domain, sql, "--role", role, "--json")
        assert result.exit_code == 0, f"{sql}: {result.output}"


# Issue #26 audit, item 7: an upstream's product is read only by the holders of its reader role, by the upstream's
# last publish, the rule the build refuses a withdrawn consumer by
# (https://docs.snowflake.com/en/sql-reference/sql/grant-database-role,
# https://docs.snowflake.com/en/sql-reference/sql/revoke-database-role); across accounts it is read through the
# share, where account roles decide nothing inside the policies
# (https://docs.snowflake.com/en/sql-reference/functions/is_database_role_in_session).
_FACTS = "select count(*) as n from orders.marts.fct_orders"


def _query(root: Path, domain: str, sql: str, *roles: str) -> tuple[int, str]:
    result = run_cli(root, "query", domain, sql, *(f"--role={role}" for role in roles), "--json")
    return result.exit_code, (result.output if result.exit_code == 0 else result.stderr)


def test_a_withdrawn_consumer_reads_nothing_of_its_former_upstream(built_copy: Path) -> None:
    """The grant decides, as on Snowflake: finance reads orders' product until the publish that revokes it, and
    nothing after."""
    assert _query(built_copy, "finance", _FACTS, "FINANCE_DEPLOYER")[0] == 0
    domain_file = built_copy / "domains/orders/domain.yml"
    domain_file.write_text(domain_file.read_text().replace("consumers: {domains: [finance], accounts: []}",
                                                           "consumers: {domains: [], accounts: []}"))
    assert _query(built_copy, "finance", _FACTS, "FINANCE_DEPLOYER")[0] == 0     # not revoked yet
    assert run_cli(built_copy, "publish", "orders", "--allow-destroy").exit_code == 0
    code, error = _query(built_copy, "finance", _FACTS, "FINANCE_DEPLOYER")
    assert code == 2 and error.strip().splitlines() == [
        "error: mesh query reads what the role could read on Snowflake: orders.marts.fct_orders is not shared with "
        "finance by orders's last publish: no role of finance reads it"]


def test_across_accounts_an_upstream_is_read_through_its_share_as_its_consumer(built_copy: Path) -> None:
    """Under account_per_domain the orders account reads customers' product through the share: PII_READER and
    EMEA_ANALYST, account roles of orders, hold nothing of it; its reading role reads in a share session, where its
    account role PII_READER clears no e-mail (the one-account build's plain policies decide with account roles
    only); a share session reads that share alone."""
    clear = "select count(*) filter (where email not like '*****@%') as clear from customers.marts.dim_customers_v2"
    assert json.loads(_query(built_copy, "orders", clear, "ORDERS_DEPLOYER", "PII_READER")[1])["rows"][0]["clear"]
    settings = yaml.safe_load((built_copy / "mesh.yml").read_text())
    settings["snowflake"] = {"topology": "account_per_domain", "accounts": {
        "customers": "RETAIL.CUSTOMERS", "orders": "RETAIL.ORDERS", "finance": "RETAIL.FINANCE"}}
    (built_copy / "mesh.yml").write_text(yaml.safe_dump(settings, sort_keys=False))
    code, error = _query(built_copy, "orders", clear, "PII_READER", "EMEA_ANALYST")
    assert code == 2 and "(ORDERS_DEPLOYER, by customers's last publish), and no role in session holds it" in error
    code, output = _query(built_copy, "orders", clear, "ORDERS_DEPLOYER", "PII_READER")
    assert code == 0 and json.loads(output)["rows"] == [{"clear": 0}], output
    code, error = _query(built_copy, "orders", "select count(*) from customers.marts.dim_customers_v2 c join "
                         "marts.fct_orders o using (customer_id)", "ORDERS_DEPLOYER")
    assert code == 2 and "a share session reads that share alone: query orders.marts.fct_orders apart" in error
