"""`mesh provision` on the embedded engine: database files, schemas, the recorded role hierarchy, and the
governance emulation resolving inherited roles as Snowflake does."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from mesh_cli.build.run import BuildReport
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.engines.duckdb import DuckDBEngine
from tests.conftest import run_build, run_cli


def _session(root: Path, domain: str, *roles: str) -> duckdb.DuckDBPyConnection:
    config = load_config(root)
    return DuckDBEngine(config, "dev").connect(discover_domains(config)[domain], roles=list(roles))


def test_provision_creates_databases_and_schemas_then_converges(mesh_copy: Path) -> None:
    plan = run_cli(mesh_copy, "provision", "--plan")
    assert plan.exit_code == 0 and "create schema marts (declared schema missing)" in plan.output
    # said in words: the tables the roles are recorded in are the engine's own business (issue 29)
    assert "record role(s) ALL_REGIONS, APAC_ANALYST," in plan.output
    assert "insert into" not in plan.output and "governance.mesh_provisioned" not in plan.output
    assert not list((mesh_copy / ".mesh" / "duckdb").glob("*.duckdb")), "--plan wrote nothing"
    first = run_cli(mesh_copy, "provision", "--json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert data["adapter"] == "duckdb" and data["ok"]
    assert all(plan["statements"] for plan in data["plans"])
    for name in ("customers", "orders", "finance"):
        with duckdb.connect(str(mesh_copy / ".mesh" / "duckdb" / f"{name}.duckdb"), read_only=True) as db:
            schemas = {row[0] for row in db.execute("select schema_name from information_schema.schemata").fetchall()}
            assert {"raw", "staging", "intermediate", "marts", "governance"} <= schemas
            grants = set(db.execute("select role_name, granted_to from governance.mesh_provisioned_grants").fetchall())
            assert ("ORDERS_ENGINEER", "MESH_ADMIN") in grants and ("CUSTOMERS_READ", "ORDERS_ENGINEER") not in grants
            assert ("ORDERS_DEPLOYER", "MESH_ADMIN") not in grants       # it holds ALL_REGIONS: never rolled up
    again = run_cli(mesh_copy, "provision", "--json")
    assert [plan["statements"] for plan in json.loads(again.output)["plans"]] == [[], [], []]
    text = run_cli(mesh_copy, "provision")
    assert "0 statement(s), nothing to change" in text.output


def test_a_role_removed_from_the_declaration_is_drift_until_pruned(mesh_copy: Path) -> None:
    assert run_cli(mesh_copy, "provision").exit_code == 0
    path = mesh_copy / "governance.yml"      # the roles come from the governance library
    path.write_text(path.read_text().replace("  EMEA_ANALYST:\n    description: Analyst of the EMEA region.\n", "")
                    .replace("  - {role: EMEA_ANALYST, dimension: region, values: [EMEA]}\n", ""))
    plan = run_cli(mesh_copy, "provision", "--plan")
    assert "drift: role EMEA_ANALYST is recorded in customers but not declared" in plan.output
    assert "delete from" not in plan.output
    pruned = run_cli(mesh_copy, "provision", "--prune", "--allow-destroy", "-v")   # -v: every statement run
    assert "ok drop role EMEA_ANALYST (pruned: role no longer declared; destructive)" in pruned.output
    assert "delete from" not in pruned.output
    assert "drift" not in run_cli(mesh_copy, "provision", "--plan").output


def test_inherited_roles_count_as_in_session(built_copy: Path) -> None:
    """A role granted to a role in session is in session (IS_ROLE_IN_SESSION), through the provisioned
    hierarchy: MESH_ADMIN holds CUSTOMERS_ENGINEER, which holds CUSTOMERS_WRITE and CUSTOMERS_READ; CUSTOMERS_DEPLOYER
    holds PII_READER and ALL_REGIONS. MESH_ADMIN holds no entitlement role, locally as on Snowflake: every SYSADMIN
    user would inherit it (https://docs.snowflake.com/en/sql-reference/functions/is_role_in_session)."""
    with _session(built_copy, "customers", "MESH_ADMIN") as connection:
        before = connection.execute("select governance.is_role_in_session('CUSTOMERS_READ')").fetchone()[0]
    assert before is False                      # nothing provisioned yet: MESH_ADMIN is just a name
    assert run_cli(built_copy, "provision").exit_code == 0
    assert run_build(built_copy, "customers").ok   # the governance emulation folds the hierarchy in on build
    query = "select email, phone from {} order by customer_id limit 5"
    with _session(built_copy, "customers", "PII_READER", "ALL_REGIONS") as connection:
        clear = connection.execute(query.format("mesh_protected.marts__dim_customers_v2")).fetchall()
    with _session(built_copy, "customers", "CUSTOMERS_DEPLOYER") as connection:
        assert connection.execute(query.format("marts.dim_customers_v2")).fetchall() == clear
    with _session(built_copy, "customers", "MESH_ADMIN") as connection:   # no region, no PII: no row
        assert connection.execute(query.format("marts.dim_customers_v2")).fetchall() == []
        assert connection.execute("select governance.is_role_in_session('customers_read')").fetchone()[0]
        assert connection.execute("select governance.is_role_in_session('PII_READER')").fetchone()[0] is False
    with _session(built_copy, "customers", "CUSTOMERS_READER", "ALL_REGIONS") as connection:
        masked = connection.execute(query.format("marts.dim_customers_v2")).fetchall()
        assert connection.execute("select governance.is_role_in_session('PII_READER')").fetchone()[0] is False
        assert connection.execute("select governance.is_role_in_session('CUSTOMERS_READ')").fetchone()[0]
    assert masked != clear and all(phone == "*****" for _, phone in masked)
    # the emulation itself resolves the closure, not only the session expansion: set the plain role and ask
    with _session(built_copy, "customers") as connection:
        connection.execute("set variable mesh_roles = ['CUSTOMERS_DEPLOYER']::varchar[]")
        assert connection.execute("select governance.is_role_in_session('PII_READER')").fetchone()[0]
        connection.execute("set variable mesh_roles = ['MESH_ADMIN']::varchar[]")
        assert connection.execute("select governance.is_role_in_session('FINANCE_ENGINEER')").fetchone()[0]
        assert not connection.execute("select governance.is_role_in_session('FINANCE_DEPLOYER')").fetchone()[0]
        assert not connection.execute("select governance.is_role_in_session('ACCOUNTADMIN')").fetchone()[0]


def test_a_domain_selection_provisions_only_that_domain(mesh_copy: Path) -> None:
    result = run_cli(mesh_copy, "provision", "-s", "+finance", "--exclude", "+orders")
    assert result.exit_code == 0, result.output
    assert [p.name for p in (mesh_copy / ".mesh" / "duckdb").glob("*.duckdb")] == ["finance.duckdb"]
    # the statements run are the engine's business: a count, unless asked for
    assert "create schema" not in result.output and "(--plan or -v shows them)" in result.output
    assert run_cli(mesh_copy, "provision", "orders").exit_code == 0   # a domain named as before still works
    assert sorted(p.name for p in (mesh_copy / ".mesh" / "duckdb").glob("*.duckdb")) == ["finance.duckdb",
                                                                                       "orders.duckdb"]
    nothing = run_cli(mesh_copy, "provision", "--select", "orders", "--exclude", "customers+")
    assert nothing.exit_code == 2 and nothing.output.startswith("error: `--select orders --exclude customers+` "
                                                                "leaves no domain")


def test_built_mesh_is_untouched_by_a_plan(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    before = {p.name: p.stat().st_mtime_ns for p in (root / ".mesh" / "duckdb").glob("*.duckdb")}
    assert run_cli(root, "provision", "--plan").exit_code == 0
    assert {p.name: p.stat().st_mtime_ns for p in (root / ".mesh" / "duckdb").glob("*.duckdb")} == before
