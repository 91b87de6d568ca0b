"""ODCS and ODPS exports: they validate against the shipped schemas and read back with the ODCS package's model."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import run_cli
from open_data_contract_standard.model import OpenDataContractStandard

from mesh_cli.build.run import BuildReport
from mesh_cli.catalog.export.odcs import logical_type, odcs_contract
from mesh_cli.catalog.export.odps import odps_product
from mesh_cli.catalog.export.validate import ODCS_SCHEMA, ODPS_SCHEMA, check
from mesh_cli.catalog.index import Catalog, build_catalog
from mesh_cli.core.config import load_config
from mesh_cli.core.errors import MeshError


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
    assert table["physicalName"] == "dim_customers_v1"
    columns = {p["name"]: p for p in table["properties"]}
    assert columns["customer_id"]["required"] and columns["customer_id"]["unique"]
    assert columns["customer_id"]["logicalType"] == "integer"
    assert {"name": "unique", "type": "library", "metric": "duplicateValues", "mustBe": 0} in \
        columns["customer_id"]["quality"]
    region = next(q for q in columns["region"]["quality"] if q["name"] == "accepted_values")
    assert region["arguments"]["validValues"] == ["EMEA", "NA", "APAC", "LATAM"]
    assert {"property": "latency", "value": 24, "unit": "h",
            "description": "Rebuilt at least every 24 hours"} in contract["slaProperties"]
    assert {"property": "endOfSupport", "value": "2027-06-30",
            "description": "Deprecation date of this model version"} in contract["slaProperties"]
    assert contract["team"]["name"] == "Customer Data Team"
    servers = {s["type"]: s for s in contract["servers"]}
    assert servers["duckdb"]["database"] == ".mesh/duckdb/customers.duckdb" and servers["duckdb"]["schema"] == "marts"
    assert servers["snowflake"]["database"] == "CUSTOMERS" and servers["snowflake"]["account"] == "${SNOWFLAKE_ACCOUNT}"
    latest = odcs_contract(load_config(built_mesh[0]), catalog, "customers.dim_customers")
    assert latest["id"] == "customers.dim_customers.v2" and latest["status"] == "active"


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


def test_the_schemas_reject_what_the_standards_forbid() -> None:
    with pytest.raises(MeshError, match=r"odcs-json-schema-v3\.2\.0\.json: the test contract does not validate"):
        check({"apiVersion": "v9", "kind": "DataContract", "id": "x", "version": "1.0.0"}, ODCS_SCHEMA,
              "the test contract")
    with pytest.raises(MeshError, match=r"the test product does not validate against odps-json-schema-v1\.0\.0\.json "
                                        r"at outputPorts/0: 'version' is a required property$"):
        check({"apiVersion": "v1.0.0", "kind": "DataProduct", "id": "x", "status": "active",
               "outputPorts": [{"name": "no version"}]}, ODPS_SCHEMA, "the test product")


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
