"""The provisioning diff over recorded SHOW output: create from nothing, converge, drift, prune, order, syntax."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mesh_cli.core.config import load_config
from mesh_cli.core.domains import Domain, discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.footprint import MeshFootprint
from mesh_cli.core.governance_library import held_roles
from mesh_cli.core.plan import Plan, RecordedState, ShowTooLarge, show_statement
from mesh_cli.engines.snowflake import SnowflakeEngine
from mesh_cli.engines.snowflake_provision import flatten, plan_snowflake
from mesh_cli.provision import declared_footprint
from testkit.show_log import ShowLog
from tests.conftest import REPO, TooLargeState, copy_mesh, run_cli
from tests.sql_oracle import assert_snowflake_sql

GOLDEN = Path(__file__).parent / "golden" / "provision_prod.sql"
DOMAINS = ("CUSTOMERS", "ORDERS", "FINANCE")


def _footprint(root: Path = REPO) -> MeshFootprint:
    config = load_config(root)
    return declared_footprint(config, discover_domains(config))


def converged_state(footprint: MeshFootprint) -> dict[str, list[dict[str, Any]]]:
    """The SHOW output of an account where the footprint was applied, hand-written (not recorded) with the columns
    Snowflake documents for SHOW ROLES / DATABASES / WAREHOUSES / RESOURCE MONITORS / SCHEMAS / GRANTS / DATABASE
    ROLES (https://docs.snowflake.com/en/sql-reference/sql/show-grants and the other SHOW pages)."""
    declared = flatten(footprint)
    marker = footprint.marker
    rows: dict[str, list[dict[str, Any]]] = {
        "SHOW ROLES": [{"name": role, "comment": marker, "owner": footprint.admin_role if role in declared.admin_owned
                        else "USERADMIN"} for role in declared.roles],
        "SHOW DATABASES": [{"name": db, "comment": marker} for db in declared.databases],
        "SHOW WAREHOUSES": [{"name": w.name, "size": w.size.replace("X", "X-", 1) if w.size == "XSMALL" else
                             w.size.title(), "auto_suspend": w.auto_suspend, "auto_resume": "true",
                             "resource_monitor": w.resource_monitor, "comment": marker} for w in declared.warehouses],
        "SHOW RESOURCE MONITORS": [{"name": m.name, "credit_quota": f"{m.credit_quota}.00", "frequency": m.frequency,
                                    "notify_at": ",".join(f"{p}%" for p in m.notify_at),
                                    "suspend_at": f"{m.suspend_at}%"} for m in declared.monitors],
        show_statement("GRANTS OF ROLE", footprint.admin_role): [{"role": footprint.admin_role,
                                                                  "granted_to": "ROLE", "grantee_name": "SYSADMIN"}],
    }
    rows["SHOW SCHEMAS IN ACCOUNT"] = [{"name": s, "database_name": d, "comment": marker}
                                       for d, s in declared.schemas] + [
        {"name": "INFORMATION_SCHEMA", "database_name": db, "comment": "Views describing the database"}
        for db in [*declared.databases, "SNOWFLAKE"]] + [
        {"name": "ACCOUNT_USAGE", "database_name": "SNOWFLAKE", "comment": ""}]
    for db in {reader.split(".")[0] for reader in declared.database_roles}:
        rows[f"SHOW DATABASE ROLES IN DATABASE {db}"] = [
            {"name": reader.split(".")[1], "owner": declared.publishers.get(db, "SYSADMIN")}
            for reader in declared.database_roles if reader.startswith(f"{db}.")]
    for role in declared.roles:
        rows[f"SHOW GRANTS TO ROLE {role}"] = [  # an account-level privilege shows the account's name
            {"privilege": p, "granted_on": k.replace("_", " "), "name": n or "XY12345", "granted_to": "ROLE",
             "grantee_name": g, "grant_option": str((p, k, n, g) in declared.grant_option).lower()}
            for p, k, n, g in declared.grants if g == role] + [
            {"privilege": "OWNERSHIP", "granted_on": "TABLE", "name": "X.Y.Z", "granted_to": "ROLE",
             "grantee_name": role}]
        rows[f"SHOW FUTURE GRANTS TO ROLE {role}"] = [
            {"privilege": p, "grant_on": k, "name": f"{n}.<{k}>", "grant_to": "ROLE", "grantee_name": g}
            for p, k, n, g in declared.future_grants if g == role]
    return rows


def _sqls(plan: Plan) -> list[str]:
    return [statement.sql for statement in plan.statements]


def test_create_from_nothing_declares_every_object_in_dependency_order() -> None:
    footprint = _footprint()
    plan = plan_snowflake(footprint, RecordedState(), offline=True)
    sqls = _sqls(plan)
    assert "CREATE DATABASE CUSTOMERS COMMENT = 'managed by dbt-data-mesh (mesh retail)'" in sqls
    assert "CREATE WAREHOUSE FINANCE_WH WITH WAREHOUSE_SIZE = SMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE " \
           "INITIALLY_SUSPENDED = TRUE RESOURCE_MONITOR = FINANCE_RM " \
           "COMMENT = 'managed by dbt-data-mesh (mesh retail)'" in sqls
    assert ("CREATE RESOURCE MONITOR ORDERS_RM WITH CREDIT_QUOTA = 50 FREQUENCY = MONTHLY START_TIMESTAMP = "
            "IMMEDIATELY TRIGGERS ON 75 PERCENT DO NOTIFY ON 90 PERCENT DO NOTIFY ON 100 PERCENT DO SUSPEND") in sqls
    # the access-role / functional-role hierarchy, rolled up to the admin role
    for grant in ("GRANT ROLE CUSTOMERS_READ TO ROLE CUSTOMERS_WRITE", "GRANT ROLE CUSTOMERS_WRITE TO ROLE "
                  "CUSTOMERS_OWNER", "GRANT ROLE CUSTOMERS_OWNER TO ROLE CUSTOMERS_DEPLOYER",
                  "GRANT ROLE PII_READER TO ROLE CUSTOMERS_DEPLOYER",
                  "GRANT DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER TO ROLE ORDERS_ENGINEER",
                  "GRANT ROLE ORDERS_ENGINEER TO ROLE MESH_ADMIN", "GRANT ROLE MESH_ADMIN TO ROLE SYSADMIN",
                  "GRANT SELECT ON FUTURE TABLES IN SCHEMA ORDERS.MARTS TO ROLE ORDERS_READ",
                  "GRANT USAGE ON WAREHOUSE FINANCE_WH TO ROLE FINANCE_READER"):
        assert grant in sqls
    # finance reads orders and customers, not the other way round
    assert not [sql for sql in sqls if sql.startswith("GRANT DATABASE ROLE FINANCE.")]
    # order: roles, databases, schemas, monitors, warehouses, then the hierarchy, privileges and future grants
    first = {kind: next(i for i, s in enumerate(plan.statements) if s.sql.startswith(kind))
             for kind in ("CREATE ROLE", "CREATE DATABASE", "CREATE SCHEMA", "CREATE RESOURCE MONITOR",
                          "CREATE WAREHOUSE", "GRANT ROLE", "GRANT USAGE ON DATABASE", "GRANT SELECT ON FUTURE")}
    assert list(first.values()) == sorted(first.values())
    assert max(i for i, s in enumerate(plan.statements) if s.sql.startswith("CREATE")) < first["GRANT ROLE"]
    # which role each needs
    roles = {s.sql.split(" ")[1]: s.role for s in plan.statements if s.sql.startswith("CREATE")}
    assert roles == {"ROLE": "USERADMIN", "DATABASE": "SYSADMIN", "SCHEMA": "SYSADMIN",
                     "RESOURCE": "ACCOUNTADMIN", "WAREHOUSE": "ACCOUNTADMIN"}
    assert not any(s.destructive for s in plan.statements)


def test_nothing_changed_gives_zero_statements() -> None:
    footprint = _footprint()
    reader = RecordedState(converged_state(footprint))
    plan = plan_snowflake(footprint, reader)
    assert plan.empty, _sqls(plan)[:5]
    assert not [note for note in plan.notes if note.startswith("drift")]
    # one SHOW per kind (schemas: one over the account), two per role (grants, future grants), and the database
    # roles of each upstream database whose products are consumed (customers, orders)
    assert reader.queries == 6 + 2 * len(footprint.all_roles()) + 2


def test_consumer_roles_read_upstream_products_only_never_a_whole_database() -> None:
    """A consumer's functional roles hold each consumed product's reader database role, never the upstream's READ
    access role, whose future grants cover every schema of its database (staging, landing, governance)
    (https://docs.snowflake.com/en/sql-reference/sql/grant-privilege#future-grants-on-database-or-schema-objects)."""
    footprint = _footprint()
    sqls = _sqls(plan_snowflake(footprint, RecordedState(), offline=True))
    read_roles = {f"{d.database}_READ": d.domain.upper() for d in footprint.domains}
    granted = [re.match(r"GRANT ROLE (\w+) TO ROLE (\w+)$", sql) for sql in sqls]
    for grant in filter(None, granted):
        if grant.group(1) in read_roles:
            assert grant.group(2).startswith(read_roles[grant.group(1)] + "_"), grant.group(0)
    readers = sorted(sql for sql in sqls if sql.startswith("GRANT DATABASE ROLE"))
    assert readers == [
        "GRANT DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER TO ROLE FINANCE_DEPLOYER",
        "GRANT DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER TO ROLE FINANCE_ENGINEER",
        "GRANT DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER TO ROLE ORDERS_DEPLOYER",
        "GRANT DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER TO ROLE ORDERS_ENGINEER",
        "GRANT DATABASE ROLE ORDERS.ORDER_FACTS_READER TO ROLE FINANCE_DEPLOYER",
        "GRANT DATABASE ROLE ORDERS.ORDER_FACTS_READER TO ROLE FINANCE_ENGINEER"]
    creates = [sql for sql in sqls if sql.startswith("CREATE DATABASE ROLE")]
    assert creates == ["CREATE DATABASE ROLE IF NOT EXISTS CUSTOMERS.CUSTOMER_MASTER_READER",
                       "CREATE DATABASE ROLE IF NOT EXISTS ORDERS.ORDER_FACTS_READER"]
    assert not [sql for sql in sqls if " ON FUTURE " in sql and not sql.endswith(tuple(
        f"IN SCHEMA {d.database}.{schema} TO ROLE {d.access_roles[level]}" for d in footprint.domains
        for schema in d.schemas for level in ("READ", "WRITE")))]


def test_removing_a_consumer_revokes_its_reader_role(mesh_copy: Path) -> None:
    """Revoking a consumer removes its access: the reader role's grant is drift, revoked with --prune."""
    before = _footprint(mesh_copy)
    state = converged_state(before)
    path = mesh_copy / "domains/customers/domain.yml"
    path.write_text(path.read_text().replace("consumers: {domains: [orders, finance]", "consumers: {domains: [orders]"))
    after = _footprint(mesh_copy)
    notes = plan_snowflake(after, RecordedState(state)).notes
    assert "drift: USAGE on database_role CUSTOMERS.CUSTOMER_MASTER_READER granted to FINANCE_DEPLOYER is not " \
        "declared (`--prune` removes it)" in notes
    pruned = _sqls(plan_snowflake(after, RecordedState(state), prune=True))
    assert sorted(sql for sql in pruned if "CUSTOMER_MASTER_READER" in sql) == [
        "REVOKE DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER FROM ROLE FINANCE_DEPLOYER",
        "REVOKE DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER FROM ROLE FINANCE_ENGINEER"]


def test_the_publishing_role_is_granted_create_share_and_create_database_role() -> None:
    """CREATE SHARE and CREATE DATABASE ROLE belong to ACCOUNTADMIN by default
    (https://docs.snowflake.com/en/sql-reference/sql/create-share): the deployer that publishes gets them."""
    plan = plan_snowflake(_footprint(), RecordedState(), offline=True)
    grants = {s.sql: s.role for s in plan.statements if "CREATE SHARE" in s.sql or "CREATE DATABASE ROLE ON" in s.sql}
    assert grants == {
        **{f"GRANT CREATE SHARE ON ACCOUNT TO ROLE {d}_DEPLOYER": "ACCOUNTADMIN" for d in DOMAINS},
        **{f"GRANT CREATE DATABASE ROLE ON DATABASE {d} TO ROLE {d}_DEPLOYER": "SECURITYADMIN" for d in DOMAINS}}


def test_the_publishing_role_passes_its_database_and_schemas_on_and_owns_its_reader_roles() -> None:
    """Granting the database and a schema to a share or a reader database role needs OWNERSHIP of them or USAGE
    WITH GRANT OPTION (https://docs.snowflake.com/en/user-guide/security-access-privileges-shares), and granting a
    database role to a consumer role needs OWNERSHIP of it (https://docs.snowflake.com/en/sql-reference/sql/
    grant-database-role): SYSADMIN creates both, the deployer publishes. Without these, `mesh publish` run as the
    deployer failed at its first GRANT USAGE ON DATABASE ... TO SHARE."""
    footprint = _footprint()
    sql = _sqls(plan_snowflake(footprint, RecordedState(), offline=True))
    for domain in DOMAINS:
        assert f"GRANT USAGE ON DATABASE {domain} TO ROLE {domain}_DEPLOYER WITH GRANT OPTION" in sql
        assert f"GRANT USAGE ON SCHEMA {domain}.MARTS TO ROLE {domain}_DEPLOYER WITH GRANT OPTION" in sql
    owned = "GRANT OWNERSHIP ON DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER TO ROLE CUSTOMERS_DEPLOYER COPY " \
            "CURRENT GRANTS"
    assert sql.index("CREATE DATABASE ROLE IF NOT EXISTS CUSTOMERS.CUSTOMER_MASTER_READER") < sql.index(owned)
    assert not [s for s in sql if "WITH GRANT OPTION" in s and "_DEPLOYER" not in s]
    assert_snowflake_sql(sql)
    # an account provisioned before: USAGE held without the grant option, the reader role still SYSADMIN's
    state = converged_state(footprint)
    for row in state["SHOW GRANTS TO ROLE CUSTOMERS_DEPLOYER"]:
        if row["granted_on"] == "DATABASE" and row["privilege"] == "USAGE":
            row["grant_option"] = "false"
    for row in state["SHOW DATABASE ROLES IN DATABASE CUSTOMERS"]:
        row["owner"] = "SYSADMIN"
    assert _sqls(plan_snowflake(footprint, RecordedState(state))) == [
        "GRANT USAGE ON DATABASE CUSTOMERS TO ROLE CUSTOMERS_DEPLOYER WITH GRANT OPTION", owned]


def test_ten_domains_read_schemas_with_one_query(tmp_path: Path) -> None:
    """Schemas come from one SHOW over the account whatever the number of domains; only grants, which Snowflake
    shows per role, and database roles, which it shows per database (of the upstreams whose products are
    consumed), are read per object."""
    names = [f"d{i:02d}" for i in range(10)]
    domains = {name: Domain(name=name, path=tmp_path / name, upstreams=(), profile=name, source_paths=())
               for name in names}
    footprint = declared_footprint(load_config(REPO), domains)
    assert len(footprint.domains) == 10
    reader = ShowLog(RecordedState(converged_state(footprint)))
    assert plan_snowflake(footprint, reader).empty
    roles = len(footprint.all_roles())
    assert reader.kinds == {"ROLES": 1, "DATABASES": 1, "WAREHOUSES": 1, "RESOURCE MONITORS": 1, "SCHEMAS": 1,
                            "GRANTS TO ROLE": roles, "FUTURE GRANTS TO ROLE": roles, "GRANTS OF ROLE": 1}
    assert not footprint.reader_grants()   # no products consumed: no database roles to read



def test_schemas_are_read_per_database_when_the_account_has_too_many() -> None:
    footprint = _footprint()
    state = converged_state(footprint)
    for row in state["SHOW SCHEMAS IN ACCOUNT"]:
        state.setdefault(f"SHOW SCHEMAS IN DATABASE {row['database_name']}", []).append(row)
    reader = ShowLog(TooLargeState(state, {"SHOW SCHEMAS IN ACCOUNT"}))
    assert plan_snowflake(footprint, reader).empty
    assert reader.kinds["SCHEMAS"] == 1 + len(footprint.domains)
    with pytest.raises(ShowTooLarge):       # no narrower scope than a database: the refusal stands
        plan_snowflake(footprint, TooLargeState(state, {f"SHOW SCHEMAS IN DATABASE {footprint.domains[0].database}",
                                                    "SHOW SCHEMAS IN ACCOUNT"}))


def test_the_engine_reports_a_show_refused_for_its_size() -> None:
    """Snowflake refuses a SHOW of more than 10,000 rows with error 090153; the reader says so as ShowTooLarge."""
    from snowflake.connector.errors import ProgrammingError

    class Refusing:  # a connection whose every statement fails as Snowflake fails such a SHOW
        def cursor(self) -> Refusing:
            return self

        def execute(self, sql: str) -> None:
            raise ProgrammingError(msg="The result set size exceeded the max number of rows(10000) supported for "
                                       "SHOW statements.", errno=90153, sqlstate="22000")

        def close(self) -> None:
            pass

    reader = SnowflakeEngine(load_config(REPO), "prod", connection=Refusing()).state_reader()
    with pytest.raises(ShowTooLarge, match="SHOW SCHEMAS IN ACCOUNT"):
        reader.show("SCHEMAS", "IN ACCOUNT")


def test_a_resized_warehouse_is_altered_in_place() -> None:
    footprint = _footprint()
    state = converged_state(footprint)
    for row in state["SHOW WAREHOUSES"]:
        if row["name"] == "ORDERS_WH":
            row.update(size="Large", auto_suspend=600)
    plan = plan_snowflake(footprint, RecordedState(state))
    assert _sqls(plan) == ["ALTER WAREHOUSE ORDERS_WH SET WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60"]
    assert plan.statements[0].action == "alter"


def test_a_changed_monitor_quota_is_altered() -> None:
    footprint = _footprint()
    state = converged_state(footprint)
    state["SHOW RESOURCE MONITORS"][0].update(credit_quota="10.00", notify_at="50%")
    plan = plan_snowflake(footprint, RecordedState(state))
    name = state["SHOW RESOURCE MONITORS"][0]["name"]
    assert _sqls(plan) == [f"ALTER RESOURCE MONITOR {name} SET CREDIT_QUOTA = 50 TRIGGERS ON 75 PERCENT DO NOTIFY "
                           "ON 90 PERCENT DO NOTIFY ON 100 PERCENT DO SUSPEND"]


def test_a_role_added_to_the_hierarchy(mesh_copy: Path) -> None:
    before = _footprint(mesh_copy)
    state = converged_state(before)
    path = mesh_copy / "domains" / "orders" / "domain.yml"
    data = yaml.safe_load(path.read_text())
    analyst = {"access": "READ", "upstreams": True, "roles": ["PII_READER"]}
    data["provision"] = {"functional_roles": {"ANALYST": analyst}}
    path.write_text(yaml.safe_dump(data))
    plan = plan_snowflake(_footprint(mesh_copy), RecordedState(state))
    assert _sqls(plan) == [
        "CREATE ROLE ORDERS_ANALYST COMMENT = 'managed by dbt-data-mesh (mesh retail)'",
        "GRANT ROLE ORDERS_READ TO ROLE ORDERS_ANALYST",
        "GRANT ROLE PII_READER TO ROLE ORDERS_ANALYST",
        "GRANT DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER TO ROLE ORDERS_ANALYST",
        "GRANT USAGE ON WAREHOUSE ORDERS_WH TO ROLE ORDERS_ANALYST",
        # it holds PII_READER: the admin role owns it, never holds it (it rolls up to SYSADMIN)
        "GRANT OWNERSHIP ON ROLE ORDERS_ANALYST TO ROLE MESH_ADMIN COPY CURRENT GRANTS",
    ]


def _with_strays(footprint: MeshFootprint) -> dict[str, list[dict[str, Any]]]:
    state = converged_state(footprint)
    marker = footprint.marker
    state["SHOW WAREHOUSES"] += [{"name": "LEGACY_WH", "size": "Large", "comment": "the BI team's"},
                                 {"name": "RETIRED_WH", "size": "X-Small", "comment": marker,
                                  "resource_monitor": "RETIRED_RM"}]
    state["SHOW RESOURCE MONITORS"].append({"name": "RETIRED_RM", "credit_quota": "5"})
    state["SHOW DATABASES"] += [{"name": "SNOWFLAKE", "comment": ""}, {"name": "RETIRED", "comment": marker}]
    state["SHOW ROLES"] += [{"name": "ACCOUNTADMIN", "comment": ""}, {"name": "RETIRED_READ", "comment": marker}]
    state["SHOW GRANTS TO ROLE ORDERS_READ"].append(
        {"privilege": "USAGE", "granted_on": "SCHEMA", "name": "ORDERS.SCRATCH", "grantee_name": "ORDERS_READ"})
    state["SHOW GRANTS TO ROLE ORDERS_READ"].append(
        {"privilege": "SELECT", "granted_on": "TABLE", "name": "ORDERS.MARTS.FCT_ORDERS",
         "grantee_name": "ORDERS_READ"})
    return state


def test_unmanaged_objects_are_left_alone_and_managed_drift_is_reported() -> None:
    footprint = _footprint()
    plan = plan_snowflake(footprint, RecordedState(_with_strays(footprint)))
    assert plan.empty
    drift = "\n".join(plan.notes)
    assert "RETIRED_WH" in drift and "database RETIRED" in drift and "RETIRED_READ" in drift
    assert "ORDERS.SCRATCH" in drift
    for untouched in ("LEGACY_WH", "SNOWFLAKE", "ACCOUNTADMIN", "FCT_ORDERS"):
        assert untouched not in drift


def test_prune_removes_only_what_the_mesh_created() -> None:
    footprint = _footprint()
    plan = plan_snowflake(footprint, RecordedState(_with_strays(footprint)), prune=True)
    assert _sqls(plan) == [
        "REVOKE USAGE ON SCHEMA ORDERS.SCRATCH FROM ROLE ORDERS_READ",
        "DROP WAREHOUSE RETIRED_WH",
        "DROP RESOURCE MONITOR RETIRED_RM",
        "DROP DATABASE RETIRED",
        "DROP ROLE RETIRED_READ",
    ]
    assert all(statement.destructive for statement in plan.statements)


def test_a_domain_selection_does_not_report_other_domains_as_drift() -> None:
    config = load_config(REPO)
    domains = discover_domains(config)
    full = declared_footprint(config, domains)
    partial = declared_footprint(config, domains, ["customers"])
    plan = plan_snowflake(partial, RecordedState(converged_state(full)))
    assert plan.empty and not [note for note in plan.notes if note.startswith("drift")]


def test_generated_sql_is_valid_snowflake_sql() -> None:
    """Parsed by sqlfluff's Snowflake dialect (tests/sql_oracle.py), which fails on what it cannot parse; sqlglot
    would accept any statement as a generic Command."""
    footprint = _footprint()
    plans = [plan_snowflake(footprint, RecordedState(), offline=True),
             plan_snowflake(footprint, RecordedState(_with_strays(footprint)), prune=True)]
    assert assert_snowflake_sql(s.sql for plan in plans for s in plan.statements) > 200


def test_golden_plan_of_the_example_mesh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SNOWFLAKE_ACCOUNT", raising=False)
    monkeypatch.delenv("MESH_SNOWFLAKE_DATABASE_PREFIX", raising=False)
    result = run_cli(REPO, "provision", "--plan", "--target", "prod")
    assert result.exit_code == 0, result.output
    if not GOLDEN.exists():                        # first run writes it; review and commit the file
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(result.output)
    assert result.output == GOLDEN.read_text()


def test_the_naming_rule_and_prefix_apply_everywhere(mesh_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESH_SNOWFLAKE_DATABASE_PREFIX", "DEV_")
    text = (mesh_copy / "mesh.yml").read_text().replace(
        "  admin_role: MESH_ADMIN", "  admin_role: MESH_ADMIN\n  naming: {warehouse: 'WH_{domain}', "
        "access_role: '_{database}_{level}'}")
    (mesh_copy / "mesh.yml").write_text(text)
    sqls = _sqls(plan_snowflake(_footprint(mesh_copy), RecordedState(), offline=True))
    assert "CREATE DATABASE DEV_ORDERS COMMENT = 'managed by dbt-data-mesh (mesh retail)'" in sqls
    assert "GRANT ROLE _DEV_CUSTOMERS_READ TO ROLE _DEV_CUSTOMERS_WRITE" in sqls
    assert "GRANT DATABASE ROLE DEV_CUSTOMERS.CUSTOMER_MASTER_READER TO ROLE ORDERS_ENGINEER" in sqls
    assert any(sql.startswith("CREATE WAREHOUSE WH_FINANCE") for sql in sqls)


@pytest.mark.parametrize(("file", "block", "message"), [
    ("mesh.yml", {"naming": {"warehouse": "{team}_WH"}}, "unknown placeholder 'team'"),
    ("mesh.yml", {"naming": {"database": "{domain}-DB"}}, "not a valid Snowflake identifier"),
    ("mesh.yml", {"defaults": {"warehouse": {"size": "HUGE"}}}, "`warehouse.size` 'HUGE' is not one of"),
    ("mesh.yml", {"colour": "blue"}, "unknown setting(s) under `provision:`: colour"),
    ("orders", {"resource_monitor": {"credit_quota": 0}}, "`resource_monitor.credit_quota` must be a whole number"),
    ("orders", {"functional_roles": {"ENGINEER": {"access": "ADMIN"}}}, "is not one of READ, WRITE, OWNER"),
    ("orders", {"functional_roles": {"ENGINEER": {"roles": ["PII READER"]}}}, "not a valid Snowflake identifier"),
    ("orders", {"warehouse": {"auto_suspend": "soon"}}, "`warehouse.auto_suspend` must be a whole number"),
])
def test_bad_declarations_name_the_file_and_key(mesh_copy: Path, file: str, block: dict[str, Any],
                                                message: str) -> None:
    path = mesh_copy / "mesh.yml" if file == "mesh.yml" else mesh_copy / "domains" / file / "domain.yml"
    data = yaml.safe_load(path.read_text())
    data["provision"] = {**(data.get("provision") or {}), **block} if file == "mesh.yml" else block
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(MeshError) as error:
        _footprint(mesh_copy)
    assert message in str(error.value) and str(path) in str(error.value)
    result = run_cli(mesh_copy, "provision", "--plan", "--target", "prod")
    assert result.exit_code == 2


def test_prune_refuses_a_domain_selection(tmp_path: Path) -> None:
    root = copy_mesh(tmp_path / "mesh")
    result = run_cli(root, "provision", "orders", "--prune", "--plan", "--target", "prod")
    assert result.exit_code == 2 and "--prune compares the whole mesh" in result.output


def test_consumer_deployers_are_entitled_by_the_governance_library() -> None:
    """Item 2 of issue 16: orders and finance build from every customer's row on Snowflake as they do locally:
    their deployers' `inherits: [ALL_REGIONS]` in governance.yml is granted by provisioning, and said so."""
    plan = plan_snowflake(_footprint(), RecordedState(), offline=True)
    grants = {s.sql: s.reason for s in plan.statements if s.sql.startswith("GRANT ROLE ")}
    for deployer in ("ORDERS_DEPLOYER", "FINANCE_DEPLOYER", "CUSTOMERS_DEPLOYER"):
        assert grants[f"GRANT ROLE ALL_REGIONS TO ROLE {deployer}"] == \
            f"governance library: {deployer} inherits ALL_REGIONS"
    assert "GRANT ROLE PII_READER TO ROLE CUSTOMERS_DEPLOYER" in grants
    assert "GRANT ROLE PII_READER TO ROLE ORDERS_DEPLOYER" not in grants
    # every role the library's entitlements name exists, so that someone can hold it
    creates = {s.sql.split()[2] for s in plan.statements if s.sql.startswith("CREATE ROLE ")}
    assert {"PII_READER", "ALL_REGIONS", "EMEA_ANALYST", "LATAM_ANALYST"} <= creates


def test_a_role_dropped_from_the_library_is_no_longer_granted(tmp_path: Path) -> None:
    root = copy_mesh(tmp_path / "mesh")
    library = root / "governance.yml"
    library.write_text(library.read_text().replace(
        "  ORDERS_DEPLOYER:\n    description: The role orders builds with; it joins every customer, of every "
        "region.\n    inherits: [ALL_REGIONS]\n", ""))
    sql = [s.sql for s in plan_snowflake(_footprint(root), RecordedState(), offline=True).statements]
    assert "GRANT ROLE ALL_REGIONS TO ROLE ORDERS_DEPLOYER" not in sql
    assert "GRANT ROLE ALL_REGIONS TO ROLE FINANCE_DEPLOYER" in sql


def test_a_domain_extension_role_is_provisioned_too(tmp_path: Path) -> None:
    root = copy_mesh(tmp_path / "mesh")
    project = root / "domains/orders/dbt_project.yml"
    project.write_text(project.read_text().replace("\nmodels:\n", "\nvars:\n  data_mesh:\n    roles:\n"
                                                   "      ORDERS_ANALYST: {inherits: [EMEA_ANALYST]}\nmodels:\n"))
    sql = [s.sql for s in plan_snowflake(_footprint(root), RecordedState(), offline=True).statements]
    assert "GRANT ROLE EMEA_ANALYST TO ROLE ORDERS_ANALYST" in sql
    assert any(s.startswith("CREATE ROLE ORDERS_ANALYST ") for s in sql)


def test_a_bad_role_name_in_the_library_is_one_line(tmp_path: Path) -> None:
    root = copy_mesh(tmp_path / "mesh")
    library = root / "governance.yml"
    library.write_text(library.read_text().replace("inherits: [ALL_REGIONS]", "inherits: [ALL-REGIONS]", 1))
    with pytest.raises(MeshError, match=r"governance.yml: roles.ORDERS_DEPLOYER.inherits: role name 'ALL-REGIONS'"):
        _footprint(root)


def _held_by(role: str, sqls: list[str]) -> set[str]:
    """Every role `role` inherits through the planned `GRANT ROLE x TO ROLE y` statements (itself included)."""
    grants = [re.fullmatch(r"GRANT ROLE (\w+) TO ROLE (\w+)", sql) for sql in sqls]
    return set(held_roles(role, [(m.group(1), m.group(2)) for m in grants if m]))


def test_no_entitlement_role_rolls_up_to_sysadmin() -> None:
    """Item 4 of issue 26: IS_ROLE_IN_SESSION is true for every role inheriting the tested one
    (https://docs.snowflake.com/en/sql-reference/functions/is_role_in_session): an entitlement role granted to the
    admin role, which rolls up to SYSADMIN, lets every SYSADMIN user read PII in clear and every region. The admin
    role owns those roles instead (the owner may grant a role, https://docs.snowflake.com/en/sql-reference/sql/
    grant-role, without inheriting it, https://docs.snowflake.com/en/user-guide/security-access-control-overview)."""
    footprint = _footprint()
    sqls = _sqls(plan_snowflake(footprint, RecordedState(), offline=True))
    sysadmin = _held_by("SYSADMIN", sqls)
    assert "MESH_ADMIN" in sysadmin and "ORDERS_ENGINEER" in sysadmin and "CUSTOMERS_READ" in sysadmin
    assert not sysadmin & {"PII_READER", "ALL_REGIONS", "EMEA_ANALYST", "CUSTOMERS_DEPLOYER", "ORDERS_DEPLOYER"}
    owned = {m.group(1) for sql in sqls if (m := re.fullmatch(
        r"GRANT OWNERSHIP ON ROLE (\w+) TO ROLE MESH_ADMIN COPY CURRENT GRANTS", sql))}
    assert owned == {"PII_READER", "ALL_REGIONS", "EMEA_ANALYST", "NA_ANALYST", "APAC_ANALYST", "LATAM_ANALYST",
                     "CUSTOMERS_DEPLOYER", "ORDERS_DEPLOYER", "FINANCE_DEPLOYER"}
    # the ownership passes once the role holds its grants, and needs MANAGE GRANTS (SECURITYADMIN)
    plan = plan_snowflake(footprint, RecordedState(), offline=True)
    ownership = [i for i, s in enumerate(plan.statements) if s.sql.startswith("GRANT OWNERSHIP")]
    assert min(ownership) > max(i for i, s in enumerate(plan.statements) if s.sql.startswith("GRANT ROLE"))
    assert {plan.statements[i].role for i in ownership} == {"SECURITYADMIN"}


def test_an_entitlement_rolled_up_by_an_earlier_version_is_revoked_and_its_ownership_passed() -> None:
    """An account provisioned before the rule: the admin role holds PII_READER and CUSTOMERS_DEPLOYER, which
    USERADMIN owns. The plan revokes both (destructive: `--allow-destroy` applies it) even without `--prune`,
    and passes their ownership to the admin role."""
    footprint = _footprint()
    state = converged_state(footprint)
    for role in ("PII_READER", "CUSTOMERS_DEPLOYER"):
        state["SHOW GRANTS TO ROLE MESH_ADMIN"].append(
            {"privilege": "USAGE", "granted_on": "ROLE", "name": role, "granted_to": "ROLE",
             "grantee_name": "MESH_ADMIN"})
        next(row for row in state["SHOW ROLES"] if row["name"] == role)["owner"] = "USERADMIN"
    plan = plan_snowflake(footprint, RecordedState(state))
    assert [(s.sql, s.destructive) for s in plan.statements] == [
        ("GRANT OWNERSHIP ON ROLE PII_READER TO ROLE MESH_ADMIN COPY CURRENT GRANTS", False),
        ("GRANT OWNERSHIP ON ROLE CUSTOMERS_DEPLOYER TO ROLE MESH_ADMIN COPY CURRENT GRANTS", False),
        ("REVOKE ROLE CUSTOMERS_DEPLOYER FROM ROLE MESH_ADMIN", True),
        ("REVOKE ROLE PII_READER FROM ROLE MESH_ADMIN", True),
    ]
    assert not [note for note in plan.notes if note.startswith("drift")]
