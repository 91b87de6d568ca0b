"""The exports used as their users use them: datacontract-cli lints and tests every ODCS contract against the
example mesh's data (test copies from `mesh export test-data`), dataproduct-cli lints every ODPS descriptor.

The tools run from their own virtualenv, which `make test` creates (`.venv-contracts`, pinned in the Makefile) and
names in CONTRACT_TOOLS_BIN; datacontract-cli pins duckdb<1.6, so it also shows that DuckDB 1.x opens the files.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from conftest import copy_built_mesh, run_cli

from mesh_cli.build.run import BuildReport
from mesh_cli.catalog.export.odcs import odcs_contract
from mesh_cli.catalog.export.odps import odps_product
from mesh_cli.catalog.export.test_copies import write_test_copies
from mesh_cli.catalog.index import Catalog, build_catalog
from mesh_cli.core.config import MeshConfig, load_config
from mesh_cli.core.errors import MeshError

TOOLS_ENV = "CONTRACT_TOOLS_BIN"
V1_0_STORAGE = 64   # the storage version number DuckDB 1.0 writes and every 1.x reads


@pytest.fixture(scope="module")
def tools() -> Path:
    """The bin folder of the virtualenv with datacontract-cli and dataproduct-cli."""
    folder = Path(os.environ.get(TOOLS_ENV, ""))
    if os.environ.get(TOOLS_ENV) and (folder / "datacontract").is_file() and (folder / "dataproduct").is_file():
        return folder
    if os.environ.get("CI"):
        pytest.fail(f"{TOOLS_ENV} does not name a bin folder with datacontract and dataproduct: `make test` "
                    "creates .venv-contracts and sets it", pytrace=False)
    pytest.skip(f"{TOOLS_ENV} is not set: run through `make test`, or set it to .venv-contracts/bin")


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory, built_mesh: tuple[Path, BuildReport]) -> Path:
    """A private copy of the built example mesh, its contracts and descriptors exported under `exports/`."""
    root = copy_built_mesh(built_mesh[0], tmp_path_factory.mktemp("contract_tools") / "mesh")
    config, catalog = _catalog(root)
    for version in _versions(catalog):
        _write(root / "exports" / f"{version['id']}.odcs.yaml", odcs_contract(config, catalog, version["id"]))
        write_test_copies(config, catalog, version["id"])
    for product in catalog.products:
        _write(root / "exports" / f"{product['id']}.odps.yaml", odps_product(catalog, product["id"]))
    return root


def _catalog(root: Path) -> tuple[MeshConfig, Catalog]:
    config = load_config(root)
    return config, build_catalog(config, "dev")


def _versions(catalog: Catalog) -> list[dict[str, Any]]:
    return [v for p in catalog.products for m in p["models"] for v in m["versions"]]


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def _tool(tools: Path, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tools / args[0]), *args[1:]], cwd=root, capture_output=True, text=True, timeout=300)


def _contract_test(tools: Path, root: Path, contract: Path, server: str) -> dict[str, Any]:
    """`datacontract test` of one server: its result and the (field, check type) of every failed check."""
    out = root / f"{contract.name}.{server}.json"
    done = _tool(tools, root, "datacontract", "test", str(contract), "--server", server, "--output-format", "json",
                 "--output", str(out))
    report = json.loads(out.read_text(encoding="utf-8"))
    assert (done.returncode == 0) == (report["result"] == "passed"), done.stdout
    failed = {(c["field"], c["type"]) for c in report["checks"] if c["result"] != "passed"}
    return {"result": report["result"], "failed": failed, "checks": report["checks"]}


def test_domain_databases_open_in_duckdb_1(tools: Path, mesh: Path) -> None:
    files = sorted((mesh / ".mesh/duckdb").glob("*.duckdb"))
    assert [f.stem for f in files] == ["customers", "finance", "orders"]
    for path in [*files, *(mesh / ".mesh/contract-tests").rglob("*.duckdb")]:
        header = path.read_bytes()[:20]
        assert (header[8:12], struct.unpack("<Q", header[12:20])[0]) == (b"DUCK", V1_0_STORAGE), path
    script = ("import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
              "print(duckdb.__version__, c.execute('select count(*) from information_schema.tables').fetchone()[0])")
    for path in files:
        done = _tool(tools, mesh, "python", "-c", script, str(path))
        version, tables = done.stdout.split()
        assert done.returncode == 0 and version.startswith("1.") and int(tables) > 5, done.stderr


# The tools' own engines, one process of their virtualenv for many documents (each CLI start costs about a second):
# `DataContract(...).lint()` and `.test()` are what `datacontract lint` and `datacontract test` run.
RUN_TOOLS = """
import json, sys
from datacontract.data_contract import DataContract
results = []
for contract, server in json.loads(sys.argv[1]):
    contract_run = DataContract(data_contract_file=contract, server=server)
    run = contract_run.test() if server else contract_run.lint()
    results.append({"contract": contract, "server": server, "result": str(run.result.value),
                    "checks": [{"key": c.key, "field": c.field, "type": c.type, "result": str(c.result.value)}
                               for c in run.checks]})
print(json.dumps(results))
"""


def _run_tools(tools: Path, root: Path, pairs: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    done = _tool(tools, root, "python", "-c", RUN_TOOLS, json.dumps(pairs))
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_every_export_lints_with_the_ecosystem_tools(tools: Path, mesh: Path) -> None:
    contracts = sorted((mesh / "exports").glob("*.odcs.yaml"))
    products = sorted((mesh / "exports").glob("*.odps.yaml"))
    assert (len(contracts), len(products)) == (7, 3)
    for run in _run_tools(tools, mesh, [(str(contract), None) for contract in contracts]):
        assert run["result"] == "passed" and run["checks"], run
    resolved = set()
    for product in products:   # the CLI, finding each linked contract among the exports (linted above)
        done = _tool(tools, mesh, "dataproduct", "lint", str(product), "--local-references")
        text = " ".join(done.stdout.split())
        assert done.returncode == 0 and "Data product is valid" in text, text
        resolved |= set(re.findall(r"Data contract '([\w.]+)' linked by \w+\[[\w.]+\] is resolvable", text))
    assert resolved == {path.name.removesuffix(".odcs.yaml") for path in contracts}


def test_every_contract_passes_on_the_example_data_for_each_reader(tools: Path, mesh: Path) -> None:
    pairs: list[tuple[str, str | None]] = [
        (str(contract), server["server"]) for contract in sorted((mesh / "exports").glob("*.odcs.yaml"))
        for server in yaml.safe_load(contract.read_text())["servers"]]
    assert len(pairs) == 12   # 7 contracts with a producer; the 5 of products with a consuming domain, a consumer
    runs = _run_tools(tools, mesh, pairs)
    for run in runs:
        failed = [(c["field"], c["type"]) for c in run["checks"] if c["result"] != "passed"]
        assert (run["result"], failed) == ("passed", []), (run["contract"], run["server"])   # none skipped either
        keys = [c["key"] for c in run["checks"]]
        assert len(keys) == len(set(keys)) and len(keys) > 10
    # each property is checked once: `required` and `unique` state not_null and unique, no rule repeats them
    [v2] = [run for run in runs if run["contract"].endswith("dim_customers.v2.odcs.yaml")
            and run["server"] == "dev-producer"]
    assert sorted(c["type"] for c in v2["checks"] if c["field"] == "customer_id") == [
        "field_is_present", "field_required", "field_type", "field_unique"]


def _plant(database: Path, sql: str) -> None:
    with duckdb.connect(str(database)) as connection:
        connection.execute(sql)


def test_planted_bad_rows_fail_the_contract_tests(tools: Path, mesh: Path, tmp_path: Path) -> None:
    root = copy_built_mesh(mesh, tmp_path / "mesh")
    # a customer with another's e-mail, an unknown region and no country; an order of a customer that does not exist
    _plant(root / ".mesh/duckdb/customers.duckdb",
           "insert into mesh_protected.marts__dim_customers_v2 select * replace (customer_id + 900000 as customer_id,"
           " 'MARS' as region, null as country) from mesh_protected.marts__dim_customers_v2 where customer_id = 1")
    _plant(root / ".mesh/duckdb/orders.duckdb",
           "insert into mesh_protected.marts__fct_orders select * replace (order_id + 900000 as order_id, "
           "999999 as customer_id) from mesh_protected.marts__fct_orders limit 1")
    config, catalog = _catalog(root)
    for reference in ("customers.dim_customers.v2", "orders.fct_orders"):
        write_test_copies(config, catalog, reference)
    customers, orders = (str(root / f"exports/{name}.odcs.yaml") for name in ("customers.dim_customers.v2",
                                                                              "orders.fct_orders"))
    runs = _run_tools(tools, root, [(customers, "dev-producer"), (customers, "dev-consumer"), (orders, "dev-producer")])
    failed = [(run["result"], {(c["field"], c["type"]) for c in run["checks"] if c["result"] != "passed"})
              for run in runs]
    assert failed == [
        ("failed", {("email", "field_quality_sql"), ("region", "field_invalid_values"), ("country", "field_required")}),
        # the consumer sees the e-mails masked, so they may repeat (the contract says so); the rest it sees too
        ("failed", {("region", "field_invalid_values"), ("country", "field_required")}),
        ("failed", {("customer_id", "field_quality_sql")}),
    ]


def test_the_freshness_sla_is_tested_on_the_column_the_product_names(tools: Path, mesh: Path,
                                                                       tmp_path: Path) -> None:
    root = copy_built_mesh(mesh, tmp_path / "mesh")
    domain_file = root / "domains/customers/domain.yml"
    domain_file.write_text(domain_file.read_text().replace(
        "sla: {freshness_hours: 24}", "sla: {freshness_hours: 24, freshness_column: signup_date}"))
    config, catalog = _catalog(root)
    contract = odcs_contract(config, catalog, "customers.dim_customers.v2")
    assert "freshness" not in {sla["property"] for sla in odcs_contract(config, catalog, "customers.dim_regions")[
        "slaProperties"]}   # a model of the product without that column
    assert {"property": "freshness", "value": 24, "unit": "h", "element": "dim_customers_v2.signup_date",
            "description": "The newest signup_date is at most 24 hours old"} in contract["slaProperties"]
    path = root / "exports/customers.dim_customers.v2.odcs.yaml"
    _write(path, contract)
    write_test_copies(config, catalog, "customers.dim_customers.v2")
    # the example's newest signup is months old
    [stale] = _run_tools(tools, root, [(str(path), "dev-producer")])
    assert [(c["field"], c["type"]) for c in stale["checks"] if c["result"] != "passed"] == [
        ("signup_date", "servicelevel_freshness")]
    _plant(root / ".mesh/duckdb/customers.duckdb",
           "update mesh_protected.marts__dim_customers_v2 set signup_date = current_date where customer_id = 1")
    write_test_copies(config, catalog, "customers.dim_customers.v2")
    [fresh] = _run_tools(tools, root, [(str(path), "dev-producer")])
    assert fresh["result"] == "passed" and "servicelevel_freshness" in {c["type"] for c in fresh["checks"]}
    # a column none of the product's models has is one line naming the file
    domain_file.write_text(domain_file.read_text().replace("freshness_column: signup_date", "freshness_column: x"))
    with pytest.raises(MeshError, match=r"domain.yml: product customer_master: `sla.freshness_column` 'x' is not a "
                                        r"column of any of its models \(dim_customers, dim_regions\)"):
        _catalog(root)


def test_a_server_that_shows_no_rows_fails(tools: Path, mesh: Path) -> None:
    # the domain database itself (DuckDB 1.x opens it): its governed view shows a session without roles no row
    contract = yaml.safe_load((mesh / "exports/customers.dim_customers.v2.odcs.yaml").read_text())
    contract["servers"] = [{"server": "governed-view", "type": "duckdb", "database": ".mesh/duckdb/customers.duckdb",
                            "schema": "marts"}]
    path = mesh / "governed-view.odcs.yaml"
    _write(path, contract)
    result = _contract_test(tools, mesh, path, "governed-view")
    assert result["result"] == "failed"
    assert (None, "row_count") in result["failed"]


def test_the_sql_export_names_the_physical_relation(tools: Path, mesh: Path) -> None:
    done = _tool(tools, mesh, "datacontract", "export", "sql",
                 str(mesh / "exports/customers.dim_customers.v1.odcs.yaml"))
    assert done.returncode == 0 and "CREATE TABLE dim_customers_v1" in done.stdout, done.stdout


def test_test_data_cli(mesh: Path) -> None:
    written = run_cli(mesh, "export", "test-data", "orders.fct_order_lines")
    assert written.exit_code == 0
    assert "fct_order_lines/producer.duckdb: marts.fct_order_lines 24941 rows, marts.fct_orders 10000 rows" in \
        " ".join(written.output.split())
    missing = run_cli(mesh, "export", "test-data", "orders.nothing")
    assert missing.exit_code == 2 and "'orders.nothing' is not a public model" in missing.output
