"""Publishing shares end to end on DuckDB (the example mesh, built once per session), the offline prod plan,
the account-per-domain topology, listings, bad input, and a live Snowflake run when credentials are set."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import run_build, run_cli

from mesh_cli.build.run import BuildReport
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.manifest import load_manifest
from mesh_cli.core.share_settings import share_settings
from mesh_cli.engines.duckdb import DuckDBEngine
from mesh_cli.plugin.resolver import resolve
from mesh_cli.shares.access import shared_relations
from mesh_cli.shares.publish import publish
from mesh_cli.shares.spec import desired_shares

PRODUCTS = {"customers": "customer_master", "orders": "order_facts", "finance": "revenue_reporting"}


def _edit_yaml(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_build_publishes_every_product_and_a_second_publish_changes_nothing(
        built_mesh: tuple[Path, BuildReport]) -> None:
    root, report = built_mesh
    assert [(p.domain, p.status) for p in report.published] == [
        ("customers", "published"), ("orders", "published"), ("finance", "published")]
    for domain, product in PRODUCTS.items():
        record = json.loads((root / f".mesh/state/dev/{domain}/publish.json").read_text())["products"][product]
        assert record["status"] == "published" and record["share"] == f"{domain}_{product}".upper()
    customers = json.loads((root / ".mesh/state/dev/customers/publish.json").read_text())["products"]
    assert customers["customer_master"]["models"] == [
        "customers.dim_customers.v1", "customers.dim_customers.v2", "customers.dim_regions"]
    assert customers["customer_master"]["consumers"]["domains"] == ["orders", "finance"]
    result = run_cli(root, "publish", "--json")
    assert result.exit_code == 0, result.output
    assert [(r["domain"], r["status"], r["plan"]["statements"]) for r in json.loads(result.output)] == [
        ("customers", "unchanged", []), ("orders", "unchanged", []), ("finance", "unchanged", [])]


def test_consumers_read_shared_objects_with_their_masking_and_row_access(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    config = load_config(root)
    domains = discover_domains(config)
    connection = DuckDBEngine(config, "dev").connect(domains["orders"], roles=["ORDERS_DEPLOYER"])
    try:
        emails = connection.execute("select email from customers.marts.dim_customers_v2 limit 20").fetchall()
        assert emails and all(e.startswith("*****@") for (e,) in emails)      # no PII_READER: masked
    finally:
        connection.close()
    connection = DuckDBEngine(config, "dev").connect(domains["orders"], roles=["EMEA_ANALYST", "PII_READER"])
    try:
        regions = connection.execute("select distinct region from customers.marts.dim_customers_v2").fetchall()
        clear = connection.execute("select email from customers.marts.dim_customers_v2 limit 5").fetchall()
        assert regions == [("EMEA",)] and not any(e.startswith("*****") for (e,) in clear)
    finally:
        connection.close()


def test_a_ref_to_a_model_not_shared_with_the_consumer_is_refused(built_copy: Path) -> None:
    domain_file = built_copy / "domains/customers/domain.yml"
    _edit_yaml(domain_file, lambda d: d["products"][0]["consumers"].update(domains=["finance"]))
    refused = run_cli(built_copy, "publish", "customers")     # revoking a consumer's access is never implicit
    assert refused.exit_code == 2
    assert "REVOKE DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER FROM ROLE ORDERS_DEPLOYER" in refused.output
    result = run_cli(built_copy, "publish", "customers", "--allow-destroy", "-v")   # -v: the statements applied
    assert result.exit_code == 0, result.output
    assert "REVOKE DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER FROM ROLE ORDERS_DEPLOYER;" in result.output
    with pytest.raises(MeshError, match=r"orders refs customers\.dim_customers\.v1, which customers does not share "
                                        r"with orders \(its last publish\): add orders to `consumers.domains`"):
        resolve(built_copy / "domains/orders", share_lookup=shared_relations)
    assert resolve(built_copy / "domains/finance", share_lookup=shared_relations)  # finance still reads customers
    # before a first publish, domain.yml decides
    (built_copy / ".mesh/state/dev/customers/publish.json").unlink()
    with pytest.raises(MeshError, match=r"does not share with orders \(its domain.yml\)"):
        resolve(built_copy / "domains/orders", share_lookup=shared_relations)
    _edit_yaml(domain_file, lambda d: d["products"][0]["consumers"].update(domains=["orders", "finance"]))
    assert run_cli(built_copy, "publish", "customers").exit_code == 0
    injected = resolve(built_copy / "domains/orders", share_lookup=shared_relations)
    assert "customers.dim_customers.v1" in {m.label for m in injected}


def test_a_ref_to_a_listed_view_that_was_not_published_names_the_cause(built_copy: Path) -> None:
    """domain.yml shares the model with the consumer, but the last publish left it out because the model is a view
    that is not secure: the consumer's error says so (not "add a consumer and publish", which loops)."""
    state = built_copy / ".mesh/state/dev/customers"
    record = json.loads((state / "publish.json").read_text())
    record["products"]["customer_master"]["models"].remove("customers.dim_customers.v1")
    (state / "publish.json").write_text(json.dumps(record))
    manifest = json.loads((state / "manifest.json").read_text())    # as a build of a non-secure view leaves it
    manifest["nodes"]["model.customers.dim_customers.v1"]["config"].update(materialized="view", secure=False)
    (state / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MeshError, match=r"orders refs customers\.dim_customers\.v1, which customers's domain.yml "
                                        r"shares with orders but its last publish did not: customers\.dim_customers"
                                        r"\.v1 is a view that is not secure, and only secure views are shared .*: set "
                                        r"`secure: true` in its config \(.*\) and rebuild customers"):
        resolve(built_copy / "domains/orders", share_lookup=shared_relations)


def test_publish_failure_does_not_block_the_builds_of_other_domains(built_copy: Path) -> None:
    _edit_yaml(built_copy / "domains/customers/domain.yml",
               lambda d: d["products"][0].update(database_roles="PII_READER"))
    report = run_build(built_copy, "customers", "orders", jobs=1)
    assert [r.status for r in report.results] == ["success", "success"] and not report.ok
    assert [(p.domain, p.status) for p in report.published] == [("customers", "failed"), ("orders", "unchanged")]
    assert "`database_roles` must be a list" in (report.published[0].error or "")
    result = run_cli(built_copy, "publish")
    assert result.exit_code == 2 and "failed customers" in result.output and "unchanged orders" in result.output


def test_only_public_secure_models_are_shared(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    config = load_config(root)
    domains = discover_domains(config)
    manifest = load_manifest(root / ".mesh/state/dev/customers/manifest.json")
    node = next(n for n in manifest["nodes"].values() if n.get("name") == "dim_regions")
    node["config"]["materialized"] = "view"
    with pytest.raises(MeshError, match=r"customers\.dim_regions is a view in product customers.customer_master but "
                                        r"not secure.*set `secure: true`"):
        desired_shares(domains["customers"], manifest, domains, share_settings(config))
    node["config"]["secure"] = True
    shares = desired_shares(domains["customers"], manifest, domains, share_settings(config))
    assert any(g.on == "VIEW" and g.name == "CUSTOMERS.MARTS.DIM_REGIONS" for g in shares.desired[0].grants)
    node["access"] = "protected"
    with pytest.raises(MeshError, match="lists model 'dim_regions', which is not a public model of customers"):
        desired_shares(domains["customers"], manifest, domains, share_settings(config))


@pytest.mark.parametrize(("section", "message"), [
    ({"topology": "mesh"}, "`snowflake.topology` is 'mesh'; use one_account or account_per_domain"),
    ({"accounts": {"orders": "not an account"}}, "account 'not an account' must be ORG.ACCOUNT"),
    ({"topology": "account_per_domain"}, "consumed by orders, which has no account under `snowflake.accounts`"),
    ({"regions": []}, "unknown setting(s) under `snowflake:`: regions"),
])
def test_bad_topology_settings_are_one_line_errors(built_copy: Path, section: dict, message: str) -> None:
    _edit_yaml(built_copy / "mesh.yml", lambda d: d.update(snowflake=section))
    result = run_cli(built_copy, "publish", "customers", "--plan")
    assert result.exit_code == 2 and message in " ".join(result.output.split())


def test_listing_manifest_from_domain_yml(built_copy: Path) -> None:
    _edit_yaml(built_copy / "mesh.yml", lambda d: d.update(snowflake={"organization": "RETAIL"}))
    _edit_yaml(built_copy / "domains/customers/domain.yml", lambda d: d["products"][0].update(
        listing={"title": "Customer master", "approver": "cdo@retail.example"},
        consumers={"domains": ["orders", "finance"], "accounts": ["RETAIL.MARKETING"]}))
    result = run_cli(built_copy, "publish", "customers", "-v")   # -v: the statements applied
    assert result.exit_code == 0, result.output
    statement = result.output.split("CREATE ORGANIZATION LISTING IF NOT EXISTS CUSTOMERS_CUSTOMER_MASTER "
                                    "SHARE CUSTOMERS_CUSTOMER_MASTER AS $$\n")[1].split("$$ PUBLISH = TRUE;")[0]
    manifest = yaml.safe_load(statement)
    assert manifest["title"] == "Customer master"
    assert manifest["support_contact"] == "customer-data@retail.example"
    assert manifest["approver_contact"] == "cdo@retail.example"
    assert manifest["organization_targets"]["access"] == [{"account": "MARKETING"}]
    assert "- customers.dim_customers.v2: " in manifest["description"]
    assert "Columns: customer_id integer, first_name varchar" in manifest["description"]
    assert result.output.index("ADD ACCOUNTS = RETAIL.MARKETING") < result.output.index("CREATE ORGANIZATION LISTING")
    record = json.loads((built_copy / ".mesh/state/dev/customers/publish.json").read_text())
    assert record["products"]["customer_master"]["listing"] == "listed"
    assert "nothing to change" in run_cli(built_copy, "publish", "customers").output


def test_a_listed_product_leaves_the_next_product_of_the_domain_planned(built_copy: Path) -> None:
    """A listing on a domain's first product, then a second product: both planned from the manifest (the listing
    text once took the manifest's name, and the next product failed on it)."""
    def two_products(data: dict) -> None:
        data["products"][0].update(models=["dim_customers"], listing={"title": "Customer master"},
                                   consumers={"domains": ["orders"], "accounts": ["RETAIL.MARKETING"]})
        data["products"].append({"name": "regions", "description": "Regions.", "models": ["dim_regions"],
                                 "consumers": {"domains": ["finance"], "accounts": []}})

    _edit_yaml(built_copy / "mesh.yml", lambda d: d.update(snowflake={"organization": "RETAIL"}))
    _edit_yaml(built_copy / "domains/customers/domain.yml", two_products)
    config = load_config(built_copy)
    domains = discover_domains(config)
    manifest = load_manifest(built_copy / ".mesh/state/dev/customers/manifest.json")
    shares = desired_shares(domains["customers"], manifest, domains, share_settings(config))
    assert list(shares.listings) == ["CUSTOMERS_CUSTOMER_MASTER"]
    regions = next(d for d in shares.desired if d.grantee.name == "CUSTOMERS_REGIONS")
    assert any(g.name == "CUSTOMERS.MARTS.DIM_REGIONS" and g.privilege == "SELECT" for g in regions.grants)


def test_offline_prod_plan_in_an_account_per_domain_mesh(mesh_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`mesh publish --plan --target prod` without credentials: every domain's plan against an empty account, the
    consumer side mounting its upstreams' shares, and cross-domain refs resolved to the mounted databases."""
    _edit_yaml(mesh_copy / "mesh.yml", lambda d: d.update(snowflake={"topology": "account_per_domain", "accounts": {
        "customers": "RETAIL.CUSTOMERS", "orders": "RETAIL.ORDERS", "finance": "RETAIL.FINANCE"}}))
    monkeypatch.delenv("SNOWFLAKE_ACCOUNT", raising=False)
    result = run_cli(mesh_copy, "publish", "--plan", "--target", "prod")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "-- publish customers (target prod, snowflake, account_per_domain) (offline: planned against an empty " \
           "current state)" in out
    customers = out.split("-- publish orders")[0]
    # across accounts SELECT reaches consumers through a database role the share carries, never the share itself
    # (IMPORTED PRIVILEGES, all or nothing, would be the only way to it: https://docs.snowflake.com/en/user-guide/
    # data-sharing-gs)
    assert "GRANT SELECT ON TABLE CUSTOMERS.MARTS.DIM_CUSTOMERS_V2 TO DATABASE ROLE " \
           "CUSTOMERS.CUSTOMER_MASTER_READER;" in customers
    assert " TO SHARE CUSTOMERS_CUSTOMER_MASTER;" in customers and not [
        line for line in customers.splitlines() if line.startswith("GRANT SELECT") and "TO SHARE" in line]
    assert "TO ROLE" not in customers.split("GRANT DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER")[1].split(";")[0]
    assert customers.index("CREATE SHARE CUSTOMERS_CUSTOMER_MASTER") < customers.index(
        "GRANT DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER TO SHARE CUSTOMERS_CUSTOMER_MASTER") < customers.index(
        "ALTER SHARE CUSTOMERS_CUSTOMER_MASTER ADD ACCOUNTS = RETAIL.FINANCE, RETAIL.ORDERS;")
    assert "CREATE DATABASE CUSTOMERS_CUSTOMER_MASTER FROM SHARE RETAIL.CUSTOMERS.CUSTOMERS_CUSTOMER_MASTER;" in \
        out.split("-- publish orders")[1].split("-- publish finance")[0]
    assert "CREATE DATABASE ORDERS_ORDER_FACTS FROM SHARE RETAIL.ORDERS.ORDERS_ORDER_FACTS;" in \
        out.split("-- publish finance")[1]
    # the `_shared` policies decide with database roles: created in the product database, granted to the share,
    # and granted by each consumer account to its deployer as governance.yml entitles it (ALL_REGIONS, no PII)
    for role in ("PII_READER", "ALL_REGIONS", "EMEA_ANALYST"):
        assert f"CREATE DATABASE ROLE IF NOT EXISTS CUSTOMERS.{role};" in customers
        assert f"GRANT DATABASE ROLE CUSTOMERS.{role} TO SHARE CUSTOMERS_CUSTOMER_MASTER;" in customers
    orders = out.split("-- publish orders")[1].split("-- publish finance")[0]
    assert "GRANT DATABASE ROLE CUSTOMERS_CUSTOMER_MASTER.ALL_REGIONS TO ROLE ORDERS_DEPLOYER;" in orders
    assert "GRANT DATABASE ROLE CUSTOMERS_CUSTOMER_MASTER.CUSTOMER_MASTER_READER TO ROLE ORDERS_DEPLOYER;" in orders
    assert "CUSTOMERS_CUSTOMER_MASTER.PII_READER TO ROLE ORDERS_DEPLOYER" not in orders
    # mounted by orders' mounting role, which then gives up every database role the share granted it
    assert "REVOKE DATABASE ROLE CUSTOMERS_CUSTOMER_MASTER.PII_READER FROM ROLE ORDERS_MOUNTER;" in orders
    # only the database roles a share carries exist in its mount: orders' product masks nothing (no PII_READER)
    finance = out.split("-- publish finance")[1]
    assert "REVOKE DATABASE ROLE ORDERS_ORDER_FACTS.ALL_REGIONS FROM ROLE FINANCE_MOUNTER;" in finance
    assert "ORDERS_ORDER_FACTS.PII_READER" not in finance
    manifest = load_manifest(mesh_copy / "domains/orders/target/manifest.json")
    upstream = manifest["nodes"]["model.customers.dim_customers.v1"]
    assert upstream["relation_name"] == "CUSTOMERS_CUSTOMER_MASTER.MARTS.DIM_CUSTOMERS_V1"
    assert "planned customers" in out and "planned finance" in out
    applied = run_cli(mesh_copy, "publish", "customers", "--target", "prod")
    assert applied.exit_code == 2 and "SNOWFLAKE_ACCOUNT is not set" in " ".join(applied.output.split())


@pytest.mark.skipif(not os.environ.get("SNOWFLAKE_ACCOUNT"),
                    reason="live Snowflake: set SNOWFLAKE_ACCOUNT (and credentials) and build the example mesh on prod")
def test_live_snowflake_publish_converges(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    config = load_config(root)
    first = publish(config, "prod", ["customers"])
    assert first[0].ok, first[0].error
    second = publish(config, "prod", ["customers"], plan_only=True)
    assert second[0].plan is not None and second[0].plan.empty


def test_a_statement_failing_while_applied_exits_1_and_names_it(built_copy: Path) -> None:
    """The emulated account holds the share under another kind: the plan creates it, the CREATE fails."""
    state = built_copy / ".mesh/state/dev/customers/shares.json"
    recorded = json.loads(state.read_text())
    for row in recorded["show"]["SHOW SHARES"]:
        row["kind"] = "INBOUND"
    state.write_text(json.dumps(recorded))
    result = run_cli(built_copy, "publish", "customers")
    assert result.exit_code == 1, result.output
    assert "failed customers" in result.output and "share CUSTOMERS_CUSTOMER_MASTER already exists" in result.output


def test_a_deleted_consumer_domain_keeps_no_grant_once_destruction_is_allowed(built_copy: Path) -> None:
    """finance is deleted with its consumer entries (issue 26: `mesh publish --allow-destroy` said "nothing to
    change" and FINANCE_DEPLOYER kept customers' reader role): the revokes are planned, refused without
    --allow-destroy (exit 2, nothing applied), applied with it, and no grant to finance is left behind."""
    shutil.rmtree(built_copy / "domains" / "finance")
    _edit_yaml(built_copy / "domains/customers/domain.yml",
               lambda d: d["products"][0]["consumers"].update(domains=["orders"]))
    _edit_yaml(built_copy / "domains/orders/domain.yml", lambda d: d["products"][0]["consumers"].update(domains=[]))
    states = [built_copy / f".mesh/state/dev/{name}/shares.json" for name in ("customers", "orders")]
    before = [state.read_text() for state in states]
    assert all("FINANCE_DEPLOYER" in text for text in before)
    refused = run_cli(built_copy, "publish")
    assert refused.exit_code == 2, refused.output
    assert "REVOKE DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER FROM ROLE FINANCE_DEPLOYER" in refused.output
    assert "DROP DATABASE ROLE ORDERS.ORDER_FACTS_READER" in refused.output
    assert [state.read_text() for state in states] == before
    applied = run_cli(built_copy, "publish", "--allow-destroy")
    assert applied.exit_code == 0, applied.output
    assert not [state for state in states if "FINANCE" in state.read_text()]
    again = run_cli(built_copy, "publish", "--plan", "--format", "json")
    assert again.exit_code == 0 and all(not r["plan"]["statements"] for r in json.loads(again.output))
