"""The share diff as pure functions over recorded SHOW output (tests/fixtures/shares, Snowflake's column sets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mesh_cli.core.plan import RecordedState
from mesh_cli.core.share_access import Mount
from mesh_cli.engines.duckdb_shares import EmulatedAccount
from mesh_cli.engines.snowflake_shares import SnowflakeShareStatements
from mesh_cli.shares.diff import plan_shares, read_current
from mesh_cli.shares.spec import DATABASE_ROLE, SHARE, Desired, DomainShares, Grant, Grantee
from testkit.show_log import ShowLog

FIXTURES = Path(__file__).parent / "fixtures" / "shares"
SHARE_NAME = "CUSTOMERS_CUSTOMER_MASTER"
READER = "CUSTOMERS.CUSTOMER_MASTER_READER"
COMMENT = "Who our customers are. Data product customers.customer_master, owned by Customer Data Team."
OBJECTS = ("CUSTOMERS.MARTS.DIM_CUSTOMERS_V1", "CUSTOMERS.MARTS.DIM_CUSTOMERS_V2", "CUSTOMERS.MARTS.DIM_REGIONS")


MANAGED_ROLES = frozenset({"CUSTOMERS_DEPLOYER", "ORDERS_DEPLOYER", "FINANCE_DEPLOYER"})
SHARE_SQL = SnowflakeShareStatements()   # what the Snowflake engine plans shares in


def _recorded() -> dict[str, list[dict]]:
    """Hand-written SHOW output (tests/fixtures/shares/README.md: the documented column sets), not a recording."""
    return json.loads((FIXTURES / "converged.handwritten.json").read_text())


def _shares(objects: tuple[str, ...] = OBJECTS, accounts: tuple[str, ...] = ("ACME.PARTNER",),
            roles: tuple[str, ...] = ("FINANCE_DEPLOYER", "ORDERS_DEPLOYER"), comment: str = COMMENT,
            extra: frozenset[Grant] = frozenset()) -> DomainShares:
    """The desired state of customers.customer_master, as desired_shares builds it."""
    schemas = {Grant("USAGE", "SCHEMA", ".".join(o.split(".")[:2])) for o in objects}
    selects = {Grant("SELECT", "TABLE", o) for o in objects}
    share = Desired("customers.customer_master", Grantee(SHARE, SHARE_NAME),
                    frozenset({Grant("USAGE", "DATABASE", "CUSTOMERS")} | schemas | selects | extra),
                    frozenset(accounts), comment)
    reader = Desired("customers.customer_master", Grantee(DATABASE_ROLE, READER),
                     frozenset(schemas | selects), frozenset(roles), managed=MANAGED_ROLES)
    return DomainShares("customers", "CUSTOMERS", "one_account", [share, reader], ("CUSTOMER_MASTER_READER",))


def _plan(shares: DomainShares, recorded: dict[str, list[dict]] | None = None) -> list[str]:
    state = RecordedState(recorded)
    return [s.sql for s in plan_shares(shares, read_current(state, shares), "test", sql=SHARE_SQL).statements]


def test_no_change_issues_no_statements_and_one_show_per_kind() -> None:
    state = ShowLog(RecordedState(_recorded()))
    plan = plan_shares(_shares(), read_current(state, _shares()), "test", sql=SHARE_SQL)
    assert plan.empty and plan.to_sql().endswith("-- nothing to change\n")
    # SHOW SHARES (with the consumer accounts), SHOW DATABASE ROLES, then the grants of each share and role, which
    # Snowflake shows per grantee
    assert state.kinds == {"SHARES": 1, "DATABASE ROLES": 1, "GRANTS TO SHARE": 1, "GRANTS TO DATABASE ROLE": 1,
                           "GRANTS OF DATABASE ROLE": 1}


def test_consumer_accounts_come_from_show_shares() -> None:
    """The `to` column lists every account of a share, comma-separated: no SHOW GRANTS OF SHARE per share."""
    recorded = _recorded()
    recorded["SHOW SHARES"][0]["to"] = "ACME.PARTNER, retail.finance"
    state = ShowLog(RecordedState(recorded))
    current = read_current(state, _shares())
    assert current.consumers[Grantee(SHARE, SHARE_NAME)] == {"ACME.PARTNER", "RETAIL.FINANCE"}
    assert _plan(_shares(accounts=("ACME.PARTNER",)), recorded) == [
        f"ALTER SHARE {SHARE_NAME} REMOVE ACCOUNTS = RETAIL.FINANCE"]
    recorded["SHOW SHARES"][0]["to"] = ""
    assert _plan(_shares(), recorded) == [f"ALTER SHARE {SHARE_NAME} ADD ACCOUNTS = ACME.PARTNER"]


def test_create_from_nothing_in_a_safe_order() -> None:
    sql = _plan(_shares())
    assert sql[0] == "CREATE DATABASE ROLE IF NOT EXISTS CUSTOMERS.CUSTOMER_MASTER_READER"
    assert sql[1] == f"CREATE SHARE {SHARE_NAME} COMMENT = '{COMMENT}'"
    assert sql[2:7] == [f"GRANT USAGE ON DATABASE CUSTOMERS TO SHARE {SHARE_NAME}",
                        f"GRANT USAGE ON SCHEMA CUSTOMERS.MARTS TO SHARE {SHARE_NAME}"] + \
        [f"GRANT SELECT ON TABLE {o} TO SHARE {SHARE_NAME}" for o in OBJECTS]
    # consumers come last, once the share and the role hold exactly the product
    assert sql[-3:] == [f"ALTER SHARE {SHARE_NAME} ADD ACCOUNTS = ACME.PARTNER",
                        f"GRANT DATABASE ROLE {READER} TO ROLE FINANCE_DEPLOYER",
                        f"GRANT DATABASE ROLE {READER} TO ROLE ORDERS_DEPLOYER"]
    assert len(sql) == 14


def test_add_a_model_grants_only_it() -> None:
    new = "CUSTOMERS.MARTS.DIM_STORES"
    assert _plan(_shares((*OBJECTS, new)), _recorded()) == [
        f"GRANT SELECT ON TABLE {new} TO SHARE {SHARE_NAME}", f"GRANT SELECT ON TABLE {new} TO DATABASE ROLE {READER}"]


def test_a_model_in_a_new_schema_gets_schema_usage_before_select() -> None:
    new = "CUSTOMERS.REPORTING.CUSTOMER_KPIS"
    sql = _plan(_shares((*OBJECTS, new)), _recorded())
    assert sql[:2] == [f"GRANT USAGE ON SCHEMA CUSTOMERS.REPORTING TO SHARE {SHARE_NAME}",
                       f"GRANT SELECT ON TABLE {new} TO SHARE {SHARE_NAME}"]


def test_remove_a_model_revokes_select_and_nothing_else() -> None:
    """A model taken out of the product, or made private (desired_shares then refuses to list it), is revoked."""
    plan = plan_shares(_shares(OBJECTS[1:]), read_current(RecordedState(_recorded()), _shares()), "test", sql=SHARE_SQL)
    assert [s.sql for s in plan.statements] == [
        f"REVOKE SELECT ON TABLE {OBJECTS[0]} FROM SHARE {SHARE_NAME}",
        f"REVOKE SELECT ON TABLE {OBJECTS[0]} FROM DATABASE ROLE {READER}"]
    assert all(s.destructive and "no longer in the product" in s.reason for s in plan.statements)


def test_removing_the_last_model_of_a_schema_revokes_select_before_schema_usage() -> None:
    recorded = _recorded()
    key = f"SHOW GRANTS TO SHARE {SHARE_NAME}"
    recorded[key] += [dict(recorded[key][0], privilege="USAGE", granted_on="SCHEMA", name="CUSTOMERS.OLD"),
                      dict(recorded[key][0], privilege="SELECT", granted_on="VIEW", name="CUSTOMERS.OLD.V")]
    assert _plan(_shares(), recorded) == [f"REVOKE SELECT ON VIEW CUSTOMERS.OLD.V FROM SHARE {SHARE_NAME}",
                                          f"REVOKE USAGE ON SCHEMA CUSTOMERS.OLD FROM SHARE {SHARE_NAME}"]


def test_accounts_added_and_removed() -> None:
    assert _plan(_shares(accounts=("ACME.PARTNER", "RETAIL.FINANCE")), _recorded()) == [
        f"ALTER SHARE {SHARE_NAME} ADD ACCOUNTS = RETAIL.FINANCE"]
    assert _plan(_shares(accounts=()), _recorded()) == [f"ALTER SHARE {SHARE_NAME} REMOVE ACCOUNTS = ACME.PARTNER"]


def test_narrowing_comes_before_widening() -> None:
    """A swap of consumers and models: the old consumer and model go first, the new ones come last."""
    new = "CUSTOMERS.MARTS.DIM_STORES"
    sql = _plan(_shares((*OBJECTS[1:], new), accounts=("RETAIL.FINANCE",), roles=("ORDERS_DEPLOYER",)), _recorded())
    narrowing = [i for i, s in enumerate(sql) if s.startswith("REVOKE") or "REMOVE ACCOUNTS" in s]
    widening = [i for i, s in enumerate(sql) if s.startswith("GRANT") or "ADD ACCOUNTS" in s]
    assert max(narrowing) < min(widening)
    assert sql[0] == f"ALTER SHARE {SHARE_NAME} REMOVE ACCOUNTS = ACME.PARTNER"
    assert sql[1] == f"REVOKE DATABASE ROLE {READER} FROM ROLE FINANCE_DEPLOYER"
    assert sql[2] == f"REVOKE SELECT ON TABLE {OBJECTS[0]} FROM SHARE {SHARE_NAME}"
    assert sql[-1] == f"ALTER SHARE {SHARE_NAME} ADD ACCOUNTS = RETAIL.FINANCE"


def test_entitlement_roles_reference_usage_and_comment() -> None:
    extra = frozenset({Grant("USAGE", "DATABASE_ROLE", "CUSTOMERS.PII_READER"),
                       Grant("REFERENCE_USAGE", "DATABASE", "GOVERNANCE")})
    shares = _shares(extra=extra, comment="New description. Data product customers.customer_master.")
    shares.database_roles = ("CUSTOMER_MASTER_READER", "PII_READER")
    assert _plan(shares, _recorded()) == [
        "CREATE DATABASE ROLE IF NOT EXISTS CUSTOMERS.PII_READER",
        f"ALTER SHARE {SHARE_NAME} SET COMMENT = 'New description. Data product customers.customer_master.'",
        f"GRANT REFERENCE_USAGE ON DATABASE GOVERNANCE TO SHARE {SHARE_NAME}",
        f"GRANT DATABASE ROLE CUSTOMERS.PII_READER TO SHARE {SHARE_NAME}"]


def test_a_product_no_longer_declared_drops_only_its_own_share() -> None:
    shares = _shares()
    shares.desired = []
    shares.database_roles = ()
    assert _plan(shares, _recorded()) == [f"DROP SHARE {SHARE_NAME}"]   # HAND_MADE_SHARE and inbound: untouched


def test_show_output_of_older_accounts_and_quoted_names() -> None:
    recorded = _recorded()
    recorded["SHOW SHARES"][0]["name"] = f"RETAIL.CUSTOMERS.{SHARE_NAME}"      # before bundle 2023_05
    for row in recorded[f"SHOW GRANTS TO SHARE {SHARE_NAME}"]:
        row["name"] = ".".join(f'"{part}"' for part in row["name"].split("."))
    assert _plan(_shares(), recorded) == []


def test_mounts_and_listings_are_created_once() -> None:
    shares = _shares()
    shares.mounts = [Mount("ORDERS_ORDER_FACTS", "RETAIL.ORDERS.ORDERS_ORDER_FACTS", mounter="CUSTOMERS_MOUNTER")]
    shares.listings = {SHARE_NAME: "title: Customer master\n"}
    sql = _plan(shares, _recorded())
    assert sql == [f"CREATE ORGANIZATION LISTING IF NOT EXISTS {SHARE_NAME} SHARE {SHARE_NAME} AS $$\n"
                   "title: Customer master\n$$ PUBLISH = TRUE", "USE ROLE CUSTOMERS_MOUNTER",
                   "CREATE DATABASE ORDERS_ORDER_FACTS FROM SHARE RETAIL.ORDERS.ORDERS_ORDER_FACTS"]
    recorded = _recorded()
    recorded["SHOW LISTINGS"] = [{"name": SHARE_NAME}]
    recorded["SHOW DATABASES"] = [{"name": "ORDERS_ORDER_FACTS", "kind": "IMPORTED DATABASE"}]
    assert _plan(shares, recorded) == []


def test_grants_on_a_mounted_share_follow_the_access_model_after_the_mount() -> None:
    """A mount made earlier: the reader's database roles of the share are read per role
    (`SHOW GRANTS OF DATABASE ROLE`, https://docs.snowflake.com/en/sql-reference/sql/show-grants) and reconciled
    with what the governance library says it inherits: a new entitlement is granted, a withdrawn one revoked
    (destructive, so guarded by --allow-destroy), another holder of the role is left alone."""
    mount = "ORDERS_ORDER_FACTS"
    shares = _shares()
    shares.mounts = [Mount(mount, f"RETAIL.ORDERS.{mount}", (("ALL_REGIONS", "FINANCE_DEPLOYER"),),
                           "FINANCE_DEPLOYER", ("ALL_REGIONS", "PII_READER"), "FINANCE_MOUNTER")]
    recorded = _recorded()
    recorded["SHOW DATABASES"] = [{"name": mount, "kind": "IMPORTED DATABASE"}]
    recorded[f"SHOW GRANTS OF DATABASE ROLE {mount}.PII_READER"] = [
        {"role": f"{mount}.PII_READER", "granted_to": "ROLE", "grantee_name": "FINANCE_DEPLOYER"},
        {"role": f"{mount}.PII_READER", "granted_to": "ROLE", "grantee_name": "AUDITOR"}]
    plan = plan_shares(shares, read_current(ShowLog(RecordedState(recorded)), shares), "test", sql=SHARE_SQL)
    assert [(s.sql, s.destructive) for s in plan.statements] == [
        ("USE ROLE FINANCE_MOUNTER", False),   # the mounted database's roles are the mounting role's to grant
        (f"REVOKE DATABASE ROLE {mount}.PII_READER FROM ROLE FINANCE_DEPLOYER", True),
        (f"GRANT DATABASE ROLE {mount}.ALL_REGIONS TO ROLE FINANCE_DEPLOYER", False)]
    recorded[f"SHOW GRANTS OF DATABASE ROLE {mount}.PII_READER"] = recorded[
        f"SHOW GRANTS OF DATABASE ROLE {mount}.PII_READER"][1:]
    recorded[f"SHOW GRANTS OF DATABASE ROLE {mount}.ALL_REGIONS"] = [
        {"role": f"{mount}.ALL_REGIONS", "granted_to": "ROLE", "grantee_name": "FINANCE_DEPLOYER"}]
    assert _plan(shares, recorded) == []


def test_the_emulated_account_converges_from_any_state(tmp_path: Path) -> None:
    """Apply a plan in the DuckDB emulation: the second plan is empty, whatever the start and the change."""
    account = EmulatedAccount(tmp_path / "shares.json")
    for shares in (_shares(), _shares(OBJECTS[1:], accounts=()), _shares((*OBJECTS, "CUSTOMERS.X.Y"))):
        plan = plan_shares(shares, read_current(account.reader(), shares), "test", sql=SHARE_SQL)
        for statement in plan.statements:
            account.execute(statement.sql)
        account.save()
        reloaded = EmulatedAccount(tmp_path / "shares.json")
        assert plan_shares(shares, read_current(reloaded.reader(), shares), "test", sql=SHARE_SQL).empty
        account = reloaded
    assert account.recorded[f"SHOW GRANTS OF SHARE {SHARE_NAME}"] == [
        {"share": SHARE_NAME, "granted_to": "ACME.PARTNER"}]
    assert account.recorded["SHOW SHARES"][0]["to"] == "ACME.PARTNER"
    assert {"privilege": "SELECT", "granted_on": "TABLE", "name": "CUSTOMERS.X.Y", "granted_to": "SHARE",
            "grantee_name": SHARE_NAME} in account.recorded[f"SHOW GRANTS TO SHARE {SHARE_NAME}"]


def test_the_emulation_refuses_statements_it_does_not_know(tmp_path: Path) -> None:
    from mesh_cli.core.errors import MeshError

    account = EmulatedAccount(tmp_path / "shares.json")
    with pytest.raises(MeshError, match="does not run this statement: DROP DATABASE CUSTOMERS"):
        account.execute("DROP DATABASE CUSTOMERS")
    with pytest.raises(MeshError, match="share NOPE does not exist"):
        account.execute("GRANT USAGE ON DATABASE CUSTOMERS TO SHARE NOPE")
    (tmp_path / "shares.json").write_text("{broken")
    with pytest.raises(MeshError, match="cannot read the emulated share state"):
        EmulatedAccount(tmp_path / "shares.json")
