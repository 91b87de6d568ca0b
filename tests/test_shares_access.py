"""Who a product's share lets in, by Snowflake's rules, from a small hand-made manifest (no build):

- a view in a share reads another database only with REFERENCE_USAGE on it granted to the share first
  (https://docs.snowflake.com/en/sql-reference/sql/grant-privilege-share);
- a product shared with other accounts is built only from the domain's own data: a database created from a share
  cannot be shared again (https://docs.snowflake.com/en/user-guide/data-share-consumers, general limitations);
- objects other accounts read carry the `_shared` policies, deciding with the database roles the share carries
  (https://docs.snowflake.com/en/sql-reference/functions/is_database_role_in_session), in one account too when a
  product lists `consumers.accounts`; tag-based masking counts;
- a consumer withdrawn or a consumer domain deleted loses its grants (the last publish says which roles publishing
  granted), and a reader role no product declares any more is dropped with every grant of it
  (https://docs.snowflake.com/en/sql-reference/sql/drop-database-role).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sql_oracle import assert_snowflake_sql

from mesh_cli.core.destroy import DestructionRefused, refuse_destruction
from mesh_cli.core.domains import Domain, Owner
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_library import AccessModel, cross_account_models
from mesh_cli.core.plan import RecordedState
from mesh_cli.core.share_access import mounts_of
from mesh_cli.core.share_settings import ShareSettings
from mesh_cli.engines.duckdb_shares import EmulatedAccount
from mesh_cli.engines.snowflake_shares import SnowflakeShareStatements
from mesh_cli.shares.diff import plan_shares, read_current
from mesh_cli.shares.publish import publish_record
from mesh_cli.shares.spec import DATABASE_ROLE, SHARE, DomainShares, Grant, desired_shares

FINANCE = Path("/mesh/domains/finance")
SHARE_SQL = SnowflakeShareStatements()
ACROSS = ShareSettings("account_per_domain", {"finance": "RETAIL.FINANCE", "orders": "RETAIL.ORDERS",
                                              "marketing": "RETAIL.MARKETING"})
ACCESS = AccessModel({}, (), (("EMEA_ANALYST", "region", "EMEA"),),
                     {"mask_email": {"body": "case when is_role_in_session('PII_READER') then val else '*' end"},
                      "region_entitlement": {"body": "exists (select 1 from @entitlements e where "
                                                     "is_role_in_session(e.role_name))"}},
                     {"pii": ("mask_email",)})


def _node(package: str, name: str, database: str, materialized: str = "table", parents: tuple[str, ...] = (),
          columns: dict[str, Any] | None = None, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"unique_id": f"model.{package}.{name}", "resource_type": "model", "package_name": package, "name": name,
            "access": "public", "database": database, "schema": "MARTS", "alias": name,
            "original_file_path": f"models/marts/{name}.sql", "columns": columns or {},
            "config": {"materialized": materialized, "secure": materialized == "view",
                       "meta": {"data_mesh": meta or {}}},
            "depends_on": {"nodes": list(parents)}}


def _manifest(*nodes: dict[str, Any]) -> dict[str, Any]:
    landing = {"unique_id": "source.finance.erp.ledger", "package_name": "finance", "name": "ledger",
               "database": "FINANCE_LANDING"}
    return {"nodes": {node["unique_id"]: node for node in nodes}, "sources": {landing["unique_id"]: landing}}


def _finance(models: list[str], domains: tuple[str, ...] = (), accounts: tuple[str, ...] = ()) -> Domain:
    product = {"name": "revenue", "models": models, "consumers": {"domains": list(domains), "accounts": list(accounts)}}
    return Domain("finance", FINANCE, ("orders",), "finance", (), owner=Owner("Finance", "finance@retail.example"),
                  products=(product,))


DOMAINS = {"finance": _finance([]), "orders": Domain("orders", Path("/mesh/domains/orders"), (), "orders", ()),
           "marketing": Domain("marketing", Path("/mesh/domains/marketing"), ("finance",), "marketing", ())}
ORDERS_FACTS = _node("orders", "fct_orders", "ORDERS_ORDER_FACTS")   # as the resolver injects it when mounted
VIEW = _node("finance", "revenue_view", "FINANCE", "view", ("model.orders.fct_orders",))


def test_a_view_over_another_domain_is_refused_in_a_product_shared_across_accounts() -> None:
    """Account per domain: the view reads the database mounted from orders' share, which cannot be shared again
    (it planned GRANT REFERENCE_USAGE ON DATABASE ORDERS_ORDER_FACTS TO SHARE): one line naming the model's file,
    the model and the fix, before anything is planned."""
    domain = _finance(["revenue_view"], domains=("marketing",))
    with pytest.raises(MeshError) as refused:
        desired_shares(domain, _manifest(ORDERS_FACTS, VIEW), {**DOMAINS, "finance": domain}, ACROSS, ACCESS)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"{FINANCE / 'models/marts/revenue_view.sql'}: finance.revenue_view in product "
                              "finance.revenue, shared with other accounts, is a view reading orders.fct_orders")
    assert "materialize revenue_view as a table, or leave it out of the product" in message


def test_the_refusal_follows_a_view_through_its_own_views_and_ephemeral_models() -> None:
    """A secure view reading the domain's own view, which reads an ephemeral model over orders: the shared view
    still reads orders' mounted database (a view's query reads what its parent views read; an ephemeral model is
    inlined), so it is refused naming the chain; in one account without outside accounts the same chain gets
    REFERENCE_USAGE on orders' database (https://docs.snowflake.com/en/sql-reference/sql/grant-privilege-share)."""
    ephemeral = _node("finance", "int_orders", "FINANCE", "ephemeral", ("model.orders.fct_orders",))
    own_view = _node("finance", "int_order_revenue", "FINANCE", "view", ("model.finance.int_orders",))
    shared = _node("finance", "customer_revenue", "FINANCE", "view", ("model.finance.int_order_revenue",))
    manifest = _manifest(ORDERS_FACTS, ephemeral, own_view, shared)
    domain = _finance(["customer_revenue"], domains=("marketing",))
    with pytest.raises(MeshError) as refused:
        desired_shares(domain, manifest, {**DOMAINS, "finance": domain}, ACROSS, ACCESS)
    assert "customer_revenue in product finance.revenue, shared with other accounts, is a view reading " \
           "orders.fct_orders (through finance.int_order_revenue and finance.int_orders)" in str(refused.value)
    assert "\n" not in str(refused.value)
    shares = desired_shares(domain, manifest, {**DOMAINS, "finance": domain}, ShareSettings(), ACCESS)
    share = next(d for d in shares.desired if d.grantee.kind == SHARE)
    assert {g for g in share.grants if g.privilege == "REFERENCE_USAGE"} == {
        Grant("REFERENCE_USAGE", "DATABASE", "ORDERS_ORDER_FACTS")}
    table = _node("finance", "int_order_revenue", "FINANCE", "table", ("model.orders.fct_orders",))
    shares = desired_shares(domain, _manifest(ORDERS_FACTS, table, shared), {**DOMAINS, "finance": domain},
                            ACROSS, ACCESS)    # a table holds finance's own rows: the walk stops there
    assert not [g for d in shares.desired for g in d.grants if g.privilege == "REFERENCE_USAGE"]


def test_one_account_outside_accounts_refuse_it_too_and_a_table_is_the_domains_own() -> None:
    """In one account, a product listing `consumers.accounts` reaches another account: the same refusal. A table
    built from orders holds finance's own rows: shared, with no REFERENCE_USAGE."""
    view = _finance(["revenue_view"], accounts=("ACME.PARTNER",))
    with pytest.raises(MeshError, match=r"is a view reading orders\.fct_orders"):
        desired_shares(view, _manifest(ORDERS_FACTS, VIEW), {**DOMAINS, "finance": view}, ShareSettings(), ACCESS)
    table = _finance(["revenue"], domains=("marketing",))
    built = _node("finance", "revenue", "FINANCE", "table", ("model.orders.fct_orders",))
    shares = desired_shares(table, _manifest(ORDERS_FACTS, built), {**DOMAINS, "finance": table}, ACROSS, ACCESS)
    assert not [g for d in shares.desired for g in d.grants if g.privilege == "REFERENCE_USAGE"]
    reader = next(d for d in shares.desired if d.grantee.kind == DATABASE_ROLE)   # the share's product reader
    assert Grant("SELECT", "TABLE", "FINANCE.MARTS.REVENUE") in reader.grants


def test_a_shared_view_reading_another_database_gets_reference_usage_before_its_select() -> None:
    """One account, no outside account: a view over orders' database and one over the domain's own landing source
    (a source, not a model) each need REFERENCE_USAGE on that database, granted before SELECT on the view."""
    orders = _node("orders", "fct_orders", "ORDERS")
    views = [_node("finance", "revenue_view", "FINANCE", "view", ("model.orders.fct_orders",)),
             _node("finance", "ledger_view", "FINANCE", "view", ("source.finance.erp.ledger",))]
    domain = _finance(["revenue_view", "ledger_view"], domains=("marketing",))
    shares = desired_shares(domain, _manifest(orders, *views), {**DOMAINS, "finance": domain}, ShareSettings(),
                            ACCESS)
    share = next(d for d in shares.desired if d.grantee.kind == SHARE)
    assert {g for g in share.grants if g.privilege == "REFERENCE_USAGE"} == {
        Grant("REFERENCE_USAGE", "DATABASE", "ORDERS"), Grant("REFERENCE_USAGE", "DATABASE", "FINANCE_LANDING")}
    sql = [s.sql for s in plan_shares(shares, read_current(RecordedState(), shares), "t", sql=SHARE_SQL).statements]
    share_sql = [s for s in sql if s.endswith("TO SHARE FINANCE_REVENUE")]
    first_select = min(i for i, s in enumerate(share_sql) if s.startswith("GRANT SELECT ON VIEW"))
    assert max(i for i, s in enumerate(share_sql) if s.startswith("GRANT REFERENCE_USAGE")) < first_select
    assert "GRANT REFERENCE_USAGE ON DATABASE ORDERS TO SHARE FINANCE_REVENUE" in share_sql
    assert_snowflake_sql(sql)


def _customers(accounts: tuple[str, ...], domains: tuple[str, ...] = ()) -> tuple[Domain, dict[str, Any]]:
    columns = {"email": {"name": "email", "meta": {"data_mesh": {"masking": "mask_email"}}},
               "phone": {"name": "phone", "meta": {"data_mesh": {"tags": {"pii": "phone"}}}},
               "region": {"name": "region"}}
    node = _node("customers", "dim_customers", "CUSTOMERS", columns=columns,
                 meta={"row_access": {"policy": "region_entitlement", "columns": ["region"]}})
    tagged = _node("customers", "contacts", "CUSTOMERS", columns={k: columns[k] for k in ("phone",)})
    products = ({"name": "master", "models": ["dim_customers"], "consumers": {"domains": list(domains),
                                                                            "accounts": list(accounts)}},
                {"name": "contacts", "models": ["contacts"], "consumers": {"accounts": list(accounts)}})
    domain = Domain("customers", Path("/mesh/domains/customers"), (), "customers", (), products=products)
    return domain, _manifest(node, tagged)


def test_outside_accounts_in_one_account_get_the_database_roles_the_policies_decide_with() -> None:
    """The share carries the database roles its `_shared` policies test (PII_READER for the masking, every
    entitled role for the row access, and the tag's masking policy of a column protected only by its tag); the
    one-account reader role of consumer domains carries none (with `_shared` policies it would clear every consumer
    domain's roles)."""
    domain, manifest = _customers(("ACME.PARTNER",), domains=("orders",))
    shares = desired_shares(domain, manifest, {"customers": domain, "orders": DOMAINS["orders"]}, ShareSettings(),
                            ACCESS)
    master = next(d for d in shares.desired if d.grantee.name == "CUSTOMERS_MASTER")
    assert {g.name for g in master.grants if g.on == "DATABASE_ROLE"} == {"CUSTOMERS.PII_READER",
                                                                          "CUSTOMERS.EMEA_ANALYST"}
    contacts = next(d for d in shares.desired if d.grantee.name == "CUSTOMERS_CONTACTS")
    assert {g.name for g in contacts.grants if g.on == "DATABASE_ROLE"} == {"CUSTOMERS.PII_READER"}
    reader = next(d for d in shares.desired if d.grantee.kind == DATABASE_ROLE)
    assert not [g for g in reader.grants if g.on == "DATABASE_ROLE"]
    assert set(shares.database_roles) == {"PII_READER", "EMEA_ANALYST", "MASTER_READER"}
    alone, manifest = _customers((), domains=("orders",))           # no outside account: plain policies, no role
    inside = desired_shares(alone, manifest, {"customers": alone, "orders": DOMAINS["orders"]}, ShareSettings(),
                            ACCESS)
    assert not [g for d in inside.desired for g in d.grants if g.on == "DATABASE_ROLE"]


def test_a_listed_product_reaches_other_accounts_too() -> None:
    """An organization listing open to every internal account (`access: all`) reaches accounts the product does
    not name: its share carries the database roles as one with `consumers.accounts` does."""
    domain, manifest = _customers(())
    listed = dict(domain.products[1], listing={"access": "all", "support": "team@retail.example"})
    domain = Domain(domain.name, domain.path, (), domain.profile, (), products=(domain.products[0], listed))
    shares = desired_shares(domain, manifest, {"customers": domain}, ShareSettings(), ACCESS)
    contacts = next(d for d in shares.desired if d.grantee.name == "CUSTOMERS_CONTACTS")
    assert {g.name for g in contacts.grants if g.on == "DATABASE_ROLE"} == {"CUSTOMERS.PII_READER"}
    master = next(d for d in shares.desired if d.grantee.name == "CUSTOMERS_MASTER")
    assert not [g for g in master.grants if g.on == "DATABASE_ROLE"]


def _listed(accounts: tuple[str, ...]) -> tuple[Domain, dict[str, Any]]:
    """customers' `master` shared with outside accounts and listed in the organisation (shape B)."""
    domain, manifest = _customers(accounts)
    listed = dict(domain.products[0], listing={"title": "Customer master", "support": "team@retail.example"})
    return Domain(domain.name, domain.path, (), domain.profile, (), products=(listed,)), manifest


def test_withdrawing_an_outside_account_updates_or_drops_the_listing(tmp_path: Path) -> None:
    """A listing keeps serving whoever its manifest targets: withdrawing RETAIL.PARTNER plans the listing's new
    manifest without it (https://docs.snowflake.com/en/sql-reference/sql/alter-listing), destructive as the share's
    REMOVE ACCOUNTS is; withdrawing the last account of the organisation unpublishes and drops the listing (only an
    unpublished listing can be dropped, https://docs.snowflake.com/en/sql-reference/sql/drop-listing). The last
    publish record says what the listing was published with; once applied nothing is left to change."""
    settings = ShareSettings(organization="RETAIL")
    domain, manifest = _listed(("RETAIL.PARTNER", "RETAIL.MARKETING"))
    first = desired_shares(domain, manifest, {"customers": domain}, settings, ACCESS)
    account = _published(first, tmp_path)
    record = publish_record(first, set(first.listings))["products"]
    [(name, published)] = first.listings.items()
    assert [a["account"] for a in yaml.safe_load(published)["organization_targets"]["access"]] == \
        ["MARKETING", "PARTNER"]

    domain, manifest = _listed(("RETAIL.MARKETING",))
    shares = desired_shares(domain, manifest, {"customers": domain}, settings, ACCESS, record)
    plan = plan_shares(shares, read_current(account.reader(), shares), "t", sql=SHARE_SQL)
    assert [(s.sql.split(" AS ")[0], s.destructive) for s in plan.statements] == [
        (f"ALTER LISTING {name}", True), (f"ALTER SHARE {name} REMOVE ACCOUNTS = RETAIL.PARTNER", True)]
    assert plan.statements[0].reason == "access withdrawn from PARTNER"
    assert [a["account"] for a in yaml.safe_load(plan.statements[0].sql.split("$$")[1])[
        "organization_targets"]["access"]] == ["MARKETING"]
    with pytest.raises(DestructionRefused, match=f"ALTER LISTING {name} AS"):
        refuse_destruction([plan], allow=False, what="publishing customers")
    for statement in plan.statements:
        account.execute(statement.sql)
    record = publish_record(shares, set(shares.listings))["products"]
    shares = desired_shares(domain, manifest, {"customers": domain}, settings, ACCESS, record)
    assert plan_shares(shares, read_current(account.reader(), shares), "t", sql=SHARE_SQL).empty

    domain, manifest = _listed(("ACME.PARTNER",))          # no account of the organisation left
    shares = desired_shares(domain, manifest, {"customers": domain}, settings, ACCESS, record)
    plan = plan_shares(shares, read_current(account.reader(), shares), "t", sql=SHARE_SQL)
    assert [(s.sql, s.destructive) for s in plan.statements][:3] == [
        (f"ALTER LISTING {name} UNPUBLISH", True), (f"DROP LISTING {name}", True),
        (f"ALTER SHARE {name} REMOVE ACCOUNTS = RETAIL.MARKETING", True)]
    for statement in plan.statements:
        account.execute(statement.sql)
    assert not account.reader().show("LISTINGS")
    record = publish_record(shares, set(shares.listings))["products"]
    shares = desired_shares(domain, manifest, {"customers": domain}, settings, ACCESS, record)
    assert plan_shares(shares, read_current(account.reader(), shares), "t", sql=SHARE_SQL).empty
    assert_snowflake_sql([s.sql for s in plan.statements])


def test_a_withdrawn_entitlement_drops_its_database_role_once_no_product_uses_it(tmp_path: Path) -> None:
    """Account per domain: governance.yml no longer entitles EMEA_ANALYST to a region. The share gives the
    database role up and, as no product of customers decides with it any more, the role is dropped, every grant
    of it with it (https://docs.snowflake.com/en/sql-reference/sql/drop-database-role): both destructive. The
    last publish record says publishing made it; a role still used by another product stays."""
    domains = {"customers": _customers(())[0], "orders": DOMAINS["orders"]}
    domain, manifest = _customers((), domains=("orders",))
    first = desired_shares(domain, manifest, domains, ACROSS, ACCESS)
    account = _published(first, tmp_path)
    record = publish_record(first, set())["products"]
    assert record["master"]["entitlement_roles"] == ["CUSTOMERS.EMEA_ANALYST", "CUSTOMERS.PII_READER"]
    withdrawn = AccessModel(ACCESS.roles, (), (), ACCESS.policies, ACCESS.tag_policies)
    shares = desired_shares(domain, manifest, domains, ACROSS, withdrawn, record)
    plan = plan_shares(shares, read_current(account.reader(), shares), "t", sql=SHARE_SQL)
    assert [(s.sql, s.destructive) for s in plan.statements] == [
        ("REVOKE DATABASE ROLE CUSTOMERS.EMEA_ANALYST FROM SHARE CUSTOMERS_MASTER", True),
        ("DROP DATABASE ROLE CUSTOMERS.EMEA_ANALYST", True)]
    assert_snowflake_sql(s.sql for s in plan.statements)
    for statement in plan.statements:
        account.execute(statement.sql)
    assert "EMEA_ANALYST" not in {r["name"] for r in account.reader().show("DATABASE ROLES", "IN DATABASE CUSTOMERS")}
    record = publish_record(shares, set())["products"]
    assert plan_shares(shares, read_current(account.reader(), shares), "t", sql=SHARE_SQL).empty
    still = {**record, "other": {"entitlement_roles": ["CUSTOMERS.PII_READER"]}}   # PII_READER: master uses it
    assert desired_shares(domain, manifest, domains, ACROSS, withdrawn, still).retired_roles == ()


def _mounting(product: dict[str, Any]) -> tuple[dict[str, Domain], AccessModel]:
    """Marketing (its deployer inherits EMEA_ANALYST) consumes finance's product `revenue` across accounts."""
    finance = Domain("finance", FINANCE, (), "finance", (), products=(product,))
    access = AccessModel(ACCESS.roles, (("EMEA_ANALYST", "MARKETING_DEPLOYER"),), ACCESS.entitlements,
                         ACCESS.policies, ACCESS.tag_policies)
    return {"finance": finance, "marketing": DOMAINS["marketing"]}, access


def test_a_consumer_account_manages_only_the_database_roles_the_upstream_share_carries() -> None:
    """A database created from a share holds the database roles granted to that share and no other
    (https://docs.snowflake.com/en/sql-reference/sql/grant-database-role-share): finance's product masks e-mails
    only, so its share carries PII_READER and its reader role, not the region roles of the library. The consumer's
    plan grants and gives up only those (it once revoked `PII_READER` from a mount of orders' share, which has none,
    and granted a region role the share does not carry: both fail on Snowflake)."""
    masked = _node("finance", "revenue", "FINANCE", columns={"email": {
        "name": "email", "meta": {"data_mesh": {"masking": "mask_email"}}}})
    product = {"name": "revenue", "models": ["revenue"], "consumers": {"domains": ["marketing"]}}
    domains, access = _mounting(product)
    mount, = mounts_of(domains["marketing"], domains, ACROSS, access, lambda upstream: _manifest(masked))
    carried = desired_shares(domains["finance"], _manifest(masked), domains, ACROSS, access).database_roles
    assert set(mount.offered) == set(carried) == {"PII_READER", "REVENUE_READER"}
    shares = DomainShares("marketing", "MARKETING", "account_per_domain", mounts=[mount])
    sql = [s.sql for s in plan_shares(shares, read_current(RecordedState(), shares), "t", sql=SHARE_SQL).statements]
    assert sql == ["USE ROLE MARKETING_MOUNTER",
                   "CREATE DATABASE FINANCE_REVENUE FROM SHARE RETAIL.FINANCE.FINANCE_REVENUE",
                   "GRANT DATABASE ROLE FINANCE_REVENUE.REVENUE_READER TO ROLE MARKETING_DEPLOYER",
                   "REVOKE DATABASE ROLE FINANCE_REVENUE.PII_READER FROM ROLE MARKETING_MOUNTER",
                   "REVOKE DATABASE ROLE FINANCE_REVENUE.REVENUE_READER FROM ROLE MARKETING_MOUNTER"]
    # a share with a region policy carries EMEA_ANALYST: the consumer entitled to it is granted it
    guarded = dict(masked, config={**masked["config"], "meta": {"data_mesh": {"row_access": {
        "policy": "region_entitlement", "columns": ["region"]}}}})
    mount, = mounts_of(domains["marketing"], domains, ACROSS, access, lambda upstream: _manifest(guarded))
    assert mount.grants == (("REVENUE_READER", "MARKETING_DEPLOYER"), ("EMEA_ANALYST", "MARKETING_DEPLOYER"))
    # a product's own `database_roles:` are what its share carries
    domains, access = _mounting(dict(product, database_roles=["PII_READER"]))
    mount, = mounts_of(domains["marketing"], domains, ACROSS, access, lambda upstream: _manifest(guarded))
    assert set(mount.offered) == {"PII_READER", "REVENUE_READER"} and mount.grants == (
        ("REVENUE_READER", "MARKETING_DEPLOYER"),)
    with pytest.raises(MeshError, match=r"marketing mounts FINANCE_REVENUE of finance, whose manifest is not there "
                                        r"to say which database roles the share carries; build or parse finance"):
        mounts_of(domains["marketing"], domains, ACROSS, access, lambda upstream: None)


def test_the_dbt_plugin_names_the_models_shared_with_outside_accounts(tmp_path: Path) -> None:
    (tmp_path / "domain.yml").write_text(yaml.safe_dump({"products": [
        {"name": "a", "models": ["dim_customers", "dim_regions"], "consumers": {"accounts": ["ACME.PARTNER"]}},
        {"name": "b", "models": ["internal_only"], "consumers": {"domains": ["orders"], "accounts": []}},
        {"name": "c", "models": ["dim_regions", "contacts"], "consumers": {"accounts": ["RETAIL.X"]}},
        {"name": "d", "models": ["listed"], "listing": {"access": "all"}}, "not a product"]}))
    assert cross_account_models(tmp_path).split(",") == ["dim_customers", "dim_regions", "contacts", "listed"]
    (tmp_path / "domain.yml").write_text("products: [")
    assert cross_account_models(tmp_path) == ""


def _published(shares: Any, tmp_path: Path) -> EmulatedAccount:
    account = EmulatedAccount(tmp_path / "shares.json")
    for statement in plan_shares(shares, read_current(account.reader(), shares), "t", sql=SHARE_SQL).statements:
        account.execute(statement.sql)
    return account


def test_a_deleted_consumer_domain_loses_its_grants_and_a_retired_reader_role_is_dropped(tmp_path: Path) -> None:
    """finance consumed customers.master, then was deleted with its consumer entries: it is no domain of the
    mesh any more, so only the last publish record says its role got the reader role (publishing said "nothing
    to change"). Later the last consumer domain goes: the reader role is dropped with every grant of it."""
    domains = {"customers": _customers(())[0], "orders": DOMAINS["orders"],
               "finance": Domain("finance", FINANCE, ("customers",), "finance", ())}
    domain, manifest = _customers((), domains=("orders", "finance"))
    account = _published(desired_shares(domain, manifest, domains, ShareSettings(), ACCESS), tmp_path)
    reader = "CUSTOMERS.MASTER_READER"
    record = {"master": {"database_role": reader, "consumers": {"roles": ["FINANCE_DEPLOYER", "ORDERS_DEPLOYER"]}}}
    del domains["finance"]
    domain, manifest = _customers((), domains=("orders",))
    forgetful = desired_shares(domain, manifest, domains, ShareSettings(), ACCESS)
    old_behaviour = plan_shares(forgetful, read_current(account.reader(), forgetful), "t", sql=SHARE_SQL)
    assert old_behaviour.empty
    shares = desired_shares(domain, manifest, domains, ShareSettings(), ACCESS, record)
    plan = plan_shares(shares, read_current(account.reader(), shares), "t", sql=SHARE_SQL)
    assert [(s.sql, s.destructive) for s in plan.statements] == [
        (f"REVOKE DATABASE ROLE {reader} FROM ROLE FINANCE_DEPLOYER", True)]
    for statement in plan.statements:
        account.execute(statement.sql)
    holders = account.reader().show("GRANTS", f"OF DATABASE ROLE {reader}")
    assert [row["grantee_name"] for row in holders] == ["ORDERS_DEPLOYER"]
    domain, manifest = _customers((), domains=())
    shares = desired_shares(domain, manifest, domains, ShareSettings(), ACCESS, record)
    plan = plan_shares(shares, read_current(account.reader(), shares), "t", sql=SHARE_SQL)
    assert [(s.sql, s.destructive) for s in plan.statements] == [(f"DROP DATABASE ROLE {reader}", True)]
    assert_snowflake_sql([s.sql for s in plan.statements])
    account.execute(plan.statements[0].sql)
    assert not account.reader().show("GRANTS", f"OF DATABASE ROLE {reader}")
    assert "MASTER_READER" not in {r["name"] for r in account.reader().show("DATABASE ROLES", "IN DATABASE CUSTOMERS")}
    assert plan_shares(shares, read_current(account.reader(), shares), "t", sql=SHARE_SQL).empty


def test_a_shared_model_rebuilt_without_copy_grants_is_refused_where_a_rebuild_drops_grants() -> None:
    """CREATE OR REPLACE drops the grants of the object it replaces unless it says COPY GRANTS
    (https://docs.snowflake.com/en/sql-reference/sql/create-table, COPY GRANTS): on such an engine a plain `dbt
    build` would leave the share and the reader role without SELECT until the next publish. The DuckDB emulation
    keeps its grants beside the database, so it does not ask."""
    domain = _finance(["revenue"], domains=("marketing",))
    table = _node("finance", "revenue", "FINANCE")
    with pytest.raises(MeshError) as refused:
        desired_shares(domain, _manifest(table), {**DOMAINS, "finance": domain}, ShareSettings(), ACCESS,
                       keep_grants=True)
    assert str(refused.value).startswith(f"{FINANCE / 'models/marts/revenue.sql'}: finance.revenue in product "
                                         "finance.revenue is rebuilt with CREATE OR REPLACE")
    assert f"set `+copy_grants: true` for it in {FINANCE / 'dbt_project.yml'}" in str(refused.value)
    assert desired_shares(domain, _manifest(table), {**DOMAINS, "finance": domain}, ShareSettings(), ACCESS).desired
    table["config"]["copy_grants"] = True
    assert desired_shares(domain, _manifest(table), {**DOMAINS, "finance": domain}, ShareSettings(), ACCESS,
                          keep_grants=True).desired


class _OtherLanguage:
    """A third engine's share statements: the plan is made of what the engine renders, nothing else."""

    def create_share(self, share: str, comment: str) -> str:
        return f"share.create({share})"

    def comment_share(self, share: str, comment: str) -> str:
        return f"share.comment({share})"

    def share_accounts(self, share: str, accounts: list[str], *, add: bool) -> str:
        return f"share.{'add' if add else 'remove'}({share}, {accounts})"

    def drop_share(self, share: str) -> str:
        return f"share.drop({share})"

    def grant(self, privilege: str, on: str, name: str, grantee_kind: str, grantee: str, *,
              revoke: bool = False) -> str:
        return f"{'revoke' if revoke else 'grant'}({privilege}, {on}, {name}, {grantee_kind}, {grantee})"

    def create_database_role(self, role: str) -> str:
        return f"role.create({role})"

    def drop_database_role(self, role: str) -> str:
        return f"role.drop({role})"

    def create_listing(self, listing: str, share: str, manifest: str) -> str:
        return f"listing.create({listing})"

    def alter_listing(self, listing: str, manifest: str) -> str:
        return f"listing.alter({listing})"

    def unpublish_listing(self, listing: str) -> str:
        return f"listing.unpublish({listing})"

    def drop_listing(self, listing: str) -> str:
        return f"listing.drop({listing})"

    def mount(self, database: str, share: str) -> str:
        return f"mount({database}, {share})"


def test_the_share_plan_is_written_in_the_engines_language() -> None:
    domain, manifest = _customers(("ACME.PARTNER",), domains=("orders",))
    shares = desired_shares(domain, manifest, {"customers": domain, "orders": DOMAINS["orders"]}, ShareSettings(),
                            ACCESS)
    plan = plan_shares(shares, read_current(RecordedState(), shares), "t", sql=_OtherLanguage())
    assert plan.statements and all(s.sql.startswith(("share.", "grant(", "role.")) for s in plan.statements)
    assert "grant(SELECT, TABLE, CUSTOMERS.MARTS.DIM_CUSTOMERS, SHARE, CUSTOMERS_MASTER)" in \
        [s.sql for s in plan.statements]
