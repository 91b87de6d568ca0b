"""Governance on Snowflake: the exact DDL (golden files), valid Snowflake SQL (sqlfluff), the dbt-snowflake build
run against a local fakesnow server, and live tests when SNOWFLAKE_ACCOUNT is set."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from conftest import copy_mesh
from governance_recorder import RECORD_ENV, install_recorder
from ingest_helpers import FAKESNOW_SERVER, land_on_fakesnow
from sql_oracle import assert_snowflake_sql

from mesh_cli.core.config import load_config
from mesh_cli.core.sql_literals import snowflake_unquote
from mesh_cli.dbt.invoke import DbtCall, DbtJob, DbtWorkers, with_deps
from mesh_cli.engines.snowflake import SnowflakeEngine, connect, environment_profile
from mesh_cli.governance.plan import DomainPlan, governance_plan

GOLDEN = Path(__file__).parent / "golden" / "governance"
POLICY = re.compile(r"^create (masking|row access) policy if not exists (\S+) as \((.*?)\) returns (\w+) -> "
                    r"(.*?)(?: comment = '(?:[^']|'')*')?$", re.S)


@pytest.fixture(scope="module")
def prod_plans(tmp_path_factory: pytest.TempPathFactory) -> list[DomainPlan]:
    root = copy_mesh(tmp_path_factory.mktemp("plan") / "mesh")
    return governance_plan(load_config(root), "prod")


def test_prod_plan_matches_the_golden_files(prod_plans: list[DomainPlan]) -> None:
    assert [plan.domain for plan in prod_plans] == ["customers", "orders", "finance"]
    for plan in prod_plans:
        golden = GOLDEN / f"prod_{plan.domain}.sql"
        if os.environ.get("UPDATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(plan.sql())
        assert plan.sql() == golden.read_text(), f"{golden.name} differs; rerun with UPDATE_GOLDEN=1 and review"


def test_every_pii_column_is_masked_inline_and_every_public_table_tagged(prod_plans: list[DomainPlan]) -> None:
    customers = next(plan for plan in prod_plans if plan.domain == "customers")
    v2 = next(s for s in customers.statements if "table CUSTOMERS.marts.dim_customers_v2 (" in s)
    for column, policy in [("first_name", "mask_full"), ("last_name", "mask_full"), ("email", "mask_email"),
                           ("phone", "mask_full"), ("birth_date", "mask_date_to_year")]:
        assert re.search(rf"\n    {column} \w+ with masking policy CUSTOMERS\.governance\.{policy} ", v2), column
    assert "with row access policy CUSTOMERS.governance.region_entitlement on (region)" in v2
    tables = [s for plan in prod_plans for s in plan.statements if s.startswith("create or replace transient table")]
    assert len(tables) == 7
    assert all("governance.data_domain = '" in table for table in tables)


def test_generated_sql_is_valid_snowflake(prod_plans: list[DomainPlan]) -> None:
    """sqlfluff's Snowflake dialect parses every statement (tests/sql_oracle.py); it fails on what it cannot parse."""
    assert assert_snowflake_sql(s for plan in prod_plans for s in plan.statements) > 50


VIEW_YML = """models:
  - name: customer_contacts
    description: Who to contact per customer, for the service desk.
    config:
      materialized: view
      secure: true
      meta:
        data_mesh: {tags: {data_domain: customers}, row_access: {policy: region_entitlement, columns: [region]}}
    columns:
      - name: customer_id
        data_type: integer
      - name: email
        data_type: varchar
        config:
          meta:
            data_mesh: {masking: mask_email, tags: {pii: email}}
      - name: region
        data_type: varchar
"""


def add_governed_view(root: Path) -> None:
    """A secure view in customers with a masked column, a row access policy and tags."""
    marts = root / "domains" / "customers" / "models" / "marts"
    (marts / "customer_contacts.sql").write_text(
        "select customer_id, email, region from {{ ref('dim_customers', v=2) }}\n")
    (marts / "_customer_contacts.yml").write_text(VIEW_YML)


def test_a_backslash_in_a_description_stays_itself_on_snowflake(tmp_path: Path) -> None:
    """A backslash starts an escape sequence in a Snowflake string constant
    (https://docs.snowflake.com/en/sql-reference/data-types-text#escape-sequences-in-single-quoted-string-constants):
    the package doubles it, so a description ending in one does not swallow the closing quote and `C:\\masks\\)`
    reads back as written (the DuckDB rule keeps backslashes: tests/test_integration_tests.py)."""
    root = copy_mesh(tmp_path / "mesh")
    library = yaml.safe_load((root / "governance.yml").read_text())
    tag = next(iter(library["tags"]))
    library["tags"][tag]["description"] = "Kept in C:\\masks\\) and ends in \\"
    (root / "governance.yml").write_text(yaml.safe_dump(library, sort_keys=False))
    [plan] = governance_plan(load_config(root), "prod", ["customers"])
    [created] = [s for s in plan.statements if s.startswith("create tag") and f".{tag} " in s]
    literal = created.split(" comment = '", 1)[1]
    assert literal.endswith("'") and snowflake_unquote(literal[:-1]) == library["tags"][tag]["description"]
    assert literal == "Kept in C:\\\\masks\\\\) and ends in \\\\'"
    assert_snowflake_sql([created])


def test_a_governed_view_is_created_with_its_protection_inline(tmp_path: Path) -> None:
    """CREATE VIEW takes masking policies per column, the row access policy and tags inline
    (https://docs.snowflake.com/en/sql-reference/sql/create-view): no ALTER VIEW after it, so a rebuilt view never
    exists unprotected."""
    root = copy_mesh(tmp_path / "mesh")
    add_governed_view(root)
    [plan] = governance_plan(load_config(root), "prod", ["customers"])
    [view] = [s for s in plan.statements if " view " in s.split("(", 1)[0]]
    assert view.startswith("create or replace secure view CUSTOMERS.marts.customer_contacts (\n")
    columns = view.split("(\n", 1)[1].split("\n)", 1)[0]
    assert columns.split(",\n") == [
        "    CUSTOMER_ID",
        "    EMAIL with masking policy CUSTOMERS.governance.mask_email with tag (CUSTOMERS.governance.pii = 'email')",
        "    REGION"]
    assert "\n) with row access policy" not in view   # each clause on its own line after the column list
    assert "\nwith row access policy CUSTOMERS.governance.region_entitlement on (region)" in view
    assert "\n    with tag (CUSTOMERS.governance.data_domain = 'customers')" in view
    assert not [s for s in plan.statements if s.startswith("alter view")]
    assert_snowflake_sql([view])


def _fakesnow_profile(domain: Path, connection: dict[str, object]) -> None:
    path = domain / "profiles.yml"
    profiles = yaml.safe_load(path.read_text())
    profiles[domain.name]["outputs"]["fakesnow"] = {
        "type": "snowflake", "account": connection["account"], "user": connection["user"],
        "password": connection["password"], "host": connection["host"], "port": connection["port"],
        "protocol": connection["protocol"], "database": domain.name.upper(), "schema": "MARTS",
        "role": f"{domain.name.upper()}_DEPLOYER", "warehouse": "WH", "threads": 2}
    path.write_text(yaml.safe_dump(profiles))


def test_dbt_snowflake_build_runs_on_fakesnow_with_governance_recorded(tmp_path: Path,
                                                                        prod_plans: list[DomainPlan]) -> None:
    """fakesnow cannot parse tags, policies or their inline clauses: in recording mode the package logs those
    statements instead of running them, and the rest of the dbt-snowflake build runs for real."""
    fakesnow = pytest.importorskip("fakesnow")
    root = copy_mesh(tmp_path / "mesh")
    add_governed_view(root)
    domain = root / "domains" / "customers"
    with (FAKESNOW_SERVER or fakesnow.server)() as connection:
        _fakesnow_profile(domain, connection)
        install_recorder(domain)          # test only: the shipped package has no switch (tests/governance_recorder.py)
        import snowflake.connector

        with snowflake.connector.connect(**connection) as raw:  # the customers' CRM files (docs/ingestion.md)
            assert land_on_fakesnow(domain, SnowflakeEngine(load_config(root), "fakesnow", connection=raw)) == 2000
        job = DbtJob(with_deps(domain, DbtCall(("build", "--target", "fakesnow"), domain)),
                     {RECORD_ENV: "true"}, "snowflake")
        with DbtWorkers(1) as workers:
            outcome = workers.submit(job).result()
        assert outcome.ok, (outcome.error, outcome.failures)
        assert outcome.counts.get("model:success") == 6 and outcome.counts.get("test:pass", 0) >= 30
        import snowflake.connector

        with snowflake.connector.connect(**connection) as conn:
            rows = conn.cursor().execute("select count(*) from customers.marts.dim_customers_v2").fetchone()
    assert rows == (2000,)
    recorded = [m.removeprefix("data_mesh:governance ") for m in outcome.messages]
    planned = next(plan for plan in prod_plans if plan.domain == "customers").statements
    creates = [s for s in planned if s.startswith(("create tag", "create masking", "create row access"))]
    assert [s for s in recorded if s.startswith("create ")] == creates
    inline = [s for s in recorded if s.startswith("-- inline on")]
    assert any("dim_customers_v2.email: with masking policy CUSTOMERS.governance.mask_email" in s for s in inline)
    assert any("dim_customers_v2: with row access policy CUSTOMERS.governance.region_entitlement" in s
               for s in inline)
    [view] = [s for s in inline if s.startswith("-- inline on CUSTOMERS.marts.customer_contacts:")]
    assert "EMAIL with masking policy CUSTOMERS.governance.mask_email" in view
    assert "with row access policy CUSTOMERS.governance.region_entitlement on (region)" in view
    assert not [s for s in recorded if s.startswith("alter view")]


@pytest.mark.skipif(not os.environ.get("SNOWFLAKE_ACCOUNT"),
                    reason="live Snowflake test: set SNOWFLAKE_ACCOUNT (and credentials) to run it")
def test_live_snowflake_build_of_customers_is_governed(tmp_path: Path) -> None:
    root = copy_mesh(tmp_path / "mesh")
    domain = root / "domains" / "customers"
    job = DbtJob(with_deps(domain, DbtCall(("build", "--target", "prod"), domain)), {}, "snowflake")
    with DbtWorkers(1) as workers:
        outcome = workers.submit(job).result()
    assert outcome.ok, (outcome.error, outcome.failures)
    table = "CUSTOMERS.MARTS.DIM_CUSTOMERS_V2"
    with connect({**environment_profile(), "role": "CUSTOMERS_DEPLOYER"}) as connection:
        cursor = connection.cursor()
        attached = {(row[0].lower(), (row[1] or "").lower()) for row in cursor.execute(
            "select policy_name, ref_column_name from table(CUSTOMERS.information_schema.policy_references("
            f"ref_entity_name => '{table}', ref_entity_domain => 'table'))").fetchall()}
        assert {("mask_email", "email"), ("region_entitlement", "")} <= attached   # POLICY_REFERENCES
        total, clear = cursor.execute(f"select count(*), count_if(email not like '*****@%') from {table}").fetchone()
        assert total > 0 and clear == total                         # CUSTOMERS_DEPLOYER inherits PII_READER
        cursor.execute("use role CUSTOMERS_READER")
        masked = cursor.execute(f"select count(*), count_if(email like '*****@%') from {table}").fetchone()
        assert masked == (0, 0)                                    # no region entitlement: no row
        cursor.execute("use secondary roles none")
        cursor.execute("use role ORDERS_DEPLOYER")                   # inherits ALL_REGIONS, not PII_READER
        rows, masked_rows = cursor.execute(
            f"select count(*), count_if(email like '*****@%') from {table}").fetchone()
        assert rows == total and masked_rows == total


def test_account_per_domain_attaches_the_shared_variants(tmp_path: Path) -> None:
    """Across accounts a public table carries `<policy>_shared`, which also accepts the database role of the same
    name (granted to the share, https://docs.snowflake.com/en/sql-reference/functions/is_database_role_in_session)
    while provider-side holders of the account role keep clear values; in one account the plain policy stays."""
    root = copy_mesh(tmp_path / "mesh")
    settings = yaml.safe_load((root / "mesh.yml").read_text())
    settings["snowflake"] = {"topology": "account_per_domain", "accounts": {
        "customers": "RETAIL.CUSTOMERS", "orders": "RETAIL.ORDERS", "finance": "RETAIL.FINANCE"}}
    (root / "mesh.yml").write_text(yaml.safe_dump(settings, sort_keys=False))
    [customers] = governance_plan(load_config(root), "prod", ("customers",))
    v2 = next(s for s in customers.statements if "table CUSTOMERS.marts.dim_customers_v2 (" in s)
    assert re.search(r"\n    email \w+ with masking policy CUSTOMERS\.governance\.mask_email_shared ", v2)
    assert "with row access policy CUSTOMERS.governance.region_entitlement_shared on (region)" in v2
    assert "governance.mask_email " not in v2 and "region_entitlement on" not in v2
    bodies = {m.group(2).split(".")[-1]: m.group(5) for s in customers.statements if (m := POLICY.match(s))}
    assert "(is_role_in_session('PII_READER') or is_database_role_in_session('PII_READER'))" in \
        bodies["mask_email_shared"]
    assert "(is_role_in_session(e.role_name) or is_database_role_in_session(e.role_name))" in \
        bodies["region_entitlement_shared"]
    assert "is_database_role_in_session" not in bodies["mask_email"]


INCREMENTAL_YML = VIEW_YML.replace("name: customer_contacts", "name: contact_log").replace(
    "      materialized: view\n      secure: true\n",
    "      materialized: incremental\n      on_schema_change: fail\n      contract: {enforced: true}\n")
ROW_ACCESS_CASES = """{% macro row_access_cases() %}
  {%- set relation = api.Relation.create(database='CUSTOMERS', schema='marts', identifier='contact_log') -%}
  {%- set gov = {'row_access': {'policy': 'region_entitlement', 'columns': ['region']}} -%}
  {%- for attached in [none, {'policy': 'CUSTOMERS.GOVERNANCE.REGION_ENTITLEMENT', 'columns': ['REGION']},
                       {'policy': 'CUSTOMERS.GOVERNANCE.OLD_POLICY', 'columns': ['REGION']},
                       {'policy': 'CUSTOMERS.GOVERNANCE.REGION_ENTITLEMENT', 'columns': ['COUNTRY']}] -%}
    {%- do log('data_mesh:case ' ~ data_mesh.snowflake__row_access_statement(relation, gov, attached), info=true) -%}
  {%- endfor -%}
{% endmacro %}
"""
# What fakesnow cannot run, answered "Statement executed successfully.": the inline policies and tags of CREATE,
# ALTER TABLE / VIEW with policies and tags (received, so that the test sees any), and POLICY_REFERENCES.
NOP = [r"(?s)create or replace (secure view|transient table) \S+ \(.*with masking policy", r"(?s)alter (table|view) ",
       r"(?s)select .*information_schema\.policy_references"]
QUERY_COMMENT = re.compile(r"/\* \{\"app\": \"dbt\".*?\} \*/", re.S)   # dbt's, appended to each statement


def test_what_runs_on_snowflake_keeps_grants_and_protects_views_inline_and_incremental_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The statements dbt-snowflake sends with governance on (recording off), as fakesnow receives them: the path
    that runs in production, not the plan macro. A governed view is created with its protection inline and no
    ALTER VIEW (https://docs.snowflake.com/en/sql-reference/sql/create-view); CREATE OR REPLACE says COPY GRANTS
    (`+copy_grants: true`: the share and reader roles keep SELECT across a rebuild,
    https://docs.snowflake.com/en/sql-reference/sql/create-table); a governed incremental model, which later runs
    append to, sets its masking policies (FORCE) and tags and adds its row access policy on every run
    (https://docs.snowflake.com/en/sql-reference/sql/alter-table); the row access statement adds, leaves or swaps
    in one statement by what is attached."""
    fakesnow = pytest.importorskip("fakesnow")
    root = copy_mesh(tmp_path / "mesh")
    domain = root / "domains" / "customers"
    marts = domain / "models" / "marts"
    select = "select 1 as customer_id, 'ann@example.com' as email, 'EMEA' as region\n"
    (marts / "customer_contacts.sql").write_text(select)
    (marts / "_customer_contacts.yml").write_text(VIEW_YML)
    (marts / "contact_log.sql").write_text(select)
    (marts / "_contact_log.yml").write_text(INCREMENTAL_YML)
    (domain / "macros").mkdir(exist_ok=True)
    (domain / "macros" / "row_access_cases.sql").write_text(ROW_ACCESS_CASES)
    project = yaml.safe_load((domain / "dbt_project.yml").read_text())
    del project["on-run-start"]   # creating the tags and policies is the recording test's; fakesnow has neither
    (domain / "dbt_project.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    import fakesnow.server as fakesnow_server

    with (FAKESNOW_SERVER or fakesnow.server)() as connection:
        _fakesnow_profile(domain, connection)
        monkeypatch.setattr(fakesnow_server.shared_fs, "nop_regexes", NOP)
        monkeypatch.setenv("FAKESNOW_DEBUG", "snowflake")     # the server prints each statement it receives
        calls = (DbtCall(("run", "--target", "fakesnow", "--select", "customer_contacts", "contact_log"), domain),
                 DbtCall(("run-operation", "row_access_cases", "--target", "fakesnow"), domain))
        with DbtWorkers(1) as workers:
            outcome = workers.submit(DbtJob(with_deps(domain, *calls), {}, "snowflake")).result()
    assert outcome.ok, (outcome.error, outcome.failures)
    received = [QUERY_COMMENT.sub("", s).strip() for s in capsys.readouterr().err.split(";\n") if s.strip()]
    [view] = [s for s in received if s.startswith("create or replace secure view CUSTOMERS.marts.customer_contacts")]
    assert "EMAIL with masking policy CUSTOMERS.governance.mask_email with tag (CUSTOMERS.governance.pii = " \
           "'email')" in view
    assert "\nwith row access policy CUSTOMERS.governance.region_entitlement on (region)" in view
    assert "\ncopy grants" in view
    assert not [s for s in received if s.lower().startswith("alter view")]
    [table] = [s for s in received if s.startswith("create or replace transient table CUSTOMERS.marts.contact_log")]
    assert "email varchar with masking policy CUSTOMERS.governance.mask_email" in table
    # CREATE TABLE takes COPY GRANTS before ROW ACCESS POLICY and TAG (https://docs.snowflake.com/en/sql-reference/
    # sql/create-table; the other order is a syntax error, dbt-labs/dbt-adapters#1960): data_mesh's
    # snowflake__create_table_as writes it there, where dbt-snowflake appends it after the contract's clauses
    assert "\ncopy grants\nwith row access policy CUSTOMERS.governance.region_entitlement on (region)" in table
    log = "alter table CUSTOMERS.marts.contact_log"
    runs = [s for s in received if s.startswith(log)]
    assert runs == [f"{log} set tag CUSTOMERS.governance.data_domain = 'customers'",
                    f"{log} modify column email set masking policy CUSTOMERS.governance.mask_email force",
                    f"{log} modify column email set tag CUSTOMERS.governance.pii = 'email'",
                    f"{log} add row access policy CUSTOMERS.governance.region_entitlement on (region)"]
    [attached] = [s for s in received if "information_schema.policy_references(" in s]
    assert "policy_references(ref_entity_name => 'CUSTOMERS.marts.contact_log', ref_entity_domain => 'table')" \
        in attached and attached.endswith("where policy_kind = 'ROW_ACCESS_POLICY'")
    cases = [m.removeprefix("data_mesh:case ") for m in outcome.messages if m.startswith("data_mesh:case ")]
    assert cases == [runs[-1], "None",
                     f"{log} drop row access policy CUSTOMERS.GOVERNANCE.OLD_POLICY, add row access policy "
                     "CUSTOMERS.governance.region_entitlement on (region)",
                     f"{log} drop row access policy CUSTOMERS.GOVERNANCE.REGION_ENTITLEMENT, add row access policy "
                     "CUSTOMERS.governance.region_entitlement on (region)"]
    assert_snowflake_sql([view, table, attached, *runs, *cases[2:]])


def test_outside_consumer_accounts_in_one_account_get_the_share_safe_variants(tmp_path: Path) -> None:
    """One account, but customer_master is shared with an outside account (`consumers.accounts`): its models carry
    `<policy>_shared`, which decides with the database roles the share carries (IS_ROLE_IN_SESSION is NULL in a
    consumer account, https://docs.snowflake.com/en/sql-reference/functions/is_role_in_session), and a column
    masked only through its tag gets the `_shared` variant on the column, which takes precedence over the tag's
    plain policy (https://docs.snowflake.com/en/user-guide/tag-based-masking-policies). Without an outside account
    the plain policies stay (the golden files)."""
    root = copy_mesh(tmp_path / "mesh")
    library = yaml.safe_load((root / "governance.yml").read_text())
    library["tags"]["pii"]["masking_policies"] = ["mask_full"]
    (root / "governance.yml").write_text(yaml.safe_dump(library, sort_keys=False))
    marts = root / "domains/customers/models/marts/_marts.yml"
    marts.write_text(marts.read_text().replace("data_mesh: {masking: mask_full, tags: {pii: phone}}",
                                               "data_mesh: {tags: {pii: phone}}"))
    products = root / "domains/customers/domain.yml"
    products.write_text(products.read_text().replace("accounts: []", "accounts: [ACME.PARTNER]"))
    [customers] = governance_plan(load_config(root), "prod", ("customers",))
    v2 = next(s for s in customers.statements if "table CUSTOMERS.marts.dim_customers_v2 (" in s)
    assert re.search(r"\n    email \w+ with masking policy CUSTOMERS\.governance\.mask_email_shared ", v2)
    assert re.search(r"\n    phone \w+ with masking policy CUSTOMERS\.governance\.mask_full_shared with tag ", v2)
    assert "with row access policy CUSTOMERS.governance.region_entitlement_shared on (region)" in v2
    assert "governance.mask_email " not in v2 and "region_entitlement on" not in v2
    assert "alter tag CUSTOMERS.governance.pii set masking policy CUSTOMERS.governance.mask_full force" in \
        customers.statements
    assert_snowflake_sql([v2])
