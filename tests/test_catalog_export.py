"""ODCS and ODPS exports: they validate against the shipped schemas and read back with the ODCS package's model."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import run_cli
from open_data_contract_standard.model import OpenDataContractStandard
from sql_oracle import assert_snowflake_sql

from mesh_cli.build.run import BuildReport
from mesh_cli.catalog.export.odcs import logical_type, odcs_contract
from mesh_cli.catalog.export.odps import odps_product
from mesh_cli.catalog.export.servers import servers
from mesh_cli.catalog.export.test_copies import write_test_copies
from mesh_cli.catalog.export.validate import ODCS_SCHEMA, ODPS_SCHEMA, check
from mesh_cli.catalog.index import Catalog, build_catalog
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.errors import EngineError, MeshError


@pytest.fixture(scope="module")
def catalog(built_mesh: tuple[Path, BuildReport]) -> Catalog:
    return build_catalog(load_config(built_mesh[0]), "dev")


def test_every_public_model_version_exports_a_valid_odcs_contract(built_mesh: tuple[Path, BuildReport],
                                                                  catalog: Catalog) -> None:
    config = load_config(built_mesh[0])
    versions = [v for p in catalog.products for m in p["models"] for v in m["versions"]]
    assert len(versions) == 7
    for version in versions:
        contract = odcs_contract(config, catalog, version["id"])
        check(contract, ODCS_SCHEMA, version["id"])  # raises MeshError naming the first problem
        parsed = OpenDataContractStandard.from_string(yaml.safe_dump(contract))
        assert parsed.id == version["id"]
        assert [p.name for p in parsed.schema_[0].properties] == [c["name"] for c in version["columns"]]


def test_odcs_contract_of_a_deprecated_version(built_mesh: tuple[Path, BuildReport], catalog: Catalog) -> None:
    contract = odcs_contract(load_config(built_mesh[0]), catalog, "customers.dim_customers.v1")
    assert (contract["apiVersion"], contract["kind"], contract["status"]) == ("v3.2.0", "DataContract", "deprecated")
    assert (contract["domain"], contract["dataProduct"], contract["version"]) == ("customers", "customer_master",
                                                                                  "1.0.0")
    table = contract["schema"][0]
    assert (table["name"], table["physicalName"], table["businessName"]) == ("dim_customers_v1", "dim_customers_v1",
                                                                             "dim_customers")
    assert {k: v for k, v in table["quality"][0].items() if k != "description"} == \
        {"name": "has_rows", "type": "library", "metric": "rowCount", "mustBeGreaterThan": 0}
    columns = {p["name"]: p for p in table["properties"]}
    # not_null and unique are stated once, by the property: no quality rule repeats them
    assert columns["customer_id"]["required"] and columns["customer_id"]["unique"]
    assert "quality" not in columns["customer_id"] and columns["customer_id"]["logicalType"] == "integer"
    [region] = columns["region"]["quality"]
    assert (region["metric"], region["arguments"]["validValues"]) == ("invalidValues", ["EMEA", "NA", "APAC", "LATAM"])
    # a masked column is unique only to readers that see clear values, and the contract says so
    email = columns["email"]
    assert email["unique"] is False and email["classification"] == "restricted"
    assert {"property": "uniqueWhenUnmasked", "value": ["PII_READER"]} in email["customProperties"]
    [unique] = [q for q in email["quality"] if q["name"] == "unique_when_unmasked"]
    assert unique["type"] == "sql" and unique["query"].endswith("as duplicates where is_role_in_session('PII_READER')")
    assert {"property": "latency", "value": 24, "unit": "h",
            "description": "Rebuilt at least every 24 hours"} in contract["slaProperties"]
    assert {"property": "endOfSupport", "value": "2027-06-30",
            "description": "Deprecation date of this model version"} in contract["slaProperties"]
    assert contract["team"]["name"] == "Customer Data Team"
    servers = {s["server"]: s for s in contract["servers"]}
    assert servers["dev-producer"]["database"] == ".mesh/contract-tests/dev/customers.dim_customers.v1/producer.duckdb"
    assert servers["dev-producer"]["roles"] == [{"role": "CUSTOMERS_DEPLOYER", "access": "read"}]
    assert servers["dev-consumer"]["roles"] == [{"role": "ORDERS_DEPLOYER", "access": "read"}]
    assert {s["type"] for s in servers.values()} == {"duckdb"} and {s["schema"] for s in servers.values()} == {"marts"}
    latest = odcs_contract(load_config(built_mesh[0]), catalog, "customers.dim_customers")
    assert latest["id"] == "customers.dim_customers.v2" and latest["status"] == "active"
    # each version tells its readers the ref that reads it: a ref without `v=` reads the latest version
    assert "`{{ ref('customers', 'dim_customers', v=1) }}`" in contract["description"]["usage"]
    assert "`{{ ref('customers', 'dim_customers') }}`" in latest["description"]["usage"]


def test_relationships_are_sql_rules_on_the_relation_the_servers_hold(built_mesh: tuple[Path, BuildReport],
                                                                        catalog: Catalog) -> None:
    config = load_config(built_mesh[0])
    fct_orders = odcs_contract(config, catalog, "orders.fct_orders")["schema"][0]["properties"]
    [rule] = next(p for p in fct_orders if p["name"] == "customer_id")["quality"]
    assert (rule["type"], rule["mustBe"]) == ("sql", 0)
    # another domain's model lies in the test copy under `<domain>__<schema>`, the domain's own under its schema
    assert "from customers__marts.dim_customers_v1 as parent where parent.customer_id = child.customer_id" in \
        rule["query"]
    lines = odcs_contract(config, catalog, "orders.fct_order_lines")["schema"][0]["properties"]
    assert "from marts.fct_orders as parent" in next(p for p in lines if p["name"] == "order_id")["quality"][0]["query"]


def test_snowflake_servers_read_the_domain_database_in_place(built_mesh: tuple[Path, BuildReport]) -> None:
    config = load_config(built_mesh[0])
    domain = discover_domains(config)["customers"]
    [server] = servers(config, domain, "MARTS", "prod", {"producer": ["CUSTOMERS_DEPLOYER"]}, "customers.x")
    assert (server["server"], server["type"], server["database"], server["schema"]) == ("prod", "snowflake",
                                                                                       "CUSTOMERS", "MARTS")
    assert server["account"] == "${SNOWFLAKE_ACCOUNT}"
    assert server["roles"] == [{"role": "CUSTOMERS_DEPLOYER", "access": "read"}]
    assert servers(config, domain, "MARTS", "staging", {"producer": []}, "customers.x") == []


def test_odps_descriptors_validate_and_point_at_the_contracts(catalog: Catalog) -> None:
    for product in catalog.products:
        check(odps_product(catalog, product["id"]), ODPS_SCHEMA, product["id"])
    finance = odps_product(catalog, "finance.revenue_reporting")
    assert (finance["apiVersion"], finance["kind"], finance["status"]) == ("v1.0.0", "DataProduct", "active")
    assert [p["contractId"] for p in finance["inputPorts"]] == ["customers.dim_customers.v2", "orders.fct_orders"]
    assert [p["contractId"] for p in finance["outputPorts"]] == ["finance.revenue_by_region_month",
                                                                  "finance.customer_revenue"]
    assert finance["support"] == [{"channel": "email", "tool": "email",
                                   "url": "mailto:finance-analytics@retail.example"}]
    assert finance["team"]["name"] == "Finance Analytics Team"   # an object in the current ODPS v1.0.0 schema
    assert {"username": "finance-analytics@retail.example", "name": "Finance Analytics Team",
            "role": "domain owner"} in finance["team"]["members"]


def test_the_schemas_reject_what_the_standards_forbid() -> None:
    with pytest.raises(MeshError, match=r"odcs-json-schema-v3\.2\.0\.json: the test contract does not validate"):
        check({"apiVersion": "v9", "kind": "DataContract", "id": "x", "version": "1.0.0"}, ODCS_SCHEMA,
              "the test contract")
    with pytest.raises(MeshError, match=r"the test product does not validate against odps-json-schema-v1\.0\.0\.json "
                                        r"at outputPorts/0: 'version' is a required property$"):
        check({"apiVersion": "v1.0.0", "kind": "DataProduct", "id": "x", "status": "active",
               "outputPorts": [{"name": "no version"}]}, ODPS_SCHEMA, "the test product")
    # the revision of v1.0.0 upstream changed in place: `team` is an object, a list of members no longer validates
    with pytest.raises(MeshError, match=r"at team: \[.*\] is not of type 'object'$"):
        check({"apiVersion": "v1.0.0", "kind": "DataProduct", "id": "x", "status": "active",
               "team": [{"username": "a"}]}, ODPS_SCHEMA, "the test product")


@pytest.mark.parametrize(("reference", "message"), [
    ("customers", "is not DOMAIN.MODEL or DOMAIN.MODEL.vN"),
    ("customers.dim_customers.v7", "has no version v7"),
    ("customers.stg_customers", "is not a public model of any data product"),
])
def test_bad_model_references(built_mesh: tuple[Path, BuildReport], catalog: Catalog, reference: str,
                              message: str) -> None:
    with pytest.raises(MeshError, match=message):
        odcs_contract(load_config(built_mesh[0]), catalog, reference)


@pytest.mark.parametrize(("data_type", "kind"), [
    ("integer", "integer"), ("NUMBER(38,0)", "integer"), ("decimal(12,2)", "number"), ("varchar", "string"),
    ("timestamp_ntz", "timestamp"), ("date", "date"), ("boolean", "boolean"), ("variant", "object"),
    ("geography", None), (None, None),
])
def test_logical_types(data_type: str | None, kind: str | None) -> None:
    assert logical_type(data_type) == kind


def test_cli_exports_to_stdout_and_files(built_mesh: tuple[Path, BuildReport], tmp_path: Path) -> None:
    root, _ = built_mesh
    printed = run_cli(root, "export", "odcs", "orders.fct_orders")
    assert printed.exit_code == 0 and yaml.safe_load(printed.output)["id"] == "orders.fct_orders"
    out = tmp_path / "exports/order_facts.odps.yaml"
    written = run_cli(root, "export", "odps", "orders.order_facts", "--out", str(out))
    assert written.exit_code == 0 and yaml.safe_load(out.read_text())["id"] == "orders.order_facts"
    missing = run_cli(root, "export", "odps", "orders.nothing")
    assert missing.exit_code == 2 and "'orders.nothing' is not a data product" in missing.output


def test_test_copies_are_written_whole_or_not_at_all(built_copy: Path) -> None:
    config = load_config(built_copy)
    catalog = build_catalog(config, "dev")
    copies = built_copy / ".mesh/contract-tests/dev/orders.fct_orders"
    written = write_test_copies(config, catalog, "orders.fct_orders")
    assert {path.name: counts["marts.fct_orders"] for path, counts in written.items()} == {
        "producer.duckdb": 10000, "consumer.duckdb": 10000}
    before = {path.name: path.read_bytes() for path in copies.iterdir()}
    # the consumer reads through the governed view: without it, its copy fails half-way, and the last one stays
    with duckdb.connect(str(built_copy / ".mesh/duckdb/orders.duckdb")) as connection:
        connection.execute("alter view marts.fct_orders rename to fct_orders_gone")
    with pytest.raises(EngineError, match="fct_orders"):
        write_test_copies(config, catalog, "orders.fct_orders")
    assert sorted(path.name for path in copies.iterdir()) == ["consumer.duckdb", "producer.duckdb"]
    assert (copies / "consumer.duckdb").read_bytes() == before["consumer.duckdb"]
    (built_copy / ".mesh/duckdb/customers.duckdb").unlink()
    with pytest.raises(MeshError, match=r"^customers has no database in .*; run `mesh build -s \+orders`$"):
        write_test_copies(config, catalog, "orders.fct_orders")


def test_test_copies_are_for_the_embedded_engine(built_mesh: tuple[Path, BuildReport], catalog: Catalog) -> None:
    on_snowflake = Catalog({**catalog.index, "target": "prod"}, catalog.lineage)
    with pytest.raises(MeshError, match="target 'prod' runs on snowflake: `datacontract test` reads it in place"):
        write_test_copies(load_config(built_mesh[0]), on_snowflake, "orders.fct_orders")


def test_on_snowflake_the_rules_name_relations_in_place_and_parse(built_mesh: tuple[Path, BuildReport],
                                                                  catalog: Catalog) -> None:
    config = load_config(built_mesh[0])
    on_snowflake = Catalog({**catalog.index, "target": "prod"}, catalog.lineage)   # the prod manifest's relations
    rules = []
    for reference in ("orders.fct_orders", "customers.dim_customers.v2"):
        contract = odcs_contract(config, on_snowflake, reference)
        assert [s["server"] for s in contract["servers"]] == ["prod"]
        table = contract["schema"][0]
        rules += [q["query"].replace("{model}", table["physicalName"])
                  for p in table["properties"] for q in p.get("quality", []) if q["type"] == "sql"]
    assert len(rules) == 2
    assert 'from "customers"."marts"."dim_customers_v1" as parent' in rules[0]   # the relation as the manifest has it
    # is_role_in_session is Snowflake's own (https://docs.snowflake.com/en/sql-reference/functions/is_role_in_session)
    assert rules[1].endswith("as duplicates where is_role_in_session('PII_READER')")
    assert assert_snowflake_sql(rules) == 2
