"""Every statement the tool can emit is valid Snowflake SQL, by a validator that can fail (tests/sql_oracle.py,
sqlfluff's Snowflake dialect), and every kind of statement carries its key clauses, checked here without golden
files.

The statements: publish in both topologies with an organization listing (offline plans of the example mesh) and
re-plans of a converged account after changes; provisioning from nothing, after changes and with --prune; ingestion
of every mode from nothing and re-planned after changes (with and without --full-refresh); the governance plan.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from conftest import copy_mesh
from ingest_helpers import COLUMNS, make_mesh, source
from sql_oracle import GAPS, assert_snowflake_sql, gap_of, unparsable
from test_ingest_fidelity import EXTERNAL
from test_ingest_fidelity import _state as external_state
from test_ingest_snowflake import COPY, EVERY_MODE, _existing
from test_provision_plan import _with_strays, converged_state
from test_shares_diff import OBJECTS, SHARE_SQL, _recorded, _shares

from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains, load_domain
from mesh_cli.core.plan import RecordedState
from mesh_cli.engines.snowflake_ingest import plan_domain
from mesh_cli.engines.snowflake_provision import plan_snowflake
from mesh_cli.governance.plan import governance_plan
from mesh_cli.ingest import load_ingest_tables
from mesh_cli.provision import declared_footprint
from mesh_cli.shares.diff import plan_shares, read_current
from mesh_cli.shares.publish import publish


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example mesh with an organization listing for one account of the organisation and one outside it."""
    root = copy_mesh(tmp_path_factory.mktemp("oracle") / "mesh")
    _edit(root / "domains/customers/domain.yml", lambda d: d["products"][0].update(
        listing={"title": "Customer master"},
        consumers={"domains": ["orders", "finance"], "accounts": ["RETAIL.MARKETING", "ACME.PARTNER"]}))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SNOWFLAKE_ACCOUNT", raising=False)
        patch.delenv("MESH_SNOWFLAKE_DATABASE_PREFIX", raising=False)
        yield root


def _publish_statements(root: Path, snowflake: dict) -> list[str]:
    _edit(root / "mesh.yml", lambda d: d.update(snowflake=snowflake))
    results = publish(load_config(root), "prod", [], plan_only=True)
    assert all(r.ok for r in results), [r.error for r in results]
    return [s.sql for r in results for s in r.plan.statements]  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def publish_one_account(mesh: Path) -> list[str]:
    return _publish_statements(mesh, {"topology": "one_account", "organization": "RETAIL"})


@pytest.fixture(scope="module")
def publish_account_per_domain(mesh: Path) -> list[str]:
    return _publish_statements(mesh, {"topology": "account_per_domain", "accounts": {
        "customers": "RETAIL.CUSTOMERS", "orders": "RETAIL.ORDERS", "finance": "RETAIL.FINANCE"}})


def _republish() -> list[str]:
    """A converged account re-planned after changes: models, consumers and the description swapped; a product
    dropped."""
    changed = _shares((*OBJECTS[1:], "CUSTOMERS.MARTS.DIM_STORES"), accounts=("RETAIL.FINANCE",),
                      roles=("ORDERS_DEPLOYER",), comment="A new description, it's \\ here.")
    dropped = _shares()
    dropped.desired, dropped.database_roles, dropped.retired_roles = [], (), ("CUSTOMERS.CUSTOMER_MASTER_READER",)
    return [s.sql for shares in (changed, dropped) for s in
            plan_shares(shares, read_current(RecordedState(_recorded()), shares), "t", sql=SHARE_SQL).statements]


def _provision() -> list[str]:
    config = load_config(Path(__file__).parent.parent)
    footprint = declared_footprint(config, discover_domains(config))
    state = _with_strays(footprint)
    for row in state["SHOW WAREHOUSES"]:
        if row["name"] == "ORDERS_WH":
            row.update(size="Large", auto_suspend=600)
    state["SHOW RESOURCE MONITORS"][0].update(credit_quota="10.00", notify_at="50%")
    plans = [plan_snowflake(footprint, RecordedState(), offline=True),
             plan_snowflake(footprint, RecordedState(state), prune=True)]
    strays = converged_state(footprint)      # grants the mesh no longer declares: revoked with --prune
    strays["SHOW GRANTS TO ROLE FINANCE_ENGINEER"].append(
        {"privilege": "USAGE", "granted_on": "DATABASE ROLE", "name": "CUSTOMERS.RETIRED_READER"})
    strays["SHOW GRANTS TO ROLE ORDERS_ENGINEER"].append(
        {"privilege": "CREATE SHARE", "granted_on": "ACCOUNT", "name": "XY12345"})
    plans.append(plan_snowflake(footprint, RecordedState(strays), prune=True))
    across = replace(footprint, domains=tuple(replace(domain, mounting_role=f"{domain.domain.upper()}_MOUNTER")
                                              for domain in footprint.domains))   # account per domain
    plans.append(plan_snowflake(across, RecordedState(), offline=True))
    return [s.sql for plan in plans for s in plan.statements]


def _ingest(tmp_path: Path) -> list[str]:
    root = tmp_path / "mesh"
    statements: list[str] = []

    def plan(sources: list[dict], state: dict | None = None, full_refresh: bool = False) -> None:
        make_mesh(root, sources)
        tables = load_ingest_tables(load_domain(root / "domains/shop"))
        statements.extend(s.sql for s in plan_domain("shop", tables, "SHOP", RecordedState(state),
                                                     full_refresh).statements)

    plan(EVERY_MODE)
    plan([source(COPY, columns=[*COLUMNS, {"name": "note", "data_type": "varchar"}])], _existing())
    retyped = [source({**COPY, "file_format": {"type": "csv", "skip_header": 0}},
                      columns=[{**COLUMNS[0], "data_type": "varchar"}, *COLUMNS[1:]])]
    plan(retyped, _existing(), full_refresh=True)
    external = [source(EXTERNAL, columns=[{"name": "sku", "data_type": "varchar"}], table="items")]
    plan(external, external_state(url="s3://bucket/old/"), full_refresh=True)
    plan(external, external_state(format_type="CSV"), full_refresh=True)
    plan(external, {**external_state(), "SHOW STAGES IN SCHEMA SHOP.LANDING": [{"name": "RAW_S3", "url": ""}]},
         full_refresh=True)
    pipe = {"SHOW SCHEMAS LIKE 'LANDING' IN DATABASE SHOP": [{"name": "LANDING"}],
            "SHOW STAGES IN SCHEMA SHOP.LANDING": [{"name": "RAW_S3", "url": "s3://bucket/shop/"}],
            "SHOW TABLES IN SCHEMA SHOP.LANDING": [{"name": "CLICKS"}],
            "SHOW PIPES IN SCHEMA SHOP.LANDING": [{"name": "CLICKS_PIPE", "definition": "COPY INTO old"}],
            "SHOW EXTERNAL TABLES IN SCHEMA SHOP.LANDING": [{"name": "ITEMS"}],
            "SHOW COLUMNS IN SCHEMA SHOP.LANDING": []}
    plan([EVERY_MODE[1], EVERY_MODE[2]], pipe, full_refresh=True)
    return statements


@pytest.fixture(scope="module")
def every_statement(mesh: Path, publish_one_account: list[str], publish_account_per_domain: list[str],
                    tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    governance = [s for plan in governance_plan(load_config(mesh), "prod") for s in plan.statements]
    return [*publish_one_account, *publish_account_per_domain, *_republish(), *_provision(),
            *_ingest(tmp_path_factory.mktemp("ingest")), *governance]


# ---- the oracle can fail ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "GRANT SELECT ON TABLE X TO SHAR Y",                      # a misspelt keyword
    "ALTER STAGE X SET URLL = 's3://b/'",                      # an unknown option
    "CREATE SHARE S COMMENT 'x'",                              # a missing `=`
    "CREATE STAGE S URL = 's3://b/x\\'",                       # an unescaped backslash swallows the closing quote
    "CREATE TABLE X (A INT",                                   # unbalanced
    # WITH TAG / ROW ACCESS POLICY before COPY GRANTS in CREATE TABLE (dbt-labs/dbt-adapters#1960; sqlfluff parses
    # it, the clause order check of sql_oracle does not: https://docs.snowflake.com/en/sql-reference/sql/create-table)
    "create or replace transient table D.S.T (a varchar)\nwith row access policy D.G.P on (a)\n    "
    "with tag (D.G.T = 'v') copy grants\nas (select 1)",
    "create or replace table D.S.T (a varchar) with tag (D.G.T = 'v') copy grants as (select 1)",
    "create or replace secure view D.S.V (a) copy grants with tag (D.G.T = 'v') with row access policy D.G.P on (a) "
    "as (select 1)",
])
def test_the_oracle_rejects_invalid_snowflake_sql(sql: str) -> None:
    assert unparsable(sql)
    with pytest.raises(AssertionError, match="not valid Snowflake SQL"):
        assert_snowflake_sql([sql])


@pytest.mark.parametrize("bad", [
    "CREATE ORGANIZATION LISTING IF NOT EXISTS S SHARE S AS $$\ntitle: t\norganization_targets: {discovery: "
    "[{all_internal_accounts: true}], access: []}\nsupport_contact: a\napprover_contact: a\n$$ PUBLISH = TRUE",
    "DROP DATABASE ROLE CUSTOMER_MASTER_READER",                  # not named in its database
    "ALTER LISTING S AS $$\ntitle: t\norganization_targets: {discovery: [{all_internal_accounts: true}], "
    "access: []}\nsupport_contact: a\napprover_contact: a\n$$",       # a new manifest that reaches nobody
    "DROP LISTING db.S",                                          # a listing is no schema object
])
def test_the_gaps_are_few_and_still_checked(bad: str) -> None:
    """Four gaps, documented; a statement in one is still checked (an empty access list, an unqualified role, a
    qualified listing)."""
    assert len(GAPS) == 4 and all(gap.doc.startswith("https://docs.snowflake.com/") for gap in GAPS)
    assert unparsable(bad) and gap_of(bad) is not None
    with pytest.raises(AssertionError):
        assert_snowflake_sql([bad])


# ---- every statement parses -------------------------------------------------------------------------------------

def test_every_statement_the_tool_emits_is_valid_snowflake_sql(every_statement: list[str]) -> None:
    parsed = assert_snowflake_sql(every_statement)
    assert parsed >= len(every_statement) - 3 and parsed > 300   # the listings and a dropped database role


# ---- each kind carries its key clauses (no golden file) ---------------------------------------------------------

NAME = r"[A-Z_][A-Z0-9_$]*"
QUALIFIED = rf"{NAME}(?:\.{NAME}){{0,2}}"
STRING = r"'(?:[^'\\]|\\.|'')*'"
KINDS: dict[str, str] = {
    # publish
    "create share": rf"CREATE SHARE {NAME} COMMENT = {STRING}",
    "alter share comment": rf"ALTER SHARE {NAME} SET COMMENT = {STRING}",
    "share accounts": rf"ALTER SHARE {NAME} (ADD|REMOVE) ACCOUNTS = {NAME}\.{NAME}(, {NAME}\.{NAME})*",
    "drop share": rf"DROP SHARE {NAME}",
    "grant to share": rf"(GRANT|REVOKE) (USAGE|REFERENCE_USAGE|SELECT) ON (DATABASE|SCHEMA|TABLE|VIEW) {QUALIFIED} "
                      rf"(TO|FROM) (SHARE {NAME}|DATABASE ROLE {NAME}\.{NAME})",
    "database role to share or role": rf"(GRANT|REVOKE) DATABASE ROLE {NAME}\.{NAME} (TO|FROM) "
                                      rf"(SHARE {NAME}|DATABASE ROLE {NAME}\.{NAME}|ROLE {NAME})",
    "create database role": rf"CREATE DATABASE ROLE IF NOT EXISTS {NAME}\.{NAME}",
    "drop database role": rf"DROP DATABASE ROLE {NAME}\.{NAME}",
    "organization listing": rf"CREATE ORGANIZATION LISTING IF NOT EXISTS {NAME} SHARE {NAME} AS \$\$\n.*\$\$ "
                            "PUBLISH = TRUE",
    "mount": rf"CREATE DATABASE {NAME} FROM SHARE {NAME}\.{NAME}\.{NAME}",
    "mounting role": rf"USE ROLE {NAME}_MOUNTER",
    # provision
    "create role/database/schema": rf"CREATE (ROLE|DATABASE|SCHEMA) {QUALIFIED} COMMENT = {STRING}",
    "resource monitor": rf"CREATE RESOURCE MONITOR {NAME} WITH CREDIT_QUOTA = \d+ FREQUENCY = [A-Z]+ "
                        r"START_TIMESTAMP = IMMEDIATELY( TRIGGERS( ON \d+ PERCENT DO (NOTIFY|SUSPEND))+)?",
    "alter resource monitor": rf"ALTER RESOURCE MONITOR {NAME} SET .+",
    "warehouse": rf"CREATE WAREHOUSE {NAME} WITH WAREHOUSE_SIZE = [A-Z0-9]+ AUTO_SUSPEND = \d+ AUTO_RESUME = "
                 rf"(TRUE|FALSE) INITIALLY_SUSPENDED = TRUE RESOURCE_MONITOR = {NAME} COMMENT = {STRING}",
    "alter warehouse": rf"ALTER WAREHOUSE {NAME} SET .+",
    "role grant": rf"(GRANT ROLE {NAME} TO|REVOKE ROLE {NAME} FROM) ROLE {NAME}",
    "privilege": rf"(GRANT|REVOKE) [A-Z ]+ ON (DATABASE|SCHEMA|WAREHOUSE) {QUALIFIED} (TO|FROM) ROLE {NAME}",
    "privilege passed on": rf"GRANT USAGE ON (DATABASE|SCHEMA) {QUALIFIED} TO ROLE {NAME}_DEPLOYER WITH GRANT OPTION",
    "account privilege": rf"(GRANT|REVOKE) (CREATE SHARE|IMPORT SHARE|CREATE DATABASE) ON ACCOUNT (TO|FROM) "
                         rf"ROLE {NAME}",
    "role ownership": rf"GRANT OWNERSHIP ON ROLE {NAME} TO ROLE {NAME} COPY CURRENT GRANTS",
    "reader role ownership": rf"GRANT OWNERSHIP ON DATABASE ROLE {NAME}\.{NAME}_READER TO ROLE {NAME}_DEPLOYER COPY "
                             "CURRENT GRANTS",
    "future grant": rf"(GRANT|REVOKE) (SELECT|INSERT|UPDATE|DELETE) ON FUTURE (TABLES|VIEWS) IN SCHEMA "
                    rf"{NAME}\.{NAME} (TO|FROM) ROLE {NAME}",
    "drop": rf"DROP (WAREHOUSE|RESOURCE MONITOR|SCHEMA|DATABASE|ROLE|EXTERNAL TABLE) {QUALIFIED}",
    # ingest
    "landing schema": rf"CREATE SCHEMA IF NOT EXISTS {NAME}\.{NAME}",
    "stage": rf"CREATE (OR REPLACE )?STAGE {QUALIFIED}( URL = {STRING}( STORAGE_INTEGRATION = \w+)?)?",
    "alter stage url": rf"ALTER STAGE {QUALIFIED} SET URL = {STRING}",
    "file format": rf"CREATE (OR REPLACE )?FILE FORMAT {QUALIFIED} TYPE = (CSV|JSON|PARQUET)( [A-Z_]+ = .+)*",
    "landing table": rf"CREATE (OR REPLACE )?TABLE {QUALIFIED} \(.+\)( ENABLE_SCHEMA_EVOLUTION = TRUE)?",
    "add column": rf"ALTER TABLE {QUALIFIED} ADD COLUMN {NAME} .+",
    "copy": rf"COPY INTO {QUALIFIED} \(.+\) FROM \(SELECT .+ FROM @{QUALIFIED}/\S*\) FILE_FORMAT = \(FORMAT_NAME = "
            rf"{STRING}\)( PATTERN = {STRING})? ON_ERROR = [A-Z_]+",
    "pipe": rf"CREATE (OR REPLACE )?PIPE {QUALIFIED} AUTO_INGEST = (TRUE|FALSE).* AS COPY INTO .+",
    "external table": rf"CREATE (OR REPLACE )?EXTERNAL TABLE {QUALIFIED} \(.+\)( PARTITION BY \(.+\))? LOCATION = "
                      rf"@{QUALIFIED}/\S* AUTO_REFRESH = (TRUE|FALSE)( PATTERN = {STRING})? FILE_FORMAT = "
                      rf"\(FORMAT_NAME = {STRING}\)",
    "refresh": rf"ALTER (PIPE|EXTERNAL TABLE) {QUALIFIED} REFRESH",
    "kafka view": rf"CREATE OR REPLACE VIEW {QUALIFIED} AS SELECT .+ AS _LOADED_AT, .+ FROM {QUALIFIED}",
    # governance (the dbt package's plan, lower case)
    "governance policy": r"create (masking|row access) policy if not exists \S+ as \(.+\) returns \w+ -> .+",
    "governance tag": r"(create tag if not exists \S+( allowed_values .+)?( comment = .+)?|alter tag .+)",
    "governance table": r"create or replace (transient )?table \S+ \(\s*.+\)\s*"
                        r"(copy grants\s*)?(with row access policy \S+ on \(.+\)\s*)?(with tag \(.+\)\s*)?as \(.+\)",
    "governance view": r"create or replace (secure )?view \S+.*\s+as \(.+\)",
    "governance schema": r"create schema if not exists \S+\.governance",
}


def _kind(sql: str) -> str | None:
    return next((kind for kind, pattern in KINDS.items() if re.fullmatch(pattern, sql.strip(), re.S)), None)


def test_every_statement_has_a_known_kind_with_its_key_clauses(every_statement: list[str]) -> None:
    unknown = [sql[:160] for sql in every_statement if _kind(sql) is None]
    assert not unknown, unknown
    seen = Counter(_kind(sql) for sql in every_statement)
    # views appear in the governance plan only when a domain builds one (the example mesh builds none; a governed
    # view's statement is tested in test_governance_snowflake.py)
    assert set(KINDS) - set(seen) == {"governance view"}


def test_publish_statements_per_topology(publish_one_account: list[str],
                                        publish_account_per_domain: list[str]) -> None:
    """One account: reader database roles for consumer domains, no mounts; account per domain: shares to the
    consumer domains' accounts and mounts on their side. Both: the out-of-organisation account only by the direct
    share, the organization listing for the organisation's account by its name."""
    assert any(s.startswith("GRANT DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER TO ROLE ORDERS_DEPLOYER")
               for s in publish_one_account)
    assert not any(" FROM SHARE " in s for s in publish_one_account)
    assert "CREATE DATABASE CUSTOMERS_CUSTOMER_MASTER FROM SHARE RETAIL.CUSTOMERS.CUSTOMERS_CUSTOMER_MASTER" in \
        publish_account_per_domain
    for statements in (publish_one_account, publish_account_per_domain):
        [listing] = [s for s in statements if s.startswith("CREATE ORGANIZATION LISTING")]
        manifest = yaml.safe_load(listing.split("$$")[1])
        assert manifest["organization_targets"]["access"] == [{"account": "MARKETING"}]
        assert any(re.fullmatch(r"ALTER SHARE CUSTOMERS_CUSTOMER_MASTER ADD ACCOUNTS = .*ACME\.PARTNER.*", s)
                   for s in statements)
