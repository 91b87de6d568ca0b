"""Publishing as Snowflake allows it: an organization listing reaches only the provider's organisation (an
`ORG.ACCOUNT` consumer of another organisation is reached by the direct share,
https://docs.snowflake.com/en/sql-reference/sql/create-organization-listing); the statements that need CREATE SHARE,
CREATE DATABASE ROLE or CREATE LISTING say so (ACCOUNTADMIN's by default,
https://docs.snowflake.com/en/sql-reference/sql/create-share); a consumer removed from a product loses its reader
role, and grants provisioning made to other roles are provisioning's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mesh_cli.core.domains import Domain, Owner
from mesh_cli.core.errors import MeshError
from mesh_cli.core.plan import RecordedState
from mesh_cli.core.products import ProductSpec
from mesh_cli.core.share_settings import ShareSettings
from mesh_cli.engines.snowflake_shares import SnowflakeShareStatements
from mesh_cli.shares.diff import PRIVILEGES_NOTE, plan_shares, read_current
from mesh_cli.shares.listing import listing_access, listing_manifest
from mesh_cli.shares.spec import DATABASE_ROLE, SHARE, Desired, DomainShares, Grant, Grantee

DOMAIN = Domain("customers", Path("/mesh/domains/customers"), (), "customers", (),
                owner=Owner("Customer Data Team", "customer-data@retail.example"))
SPEC = ProductSpec("customers", "customer_master", "Who our customers are.", ("dim_regions",), {}, ("orders",),
                   ("RETAIL.MARKETING", "ACME.PARTNER"), (), None, ())
ACCOUNTS = {"RETAIL.MARKETING", "ACME.PARTNER", "RETAIL.FINANCE"}
SHARE_SQL = SnowflakeShareStatements()


def test_only_accounts_of_the_providers_organisation_are_listed() -> None:
    assert listing_access(ACCOUNTS, "RETAIL") == (["FINANCE", "MARKETING"], ["ACME.PARTNER"])
    assert listing_access(ACCOUNTS, "ACME") == (["PARTNER"], ["RETAIL.FINANCE", "RETAIL.MARKETING"])


def test_the_manifest_names_the_organisations_accounts_only() -> None:
    manifest = yaml.safe_load(listing_manifest(DOMAIN, SPEC, True, [], ACCOUNTS, "RETAIL") or "")
    assert manifest["organization_targets"]["access"] == [{"account": "FINANCE"}, {"account": "MARKETING"}]


def test_no_listing_when_no_consumer_is_in_the_organisation() -> None:
    assert listing_manifest(DOMAIN, SPEC, True, [], {"ACME.PARTNER"}, "RETAIL") is None


def test_a_listing_for_accounts_needs_the_organisation() -> None:
    with pytest.raises(MeshError, match=r"set `snowflake.organization: ORG`"):
        listing_manifest(DOMAIN, SPEC, True, [], ACCOUNTS, None)


def test_the_organisation_is_the_domains_accounts_across_accounts() -> None:
    across = ShareSettings("account_per_domain", {"customers": "RETAIL.CUSTOMERS"}, organization="OTHER")
    assert across.organization_of("customers") == "RETAIL"
    assert ShareSettings(organization="RETAIL").organization_of("customers") == "RETAIL"


READER = "CUSTOMERS.CUSTOMER_MASTER_READER"
SELECT = Grant("SELECT", "TABLE", "CUSTOMERS.MARTS.DIM_REGIONS")


def _shares(consumers: set[str]) -> DomainShares:
    share = Desired("customers.customer_master", Grantee(SHARE, "CUSTOMERS_CUSTOMER_MASTER"),
                    frozenset({Grant("USAGE", "DATABASE", "CUSTOMERS"), SELECT}), frozenset({"ACME.PARTNER"}), "c")
    reader = Desired("customers.customer_master", Grantee(DATABASE_ROLE, READER), frozenset({SELECT}),
                     frozenset(consumers), managed=frozenset({"ORDERS_DEPLOYER", "FINANCE_DEPLOYER"}))
    return DomainShares("customers", "CUSTOMERS", "one_account", [share, reader], ("CUSTOMER_MASTER_READER",))


def _converged() -> RecordedState:
    """Hand-written SHOW output (columns as tests/fixtures/shares/README.md documents) of the product published to
    orders and finance, with ORDERS_ENGINEER holding the reader role through provisioning."""
    return RecordedState({
        "SHOW SHARES": [{"kind": "OUTBOUND", "name": "CUSTOMERS_CUSTOMER_MASTER", "comment": "c",
                         "to": "ACME.PARTNER"}],
        "SHOW DATABASE ROLES IN DATABASE CUSTOMERS": [{"name": "CUSTOMER_MASTER_READER"}],
        "SHOW GRANTS TO SHARE CUSTOMERS_CUSTOMER_MASTER": [
            {"privilege": "USAGE", "granted_on": "DATABASE", "name": "CUSTOMERS"},
            {"privilege": "SELECT", "granted_on": "TABLE", "name": SELECT.name}],
        f"SHOW GRANTS TO DATABASE ROLE {READER}": [{"privilege": "SELECT", "granted_on": "TABLE", "name": SELECT.name}],
        f"SHOW GRANTS OF DATABASE ROLE {READER}": [
            {"granted_to": "ROLE", "grantee_name": role}
            for role in ("ORDERS_DEPLOYER", "FINANCE_DEPLOYER", "ORDERS_ENGINEER")]})


def test_removing_a_consumer_revokes_its_reader_role_and_leaves_provisionings_grants() -> None:
    shares = _shares({"ORDERS_DEPLOYER"})
    plan = plan_shares(shares, read_current(_converged(), shares), "t", sql=SHARE_SQL)
    assert [s.sql for s in plan.statements] == [f"REVOKE DATABASE ROLE {READER} FROM ROLE FINANCE_DEPLOYER"]
    converged = _shares({"ORDERS_DEPLOYER", "FINANCE_DEPLOYER"})
    assert plan_shares(converged, read_current(_converged(), converged), "t", sql=SHARE_SQL).empty


def test_statements_say_the_privilege_they_need() -> None:
    shares = _shares({"ORDERS_DEPLOYER"})
    shares.listings = {"CUSTOMERS_CUSTOMER_MASTER": "title: t\n"}
    plan = plan_shares(shares, read_current(RecordedState(), shares), "t", sql=SHARE_SQL)
    roles = {s.sql.split(" ")[0] + " " + s.object_kind: s.role for s in plan.statements}
    assert roles["CREATE share"] == "ACCOUNTADMIN or a role granted CREATE SHARE ON ACCOUNT"
    assert roles["CREATE database role"] == ("ACCOUNTADMIN or a role granted CREATE DATABASE ROLE ON DATABASE "
                                             "CUSTOMERS")
    assert roles["CREATE listing"] == "ACCOUNTADMIN or a role granted CREATE LISTING ON ACCOUNT"
    assert roles["GRANT database role"] is None          # the deployer owns what it grants on
    assert PRIVILEGES_NOTE in plan.notes and "needs role ACCOUNTADMIN" in plan.to_sql()
