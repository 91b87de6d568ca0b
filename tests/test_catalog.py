"""The data product catalogue: its index of the example mesh, bad domain.yml input, the site, the terminal view."""

from __future__ import annotations

import copy
import gzip
import json
import re
import shutil
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import git, run_build, run_cli

from mesh_cli.build.run import BuildReport
from mesh_cli.catalog.column_lineage import add_column_lineage
from mesh_cli.catalog.display import consumers_text, human, label, listing, local_time, relative_age, when
from mesh_cli.catalog.health import health_summary, product_health, rollup
from mesh_cli.catalog.health_chart import BARS, FAILED_AT_LEAST, render_health_svg
from mesh_cli.catalog.history import ContractState, contract_states, product_history
from mesh_cli.catalog.index import Catalog, build_catalog, find_product
from mesh_cli.catalog.lineage import ColumnEdge, lineage_graph, render_svg
from mesh_cli.catalog.results import BuildResults
from mesh_cli.catalog.site import render_site, write_site
from mesh_cli.contracts.snapshot import snapshot
from mesh_cli.core import state as state_module
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import load_domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.manifest import load_manifest, public_models
from mesh_cli.core.product_text import share_comment
from mesh_cli.core.products import product_specs
from mesh_cli.core.row_counts import ROW_COUNTS, record_row_counts, recorded_row_counts
from mesh_cli.core.state import CONTRACT_HISTORY, RUN_HISTORY, keep_failed_build, kept_files, save_build
from mesh_cli.dbt.inventory import ModelEdge, load_inventory

DBT = str(Path(sys.executable).with_name("dbt"))


@pytest.fixture(scope="module")
def catalog(built_mesh: tuple[Path, BuildReport]) -> Catalog:
    root, _ = built_mesh
    return build_catalog(load_config(root), "dev", column_lineage=True)


def _declared_products(root: Path) -> dict[str, dict]:
    found = {}
    for path in sorted((root / "domains").glob("*/domain.yml")):
        for product in yaml.safe_load(path.read_text())["products"]:
            found[f"{path.parent.name}.{product['name']}"] = product
    return found


def test_index_covers_every_product_with_owner_models_columns_and_consumers(
        built_mesh: tuple[Path, BuildReport], catalog: Catalog) -> None:
    root, _ = built_mesh
    declared = _declared_products(root)
    assert sorted(p["id"] for p in catalog.products) == sorted(declared)
    for product in catalog.products:
        domain_file = yaml.safe_load((root / "domains" / product["domain"] / "domain.yml").read_text())
        assert product["owner"] == {"name": domain_file["domain"]["owner"]["name"],
                                    "email": domain_file["domain"]["owner"]["email"]}
        assert [m["name"] for m in product["models"]] == declared[product["id"]]["models"]
        assert product["consumers"]["domains"] == declared[product["id"]]["consumers"]["domains"]
        manifest = load_manifest(root / ".mesh/state/dev" / product["domain"] / "manifest.json")
        for model in product["models"]:
            for version in model["versions"]:
                node = next(m for m in public_models(manifest, product["domain"]) if m.label == version["id"])
                assert [c["name"] for c in version["columns"]] == list(node.columns)
                assert [c["data_type"] for c in version["columns"]] == [c["data_type"] for c in node.columns.values()]


def test_versions_deprecations_and_observed_consumers_of_customers(catalog: Catalog) -> None:
    product = find_product(catalog, "customers.customer_master")
    dim_customers = product["models"][0]
    assert [v["id"] for v in dim_customers["versions"]] == ["customers.dim_customers.v1", "customers.dim_customers.v2"]
    v1, v2 = dim_customers["versions"]
    assert "full_name" in [c["name"] for c in v1["columns"]] and "first_name" not in [c["name"] for c in v1["columns"]]
    assert {"phone", "birth_date", "first_name"} <= {c["name"] for c in v2["columns"]} and v2["is_latest"]
    customer_id = next(c for c in v2["columns"] if c["name"] == "customer_id")
    assert [t["name"] for t in customer_id["tests"]] == ["not_null", "unique"]
    assert product["deprecations"] == [{"model": "customers.dim_customers.v1", "date": "2027-06-30",
                                        "used_by": ["orders.fct_orders"]}]
    assert {"model": "customers.dim_customers.v2", "used_by": "finance.int_order_revenue"} in \
        product["consumers"]["used_by"]
    assert product["consumers"]["undeclared"] == [] and product["publish"]["status"] == "published"
    assert product["publish"]["share"] == "CUSTOMERS_CUSTOMER_MASTER"   # mesh build publishes each built domain
    assert product["build"]["status"] == "success" and product["build"]["failing_tests"] == []
    assert product["build"]["tests"]["pass"] > 10


def test_lineage_links_public_models_across_domains_through_internal_models(catalog: Catalog) -> None:
    edges = {(e["upstream"], e["downstream"]) for e in catalog.index["lineage"]["edges"]}
    # finance reads both upstreams in a protected model; lineage shows the public models built from it
    assert {("customers.dim_customers.v1", "orders.fct_orders"),
            ("customers.dim_customers.v2", "finance.revenue_by_region_month"),
            ("orders.fct_orders", "finance.customer_revenue")} <= edges
    nodes = {n["id"]: n for n in catalog.index["lineage"]["nodes"]}
    # the one internal model drawn: finance's Snowpark customer_scoring reads customers and feeds no public model
    assert {id_ for id_, n in nodes.items() if n["access"] != "public"} == {"finance.customer_scoring"}
    assert ("customers.dim_customers.v2", "finance.customer_scoring") in edges
    assert nodes["orders.fct_orders"]["product"] == "orders.order_facts"
    around = catalog.lineage.around({"orders.fct_order_lines"})
    assert set(around.nodes) == {"orders.fct_order_lines"} and around.edges == []


def test_column_lineage_follows_each_column_across_domains_and_internal_models(catalog: Catalog) -> None:
    edges = {(e["upstream"], e["column"], e["downstream"], e["into"]) for e in catalog.index["lineage"]["column_edges"]}
    # a direct read across domains: orders' fct_orders takes region from customers v1
    assert ("customers.dim_customers.v1", "region", "orders.fct_orders", "region") in edges
    # through finance's protected int_order_revenue: region from customers v2, revenue from fct_orders' order_total
    assert {("customers.dim_customers.v2", "region", "finance.customer_revenue", "region"),
            ("orders.fct_orders", "order_total", "finance.customer_revenue", "revenue"),
            ("orders.fct_orders", "order_date", "finance.customer_revenue", "first_order_date")} <= edges
    # through a CTE: revenue_by_region_month counts fct_orders' customers; its region comes from the targets
    assert ("orders.fct_orders", "customer_id", "finance.revenue_by_region_month", "customer_count") in edges
    assert not {e for e in edges if e[2] == "finance.revenue_by_region_month" and e[3] == "region"}
    assert ("orders.fct_orders", "region", "finance.customer_revenue", "region") not in edges  # finance re-derives it
    # a Snowpark model that projects its ref: the columns it names
    assert ("customers.dim_customers.v2", "customer_id", "finance.customer_scoring", "customer_id") in edges
    assert not {e for e in edges if e[1] in ("email", "phone")}   # nobody downstream takes them
    # every column edge lies along a model edge, between columns the view lists
    models = {(e["upstream"], e["downstream"]) for e in catalog.index["lineage"]["edges"]}
    listed = {n["id"]: n["columns"] for n in catalog.index["lineage"]["nodes"]}
    assert all((up, down) in models and column in listed[up] and into in listed[down]
               for up, column, down, into in edges)
    around = catalog.lineage.around({"customers.dim_regions"})
    assert around.column_edges == [] and around.columns == {"customers.dim_regions": ["region", "region_name",
                                                                                    "customer_count"]}


def test_a_model_whose_sql_cannot_be_read_passes_on_no_column(built_mesh: tuple[Path, BuildReport]) -> None:
    config = load_config(built_mesh[0])
    inventory = load_inventory(config, "dev")
    manifests = {name: copy.deepcopy(load_manifest(view.manifest_path)) for name, view in inventory.views.items()}
    node = manifests["finance"]["nodes"]["model.finance.int_order_revenue"]
    node["raw_code"] = "{% if true %}" + node["raw_code"] + "{% endif %}"   # Jinja column_reads does not read
    lineage = lineage_graph(inventory, {})
    add_column_lineage(lineage, manifests)
    assert ("orders.fct_orders", "finance.customer_revenue") in lineage.edges   # the model edge stays
    assert not [e for e in lineage.column_edges if e.upstream == "orders.fct_orders"]
    assert ColumnEdge("customers.dim_customers.v1", "region", "orders.fct_orders", "region") in lineage.column_edges
    svg = render_svg(lineage, with_columns=True)
    assert ('class="column-edge" data-from="customers.dim_customers.v1" data-from-column="region" '
            'data-to="orders.fct_orders" data-to-column="region"') in svg
    assert "column-edge" not in render_svg(lineage)   # the model-level view draws models only


def test_a_consumer_that_feeds_no_public_model_is_drawn(built_mesh: tuple[Path, BuildReport]) -> None:
    inventory = load_inventory(load_config(built_mesh[0]), "dev")
    finance = inventory.views["finance"]
    template = next(m for m in finance.models if m.access != "public")
    finance.models.append(replace(template, unique_id="model.finance.audit_regions", name="audit_regions",
                                  access="private", depends_on=("model.customers.dim_regions",)))
    inventory.edges.append(ModelEdge("customers.dim_regions", "finance.audit_regions"))
    lineage = lineage_graph(inventory, {"customers.dim_regions": "customers.customer_master"})
    assert lineage.nodes["finance.audit_regions"]["access"] == "private"
    assert ("customers.dim_regions", "finance.audit_regions") in lineage.edges
    assert "finance.int_order_revenue" not in lineage.nodes  # it feeds public models, which stand for it
    svg = render_svg(lineage, {"customers.dim_regions"}, "products/")
    assert 'class="node private" data-node="finance.audit_regions"' in svg
    assert '<a href="products/customers.customer_master.html"><g class="node public focus"' in svg


def test_freshness_is_judged_against_the_sla_at_the_given_time(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    config = load_config(root)
    built = datetime.fromisoformat(find_product(build_catalog(config, "dev"), "orders.order_facts")
                                   ["build"]["freshness"]["last_built"])
    fresh = find_product(build_catalog(config, "dev", now=built + timedelta(hours=23)), "orders.order_facts")
    stale = find_product(build_catalog(config, "dev", now=built + timedelta(hours=25)), "orders.order_facts")
    assert {k: v for k, v in fresh["build"]["freshness"].items() if k != "sources"} == {
        "status": "fresh", "sla_hours": 24, "last_built": built.isoformat(), "age_hours": 23.0}
    assert stale["build"]["freshness"]["status"] == "stale"


def _set_governance(manifest_path: Path, models: dict[str, dict], columns: dict[tuple[str, str], dict]) -> None:
    """Rewrite a state manifest as dbt writes it for these `meta.data_mesh` settings (and no others)."""
    manifest = json.loads(manifest_path.read_text())
    for uid, node in manifest["nodes"].items():
        if node.get("resource_type") != "model":
            continue
        node["meta"], node["config"]["meta"] = {}, ({"data_mesh": models[uid]} if uid in models else {})
        for name, column in node["columns"].items():
            column["meta"] = {}
            column["config"]["meta"] = {"data_mesh": columns[(uid, name)]} if (uid, name) in columns else {}
    manifest_path.write_text(json.dumps(manifest))


def test_governance_settings_in_the_manifest_show_and_set_confidentiality(built_copy: Path) -> None:
    state = built_copy / ".mesh/state/dev/customers/manifest.json"
    v2, regions = "model.customers.dim_customers.v2", "model.customers.dim_regions"
    _set_governance(state, {v2: {"tags": {"data_domain": "customers"}, "row_access": {"policy": "region_access",
                                                                                    "true": ["region"]}}},
                    {(v2, "email"): {"masking": "mask_email", "tags": {"pii": "email"}}})
    product = find_product(build_catalog(load_config(built_copy), "dev"), "customers.customer_master")
    version = product["models"][0]["versions"][1]
    email = next(c for c in version["columns"] if c["name"] == "email")
    assert (email["masking"], email["tags"]) == ("mask_email", ["pii=email"])
    assert version["tags"] == ["data_domain=customers"] and version["row_access"] == "region_access on (region)"
    assert product["confidentiality"] == "restricted" and product["tags"] == ["data_domain=customers"]

    _set_governance(state, {v2: {"tags": {"confidentiality": "confidential"}},
                            regions: {"tags": {"confidentiality": "internal"}}}, {})
    product = find_product(build_catalog(load_config(built_copy), "dev"), "customers.customer_master")
    assert product["confidentiality"] == "confidential" and product["tags"] == []
    _set_governance(state, {}, {})
    assert find_product(build_catalog(load_config(built_copy), "dev"),
                        "customers.customer_master")["confidentiality"] == "internal"


def test_publish_state_is_shown_when_present(built_copy: Path) -> None:
    state = built_copy / ".mesh/state/dev/orders/publish.json"
    state.write_text(json.dumps({"products": {"order_facts": {"status": "published", "share": "ORDERS_ORDER_FACTS",
                                                              "listing": "not listed"}}}))
    (built_copy / ".mesh/state/dev/finance/publish.json").unlink()    # as if finance was built with --no-publish
    catalog = build_catalog(load_config(built_copy), "dev")
    assert find_product(catalog, "orders.order_facts")["publish"] == {
        "status": "published", "share": "ORDERS_ORDER_FACTS", "listing": "not listed"}
    assert find_product(catalog, "finance.revenue_reporting")["publish"] == {"status": "not published"}
    state.write_text("{not json")
    with pytest.raises(MeshError, match=r"publish\.json: cannot read the publish state"):
        build_catalog(load_config(built_copy), "dev")


def test_failed_build_and_source_freshness_reach_the_catalogue(built_copy: Path) -> None:
    customers = built_copy / "domains/customers"
    (customers / "tests").mkdir(exist_ok=True)
    (customers / "tests/assert_no_regions.sql").write_text("select * from {{ ref('dim_regions') }}\n")
    assert not run_build(built_copy, "customers").ok
    # `mesh build` ran `dbt source freshness` after the orders domain built (its sources declare freshness)
    catalog = build_catalog(load_config(built_copy), "dev")
    customers_build = find_product(catalog, "customers.customer_master")["build"]
    assert customers_build["status"] == "failed"
    assert [(t["test"], t["model"], t["status"]) for t in customers_build["failing_tests"]] == [
        ("assert_no_regions", "customers.dim_regions", "fail")]
    # the failed build is kept in the history, marked failed, after the successful one of the session
    health = find_product(catalog, "customers.customer_master")["health"]["builds"]
    assert [(b["status"], b["built"], b["tests"].get("fail")) for b in health] == [
        ("success", True, None), ("failed", True, 1)]
    kept = kept_files(built_copy / ".mesh/state/dev/customers" / RUN_HISTORY)
    record = json.loads(gzip.decompress(kept[-1].read_bytes()))["mesh_build"]
    assert record["outcome"] == "failed" and "test.customers.assert_no_regions" in record["tests"]
    # one health signal: failing, the failed build with its time and reason, the last success still known: the
    # session's build, before the failed one (whose models built, but a test of the product failed)
    assert customers_build["health"]["status"] == "failing"
    assert customers_build["health"]["tests"]["failed"] == 1
    assert customers_build["reason"] == "1 test failed: assert_no_regions on customers.dim_regions"
    assert customers_build["last_success"] == health[0]["at"]
    assert datetime.fromisoformat(customers_build["last_success"]) < datetime.fromisoformat(
        customers_build["finished_at"]).replace(microsecond=0)
    assert customers_build["freshness"]["last_built"] is not None   # never "never built" after a failure
    assert customers_build["freshness"]["status"] != "never built"
    runs = find_product(catalog, "customers.customer_master")["models"][1]["versions"][0]["runs"]
    assert len(runs) == 2 and all(r["status"] == "success" and r["seconds"] >= 0 for r in runs)
    # any dbt command rewrites target/ (`mesh governance --plan`, `dbt compile`, `dbt clean`): the health reads
    # the history, never target/
    shutil.rmtree(customers / "target")
    shutil.rmtree(built_copy / "domains/orders/target")
    later = build_catalog(load_config(built_copy), "dev")
    after = find_product(later, "customers.customer_master")
    assert (after["build"]["status"], after["build"]["health"]["status"]) == ("failed", "failing")
    assert after["build"]["reason"] == customers_build["reason"]
    # four failures, then a success: each counted, each failure drawn as failed
    failed, success = kept[-1], kept[0]
    for minute, source in enumerate((failed, failed, failed, success), start=1):
        run = json.loads(gzip.decompress(source.read_bytes()))
        run["metadata"]["generated_at"] = f"2030-01-01T00:0{minute}:00Z"
        (source.parent / f"2030010100{minute:02d}00Z.json.gz").write_bytes(gzip.compress(json.dumps(run).encode()))
    product = find_product(build_catalog(load_config(built_copy), "dev"), "customers.customer_master")
    assert [b["status"] for b in product["health"]["builds"]] == ["success", *["failed"] * 4, "success"]
    assert product["health"]["summary"].startswith("2 of 6 recorded builds succeeded")
    assert (product["build"]["health"]["status"], product["build"]["last_success"]) == (
        "healthy", "2030-01-01T00:04:00+00:00")
    svg = render_health_svg(product["health"]["builds"], 24)
    assert svg.count('<g class="run failed"') == 4 and svg.count('class="sla no-build"') == 4
    sources = find_product(later, "orders.order_facts")["build"]["sources"]   # as the state folder saved them
    assert [s["source"] for s in sources] == ["order_stream.order_events"]
    newest = max(json.loads(line)["RECORD_METADATA"]["CreateTime"]
                 for path in (built_copy / "domains/orders/landing/order_events").glob("*.gz")
                 for line in gzip.decompress(path.read_bytes()).splitlines())
    assert sources[0]["status"] in ("pass", "warn") and sources[0]["max_loaded_at"].startswith(
        datetime.fromtimestamp(newest / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S"))


def _build_entry(**changes: object) -> dict:
    entry = {"status": "success", "reason": None, "last_success": "2026-12-01T10:00:00+00:00",
             "tests": {"pass": 8}, "sources": [],
             "freshness": {"status": "fresh", "sla_hours": 24, "age_hours": 2.0, "sources": None}}
    return {**entry, **changes}


@pytest.mark.parametrize(("build", "status", "reasons"), [
    (_build_entry(), "healthy", []),
    (_build_entry(tests={"pass": 8, "skipped": 9}), "warning", ["9 tests skipped"]),
    (_build_entry(tests={"pass": 8, "warn": 1}), "warning", ["1 test warned"]),
    (_build_entry(sources=[{"source": "crm.customers", "status": "warn"}],
                  freshness={"status": "fresh", "sla_hours": 24, "age_hours": 2.0, "sources": "warn"}),
     "warning", ["source past its freshness warning age: crm.customers"]),
    (_build_entry(sources=[{"source": "crm.customers", "status": "error"}],
                  freshness={"status": "fresh", "sla_hours": 24, "age_hours": 2.0, "sources": "error"}),
     "failing", ["source past its freshness error age: crm.customers"]),
    (_build_entry(freshness={"status": "stale", "sla_hours": 24, "age_hours": 30.0, "sources": None}),
     "failing", ["SLA missed: last built 30.0 h ago, SLA 24 h"]),
    (_build_entry(status="failed", reason="model orders.fct_orders error: boom", tests={"pass": 8, "fail": 1}),
     "failing", ["last build failed (model orders.fct_orders error: boom)"]),
    (_build_entry(tests={"pass": 8, "error": 2}), "failing", ["2 tests failed"]),
    (_build_entry(status="never built", last_success=None, tests={}), "never built",
     ["no build of its models is recorded"]),
])
def test_health_rolls_build_tests_sources_and_sla_into_one_signal(build: dict, status: str,
                                                                 reasons: list[str]) -> None:
    health = rollup(build)
    assert (health["status"], health["reasons"]) == (status, reasons)


def test_a_late_source_turns_the_fresh_badge_and_the_health(built_mesh: tuple[Path, BuildReport],
                                                            catalog: Catalog) -> None:
    late = copy.deepcopy(catalog)
    product = find_product(late, "orders.order_facts")
    build = product["build"]
    build["sources"] = [{**build["sources"][0], "status": "warn"}]
    build["freshness"] = {**build["freshness"], "status": "fresh", "sources": "warn"}
    build["health"] = rollup(build)
    page = render_site(load_config(built_mesh[0]), late)["products/orders.order_facts.html"]
    header = page.split('id="health-now"')[0]
    assert "fresh-fresh" not in header and ">source late</span>" in header
    assert 'class="badge health health-warning"' in header


@pytest.mark.parametrize(("products", "message"), [
    ([{"name": "x", "models": ["stg_customers"]}], "lists model 'stg_customers', which is not a public model"),
    ([{"name": "x", "models": []}], "`models` must list at least one public model"),
    ([{"name": "Bad Name", "models": ["dim_regions"]}], "must be lower-case letters"),
    ([{"name": "x", "models": ["dim_regions"]}, {"name": "x", "models": ["dim_regions"]}], "used twice"),
    ([{"name": "x", "models": ["dim_regions"], "sla": {"freshness_hours": -1}}], "`sla` must be a mapping"),
    ([{"name": "x", "models": ["dim_regions"], "sla": {"freshness_column": "region"}}],
     "`sla.freshness_column` must name the timestamp column .* beside `freshness_hours`, got 'region'"),
    ([{"name": "x", "models": ["dim_regions"], "sla": {"freshness_hours": 24, "freshness_column": ["a"]}}],
     "`sla.freshness_column` must name the timestamp column"),
    ([{"name": "x", "models": ["dim_regions"], "consumers": {"domains": ["marketing"]}}],
     "consumer domain 'marketing' is not another domain"),
    ([{"name": "x", "models": ["dim_regions"], "consumers": {"accounts": "acme"}}], "must be a list of names"),
    (["just a name"], "products\\[0\\] of customers: each product must be a mapping"),
])
def test_bad_products_are_one_line_errors_naming_the_file(mesh_copy: Path, products: list, message: str) -> None:
    path = mesh_copy / "domains/customers/domain.yml"
    data = yaml.safe_load(path.read_text())
    data["products"] = products
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(MeshError, match=message) as caught:
        product_specs(load_domain(path.parent), {"dim_customers", "dim_regions"}, {"customers", "orders", "finance"})
    assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value)


def test_snowflake_descriptions_come_from_the_catalogue_entry(catalog: Catalog) -> None:
    product = find_product(catalog, "customers.customer_master")
    assert share_comment(product) == (f"{product['description']} Data product customers.customer_master, owned by "
                                      "Customer Data Team <customer-data@retail.example>.")


def test_site_has_index_pages_and_exports_and_refuses_a_foreign_folder(
        built_mesh: tuple[Path, BuildReport], catalog: Catalog, tmp_path: Path) -> None:
    root, _ = built_mesh
    out = tmp_path / "site"
    index = write_site(load_config(root), catalog, out)
    assert json.loads((out / "index.json").read_text())["products"] == json.loads(json.dumps(catalog.products))
    html = index.read_text()
    assert all(f'href="{p["url"]}"' in html for p in catalog.products) and "<svg class=\"lineage\"" in html
    assert "https://" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing fetched at view time
    page = (out / "products/customers.customer_master.html").read_text()
    assert 'class="node public focus" data-node="customers.dim_customers.v1"' in page
    assert 'href="../contracts/customers.dim_customers.v1.odcs.yaml"' in page
    assert (out / "contracts/customers.dim_customers.v1.odcs.yaml").is_file()
    assert (out / "products/orders.order_facts.odps.yaml").is_file()
    write_site(load_config(root), catalog, out)  # a previous catalogue is replaced
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(MeshError, match="is not empty and holds no catalogue"):
        write_site(load_config(root), catalog, foreign)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_cli_catalog_product_and_errors(built_mesh: tuple[Path, BuildReport], tmp_path: Path) -> None:
    root, _ = built_mesh
    result = run_cli(root, "catalog", "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    assert "catalogue of 3 data products" in result.output and "file://" in result.output
    shown = run_cli(root, "product", "orders.order_facts")
    assert shown.exit_code == 0 and "Order Operations Data Team" in shown.output and "fct_order_lines" in shown.output
    built = next(line for line in shown.output.splitlines() if line.startswith("last built"))
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC \((just now|\d+ \w+ ago)\)", built), built
    assert not re.search(r"\dT\d", built)   # no raw ISO time in the terminal
    as_json = json.loads(run_cli(root, "product", "orders.order_facts", "--format", "json").output)
    assert as_json["id"] == "orders.order_facts"
    assert json.loads(run_cli(root, "product", "orders.order_facts", "--json").output) == as_json   # the old flag
    # the one health signal, as the catalogue shows it; at 80 columns (the runner's width) nothing is cut
    health = as_json["build"]["health"]
    assert f"health: {health['status']}" in shown.output and health["status"] in ("healthy", "warning")
    assert as_json["owner"]["email"] in shown.output
    lines = shown.output.splitlines()
    for column in as_json["models"][0]["versions"][-1]["columns"]:
        assert any(line.startswith(f"  {column['name']}  ") for line in lines), column["name"]
    missing = run_cli(root, "product", "orders.nope")
    assert missing.exit_code == 2 and "no data product 'orders.nope'" in missing.output


# --- values for people, history and health ---------------------------------------------------------------------

NOW = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(("then", "age"), [
    (NOW - timedelta(seconds=20), "just now"), (NOW - timedelta(minutes=1), "1 min ago"),
    (NOW - timedelta(minutes=59), "59 min ago"), (NOW - timedelta(hours=2, minutes=10), "2 h ago"),
    (NOW - timedelta(hours=47), "47 h ago"), (NOW - timedelta(hours=48), "2 days ago"),
    (NOW - timedelta(days=45), "45 days ago"), (NOW - timedelta(days=61), "2 months ago"),
    (NOW - timedelta(days=800), "2 years ago"), (NOW + timedelta(days=211), "in 7 months"),
    (NOW + timedelta(days=1, hours=1), "in 25 h"), ("2026-12-01T13:21:49.303875+00:00", "2 h ago"),
    ("2026-12-01T13:21:49Z", "2 h ago"), ("2027-06-30", "in 7 months"),
])
def test_relative_ages(then: object, age: str) -> None:
    assert relative_age(then, NOW) == age


@pytest.mark.parametrize("bad", [None, "", "soon", "2026-13-45T00:00:00", 42, ["2026-12-01"]])
def test_relative_age_of_something_that_is_not_a_time_is_empty(bad: object) -> None:
    assert relative_age(bad, NOW) == ""


def test_times_read_as_dates_without_microseconds() -> None:
    assert local_time("2026-12-01T13:21:49.303875+00:00") == "1 Dec 2026, 13:21 UTC"
    assert local_time("2026-12-01T14:21:49+01:00") == "1 Dec 2026, 13:21 UTC"
    assert local_time("2027-06-30") == "30 Jun 2027"
    assert local_time(None) == "—" and local_time("not a time") == "not a time"
    html = str(when("2026-12-01T13:21:49.303875+00:00", NOW))
    assert html == ('<time datetime="2026-12-01T13:21:49+00:00" title="2026-12-01T13:21:49+00:00">1 Dec 2026, '
                    '13:21 UTC</time> <span class="age" data-since="2026-12-01T13:21:49+00:00">(2 h ago)</span>')
    assert str(when("<b>x</b>", NOW)) == "&lt;b&gt;x&lt;/b&gt;" and str(when(None, NOW)) == "—"


def test_lists_and_consumers_read_as_words() -> None:
    assert listing([]) == "none" and listing(None, "nobody") == "nobody"
    assert listing(["orders.fct_orders"]) == "orders.fct_orders"
    assert listing(["orders.fct_order_lines", "orders.fct_orders"]) == "orders.fct_order_lines and orders.fct_orders"
    assert listing(["a", None, "b", "c"]) == "a, b and c"
    consumers = {"domains": ["finance"], "accounts": [], "roles": ["FINANCE_DEPLOYER"]}
    assert consumers_text(consumers) == "domains finance; roles FINANCE_DEPLOYER"
    assert human(consumers) == "domains finance; roles FINANCE_DEPLOYER"
    assert consumers_text({"domains": [], "accounts": ["acme.fin"]}) == "Snowflake accounts acme.fin"
    assert consumers_text({"domains": [], "accounts": []}) == "none" and consumers_text(["x"]) == "x"
    assert human(None) == "—" and human(True) == "yes" and human({"a_b": [1, 2]}) == "a b 1 and 2"
    assert human("2026-12-01T13:21:49.303875+00:00") == "1 Dec 2026, 13:21 UTC"
    assert label("published_at") == "Published at" and label("share") == "Share"
    for value in (consumers, ["a", "b"], {"nested": {"x": None}}, None, {"k": ["a"]}):
        assert not any(literal in human(value) for literal in ("['", "{'", "None")), value


def _without_column(manifest: dict, unique_id: str, column: str, at: str) -> dict:
    changed = copy.deepcopy(manifest)
    del changed["nodes"][unique_id]["columns"][column]
    changed["metadata"]["generated_at"] = at
    return changed


def _state_manifest(root: Path, domain: str) -> dict:
    return load_manifest(root / ".mesh/state/dev" / domain / "manifest.json")


def test_history_classifies_a_breaking_change_and_the_consumers_it_hit(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    orders = _state_manifest(root, "orders")
    readers = {name: snapshot(name, _state_manifest(root, name), "test") for name in ("customers", "finance")}
    later = _without_column(orders, "model.orders.fct_orders", "order_total", "2026-12-02T08:00:00Z")
    states = [ContractState(datetime(2026, 12, 1, tzinfo=UTC), "build", orders),
              ContractState(datetime(2026, 12, 2, 8, tzinfo=UTC), "git 0123456789", later)]
    history = product_history(states, "orders", ["fct_orders", "fct_order_lines"], readers)
    [entry] = history["changes"]
    assert entry["breaking"] and entry["at"] == "2026-12-02T08:00:00+00:00" and entry["source"] == "git 0123456789"
    [change] = entry["changes"]
    assert (change["rule"], change["model"], change["column"], change["classification"]) == (
        "column-removed", "orders.fct_orders", "order_total", "breaking")
    assert change["reason"].startswith("column order_total was removed")
    assert change["hits"] == ["finance.int_order_revenue (unpinned; into int_order_revenue.revenue)"]
    assert history["states"] == 2 and history["first_recorded"] == "2026-12-01T00:00:00+00:00"
    # the same change to a model of another product is not this product's history
    assert product_history(states, "orders", ["fct_order_lines"], readers)["changes"] == []
    # the other way round a column is added: compatible, read by the same consumer
    [back] = product_history(states[::-1], "orders", ["fct_orders"], readers)["changes"]
    assert not back["breaking"] and back["changes"][0]["rule"] == "column-added"


def test_history_of_versions_and_deprecations(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    customers = _state_manifest(root, "customers")
    readers = {name: snapshot(name, _state_manifest(root, name), "test") for name in ("orders", "finance")}
    without_v1 = copy.deepcopy(customers)
    del without_v1["nodes"]["model.customers.dim_customers.v1"]
    states = [ContractState(datetime(2026, 12, 1, tzinfo=UTC), "build", customers),
              ContractState(datetime(2026, 12, 3, tzinfo=UTC), "build", without_v1)]
    history = product_history(states, "customers", ["dim_customers", "dim_regions"], readers)
    [change] = history["changes"][0]["changes"]
    assert change["rule"] == "version-removed" and change["classification"] == "breaking"
    assert "before its deprecation date 2027-06-30" in change["reason"]
    assert change["hits"] == ["orders.fct_orders (pins v1, which is gone)"]
    versions = {v["id"]: v for v in history["versions"]}
    assert versions["customers.dim_customers.v1"] == {
        "id": "customers.dim_customers.v1", "model": "dim_customers", "version": "1",
        "first_seen": "2026-12-01T00:00:00+00:00", "last_seen": "2026-12-01T00:00:00+00:00",
        "deprecation_date": "2027-06-30", "status": "removed"}
    assert versions["customers.dim_customers.v2"]["status"] == "current"


def test_build_keeps_the_last_runs_and_each_distinct_contract(built_copy: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(built_copy)
    domain = load_domain(built_copy / "domains/orders")
    folder = built_copy / ".mesh/state/dev/orders"
    runs, contracts = folder / RUN_HISTORY, folder / CONTRACT_HISTORY
    assert len(kept_files(runs)) == 1 and len(kept_files(contracts)) == 1   # written by the session's mesh build
    save_build(config, "dev", domain, "same build again")
    assert len(kept_files(runs)) == 1 and len(kept_files(contracts)) == 1   # the same run, the same contract
    target = built_copy / "domains/orders/target"
    manifest, results = json.loads((target / "manifest.json").read_text()), json.loads(
        (target / "run_results.json").read_text())
    monkeypatch.setattr(state_module, "KEPT_RUNS", 2)
    for hour in (10, 11, 12):   # three later builds with the same contracts
        results["metadata"]["generated_at"] = manifest["metadata"]["generated_at"] = f"2030-01-01T{hour}:00:00Z"
        (target / "run_results.json").write_text(json.dumps(results))
        (target / "manifest.json").write_text(json.dumps(manifest))
        save_build(config, "dev", domain, "later")
    assert [p.name for p in kept_files(runs)] == ["20300101T110000Z.json.gz", "20300101T120000Z.json.gz"]
    assert len(kept_files(contracts)) == 1
    (target / "manifest.json").write_text(json.dumps(
        _without_column(manifest, "model.orders.fct_orders", "order_total", "2030-01-01T13:00:00Z")))
    git(built_copy, "init", "-q")   # built from a commit: the contract state kept says which
    git(built_copy, "commit", "-q", "--allow-empty", "-m", "order_total dropped")
    sha = git(built_copy, "rev-parse", "HEAD").strip()
    save_build(config, "dev", domain, "changed")   # ... and that the domain's files were not committed
    assert [p.name for p in kept_files(contracts)][-1] == "20300101T130000Z.json.gz"
    assert (contracts / "20300101T130000Z.commit").read_text() == f"{sha}\nuncommitted changes"
    product = find_product(build_catalog(load_config(built_copy), "dev"), "orders.order_facts")
    assert [c["rule"] for e in product["history"]["changes"] for c in e["changes"]] == ["column-removed"]
    [entry] = product["history"]["changes"]   # each change names the model, its version, and the commit
    assert (entry["models"], entry["commit"], entry["uncommitted"]) == (["orders.fct_orders"], sha[:10], True)
    assert [b["at"][:13] for b in product["health"]["builds"]] == ["2030-01-01T11", "2030-01-01T12"]
    assert product["health"]["builds"][-1]["hours_since_previous"] == 1.0
    # committed (build leftovers ignored, as `mesh init` writes .gitignore): the commit alone
    (built_copy / ".gitignore").write_text("target/\nlogs/\ndbt_packages/\npackage-lock.yml\n.mesh/\n")
    git(built_copy, "add", "-A")
    git(built_copy, "commit", "-q", "-m", "committed")
    clean = git(built_copy, "rev-parse", "HEAD").strip()
    (target / "manifest.json").write_text(json.dumps(_without_column(
        _without_column(manifest, "model.orders.fct_orders", "order_total", ""), "model.orders.fct_orders",
        "channel", "2030-01-01T14:00:00Z")))
    save_build(config, "dev", domain, "committed")
    assert (contracts / "20300101T140000Z.commit").read_text() == clean
    newest = find_product(build_catalog(load_config(built_copy), "dev"), "orders.order_facts")["history"]["changes"][0]
    assert (newest["commit"], newest["uncommitted"]) == (clean[:10], False)
    page = render_site(load_config(built_copy), build_catalog(load_config(built_copy), "dev"))[product["url"]]
    assert f"commit <code>{sha[:10]}</code> with uncommitted changes" in page
    assert f"commit <code>{clean[:10]}</code></p>" in page


def test_repository_history_of_a_committed_manifest(built_copy: Path) -> None:
    manifest_path = built_copy / ".mesh/state/dev/orders/manifest.json"
    original = json.loads(manifest_path.read_text())
    git(built_copy, "init", "-q")
    git(built_copy, "add", "-f", str(manifest_path))
    git(built_copy, "commit", "-q", "-m", "deployed")
    changed = _without_column(original, "model.orders.fct_orders", "channel", "2099-01-01T00:00:00Z")
    manifest_path.write_text(json.dumps(changed))
    git(built_copy, "commit", "-q", "-am", "channel dropped")
    sha = git(built_copy, "rev-parse", "HEAD").strip()
    states = contract_states(load_config(built_copy), "dev", "orders", changed)
    assert [s.source for s in states] == ["build", f"git {sha[:10]}"]
    product = find_product(build_catalog(load_config(built_copy), "dev"), "orders.order_facts")
    [entry] = product["history"]["changes"]
    assert entry["source"] == f"git {sha[:10]}" and entry["breaking"]
    assert entry["changes"][0]["reason"].startswith("column channel was removed")


@pytest.mark.parametrize(("content", "message"), [
    (b"not gzip at all", "cannot read this dbt run results file of the build history"),
    (gzip.compress(b"{broken json", mtime=0), "cannot read this dbt run results file of the build history"),
    (gzip.compress(b'{"metadata": {}}', mtime=0), r"not a dbt run results file \(no `results`\)"),
    (gzip.compress(b'{"results": 3}', mtime=0), "`results` is not a list"),
], ids=["not-gzip", "broken-json", "no-results", "results-not-a-list"])   # ids stable across xdist workers
def test_a_malformed_kept_run_is_one_error_naming_the_file(built_copy: Path, content: bytes, message: str) -> None:
    bad = built_copy / ".mesh/state/dev/orders" / RUN_HISTORY / "20300101T000000Z.json.gz"
    bad.write_bytes(content)
    with pytest.raises(MeshError, match=message) as error:
        build_catalog(load_config(built_copy), "dev")
    assert "20300101T000000Z.json.gz" in str(error.value) and "delete the file" in str(error.value)
    result = run_cli(built_copy, "catalog", "--out", str(built_copy / "site"))
    assert result.exit_code == 2 and "20300101T000000Z.json.gz" in result.output


def test_each_model_shows_its_seconds_and_rows_over_builds(built_mesh: tuple[Path, BuildReport],
                                                          catalog: Catalog) -> None:
    versions = {v["id"]: v for p in catalog.products for m in p["models"] for v in m["versions"]}
    regions = versions["customers.dim_regions"]["runs"][-1]
    # DuckDB's adapter reports no rows: mesh build counted the table after the build (one row per region)
    assert regions["status"] == "success" and regions["seconds"] > 0
    assert (regions["rows"], regions["rows_counted"]) == (4, True)
    # a governed model is a view over its protected table: its stored rows, not what a session without roles sees
    with duckdb.connect(str(built_mesh[0] / ".mesh/duckdb/finance.duckdb"), read_only=True) as db:
        stored = db.execute("select count(*) from mesh_protected.marts__revenue_by_region_month").fetchall()[0][0]
    assert versions["finance.revenue_by_region_month"]["runs"][-1]["rows"] == stored > 0
    page = render_site(load_config(built_mesh[0]), catalog)["products/customers.customer_master.html"]
    assert '<td data-label="rows">4</td>' in page and "counted in the\n        table after each build" in page


def test_row_counts_keep_the_newest_builds_and_a_broken_file_is_named(built_copy: Path, tmp_path: Path) -> None:
    for build in range(state_module.KEPT_RUNS + 2):
        record_row_counts(tmp_path, f"2030-01-01T00:00:{build:02d}Z", {"model.d.m": build})
    kept = recorded_row_counts(tmp_path)
    assert len(kept) == state_module.KEPT_RUNS and kept[max(kept)] == {"model.d.m": state_module.KEPT_RUNS + 1}
    assert "2030-01-01T00:00:00Z" not in kept   # the oldest go first
    bad = built_copy / ".mesh/state/dev/customers" / ROW_COUNTS
    bad.write_text("[1, 2]")
    result = run_cli(built_copy, "catalog", "--out", str(built_copy / "site"))
    assert result.exit_code == 2 and "history/rows.json" in result.output
    assert "not a file of row counts" in result.output
    record_row_counts(bad.parent.parent, "2030-01-01T00:00:00Z", {"model.customers.dim_regions": 4})
    assert recorded_row_counts(bad.parent.parent) == {"2030-01-01T00:00:00Z": {"model.customers.dim_regions": 4}}


def test_a_malformed_kept_manifest_is_one_error_naming_the_file(built_copy: Path) -> None:
    bad = built_copy / ".mesh/state/dev/customers" / CONTRACT_HISTORY / "20300101T000000Z.json.gz"
    bad.write_bytes(gzip.compress(b'{"metadata": {}}'))
    with pytest.raises(MeshError, match=r"20300101T000000Z\.json\.gz: not a dbt manifest \(no `nodes`\)"):
        build_catalog(load_config(built_copy), "dev")


def test_a_build_stopped_before_dbt_ran_is_kept_failed_with_its_reason(built_copy: Path) -> None:
    config = load_config(built_copy)
    before = find_product(build_catalog(config, "dev"), "finance.revenue_reporting")["build"]
    # what `mesh build` keeps when ingestion fails or the domain is refused: target/ holds an older build's results
    keep_failed_build(config, "dev", load_domain(built_copy / "domains/finance"), datetime.now(UTC),
                      "ingestion failed: no landing file")
    product = find_product(build_catalog(config, "dev"), "finance.revenue_reporting")
    build, last = product["build"], product["health"]["builds"][-1]
    assert (build["status"], build["reason"], build["health"]["status"]) == (
        "failed", "ingestion failed: no landing file", "failing")
    assert (last["status"], last["built"], last["reason"]) == ("failed", False, "ingestion failed: no landing file")
    assert build["last_success"] == before["finished_at"][:19] + "+00:00" == product["health"]["builds"][0]["at"]
    assert build["freshness"]["last_built"] == before["freshness"]["last_built"]   # its models' data is as it was


def test_without_run_results_the_health_says_so(built_copy: Path) -> None:
    shutil.rmtree(built_copy / ".mesh/state/dev/finance" / RUN_HISTORY)
    (built_copy / ".mesh/state/dev/finance/run_results.json").unlink()
    (built_copy / "domains/finance/target/run_results.json").unlink()
    product = find_product(build_catalog(load_config(built_copy), "dev"), "finance.revenue_reporting")
    assert product["health"] == {"builds": [], "summary": "No build of this product is recorded yet."}
    assert render_health_svg([], 24) == ""
    page = render_site(load_config(built_copy), build_catalog(load_config(built_copy), "dev"))[product["url"]]
    assert "No build of this product is recorded yet." in page and '<svg class="health"' not in page


def test_only_successful_builds_keep_the_sla() -> None:
    """A build whose tests failed delivered nothing consumers should read: it has no SLA timing, and the next
    successful build is timed from the last successful one."""
    model, test = "model.d.m", "test.d.t"
    tests = {test: {"attached_node": model}}

    def run(hour: int, test_status: str) -> BuildResults:
        return BuildResults("success", datetime(2026, 12, 1, hour, tzinfo=UTC),
                            {model: {"status": "success"}, test: {"status": test_status}})

    entries = product_health([run(0, "pass"), run(2, "fail"), run(5, "pass")], {model}, tests, sla_hours=4)
    assert [(e["status"], e["hours_since_previous"], e["within_sla"]) for e in entries] == [
        ("success", None, None), ("failed", None, None), ("success", 5.0, False)]
    assert health_summary(entries).endswith("rebuilt within the SLA 0 of 1 time.")


def test_health_chart_draws_each_build() -> None:
    builds = [{"at": "2026-12-01T10:00:00+00:00", "built": True, "status": "success", "tests": {"pass": 20},
               "hours_since_previous": None, "within_sla": None},
              {"at": "2026-12-02T12:00:00+00:00", "built": True, "status": "failed",
               "tests": {"fail": 1, "pass": 19}, "hours_since_previous": None, "within_sla": None,
               "commit": "0123456789", "uncommitted": True},
              {"at": "2026-12-02T13:00:00+00:00", "built": False, "status": "failed", "tests": {},
               "hours_since_previous": None, "within_sla": None, "reason": "ingestion failed: no file"},
              {"at": "2026-12-03T15:00:00+00:00", "built": True, "status": "success", "tests": {"pass": 20},
               "hours_since_previous": 53.0, "within_sla": False}]
    svg = render_health_svg(builds, 24)
    assert svg.count('<g class="run ') == 4 and svg.count('class="fail"') == 1 and svg.count("✕") == 1
    # a build failed on one test of twenty is drawn failed: its column outlined, its failed segment no thin cap,
    # its SLA square the failure's; the build that did not run says why
    assert svg.count('class="failed-run"') == 2 and svg.count('class="sla no-build"') == 2
    [fail_height] = re.findall(r'class="fail" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)
    assert float(fail_height) >= FAILED_AT_LEAST > BARS / 20
    assert "failed; models built; 1 fail and 19 pass; commit 0123456789 with uncommitted changes" in svg
    assert "models did not build (ingestion failed: no file)" in svg
    assert 'class="sla late"' in svg and "53.0 h after the previous successful build (SLA 24 h)" in svg
    assert "1 Dec 2026, 10:00 UTC → 3 Dec 2026, 15:00 UTC" in svg and 'viewBox="0 0 340 136"' in svg
    assert health_summary(builds) == ("2 of 4 recorded builds succeeded; every test passed in 2; "
                                      "rebuilt within the SLA 0 of 1 time.")
