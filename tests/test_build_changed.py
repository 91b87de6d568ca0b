"""`mesh build --changed` inside a domain (dbt's state:modified+), and the critical path of the build summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import run_build, run_cli

from mesh_cli.build.run import FAILED, SKIPPED, SUCCESS, BuildReport, DomainResult, changed_selection, critical_path
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import Domain, discover_domains
from mesh_cli.core.state import fingerprint, saved_fingerprint


def _ran(root: Path, domain: str) -> set[str]:
    """The nodes of the domain's last build (its saved run results)."""
    results = json.loads((root / ".mesh/state/dev" / domain / "run_results.json").read_text())["results"]
    return {result["unique_id"].split(".")[2] for result in results if result["unique_id"].startswith("model.")}


def test_changed_builds_only_modified_models_and_what_reads_them(built_copy: Path) -> None:
    model = built_copy / "domains/orders/models/marts/fct_order_lines.sql"
    model.write_text(model.read_text() + "\n-- reviewed\n")
    report = run_build(built_copy, changed=True)
    assert [(r.domain, r.status) for r in report.results] == [("orders", SUCCESS), ("finance", SUCCESS)]
    assert _ran(built_copy, "orders") == {"fct_order_lines"}
    # finance rebuilds what reads orders (and its children), not its own staging of revenue targets
    assert _ran(built_copy, "finance") == {"int_order_revenue", "revenue_by_region_month", "customer_revenue",
                                           "customer_scoring"}
    orders = report.results[0]
    assert orders.count("model") == 1 and orders.count("test", "pass") > 0 and orders.count("seed") == 0


def test_changed_without_a_saved_manifest_builds_the_whole_domain(built_copy: Path) -> None:
    shutil.rmtree(built_copy / ".mesh/state/dev/finance")
    shutil.rmtree(built_copy / ".mesh/store/dev/finance")   # its deployed record too, else it is pulled back
    report = run_build(built_copy, changed=True)
    [finance] = report.results
    assert finance.domain == "finance" and finance.status == SUCCESS
    # the whole project, the governance package's entitlements model included
    assert _ran(built_copy, "finance") == {"stg_revenue_targets", "int_order_revenue",
                                           "revenue_by_region_month", "customer_revenue", "customer_scoring",
                                           "mesh_entitlements"}
    assert finance.count("seed", "success") == 1


def test_changed_seed_rebuilds_its_children(built_copy: Path) -> None:
    seed = built_copy / "domains/finance/seeds/revenue_targets.csv"
    seed.write_text(seed.read_text())  # same bytes: not a change
    assert run_build(built_copy, changed=True).results == []
    seed.write_text(seed.read_text().replace("18000.00", "18500.00", 1))
    [finance] = run_build(built_copy, changed=True).results
    assert finance.status == SUCCESS and finance.count("seed", "success") == 1
    assert _ran(built_copy, "finance") == {"stg_revenue_targets", "revenue_by_region_month"}


def test_a_domain_that_failed_is_retried_in_full_after_the_fix(built_copy: Path) -> None:
    model = built_copy / "domains/orders/models/marts/fct_orders.sql"
    good = model.read_text()
    model.write_text(good.replace("orders.channel,", "orders.no_such_column,"))
    report = run_build(built_copy, changed=True)
    assert [(r.domain, r.status) for r in report.results] == [("orders", FAILED), ("finance", SKIPPED)]
    model.write_text(good + "\n-- fixed\n")
    report = run_build(built_copy, changed=True)
    assert [(r.domain, r.status) for r in report.results] == [("orders", SUCCESS), ("finance", SUCCESS)]
    assert _ran(built_copy, "orders") == {"fct_orders"}


def _domain(name: str, *upstreams: str) -> Domain:
    return Domain(name, Path(name), upstreams, name, ())


def test_critical_path_follows_the_slowest_chain_of_dependencies() -> None:
    domains = {d.name: d for d in (_domain("a"), _domain("b"), _domain("c", "a"), _domain("d", "b", "c"),
                                   _domain("e", "a"))}
    results = [DomainResult("a", SUCCESS, 1.0), DomainResult("b", SUCCESS, 5.0), DomainResult("c", SUCCESS, 1.0),
               DomainResult("d", SUCCESS, 2.0), DomainResult("e", SUCCESS, 6.5)]
    assert critical_path(results, domains) == ["a", "e"]  # 7.5 s, against b → d at 7.0 s
    results[4] = DomainResult("e", SKIPPED, reason="upstream a failed")
    assert critical_path(results, domains) == ["b", "d"]
    assert critical_path([], domains) == []


def test_build_report_and_cli_show_the_critical_path(built_mesh: tuple[Path, BuildReport], built_copy: Path) -> None:
    _, report = built_mesh
    assert report.critical_path == ["customers", "orders", "finance"]
    assert report.critical_seconds == sum(r.seconds for r in report.results)
    result = run_cli(built_copy, "build", "finance", "--json")
    assert json.loads(result.stdout)["critical_path"]["domains"] == ["finance"]
    result = run_cli(built_copy, "build", "orders")
    assert "critical path: orders, " in result.stdout


def test_an_entitlement_withdrawn_in_governance_yml_rebuilds_every_domain(built_copy: Path) -> None:
    """governance.yml decides who reads what in every domain (its policies and entitlements): an edit is a change
    of every domain, and each rebuilds whole (no model's own code changed, so dbt's `state:modified` would select
    none), so the analyst whose region moved no longer reads the withdrawn one (issue 26: it read 708 rows)."""
    query = ("query", "customers", "select count(*) as n from marts.dim_customers_v2 where region = 'EMEA'",
             "--role", "EMEA_ANALYST", "--json")
    assert json.loads(run_cli(built_copy, *query).output)["rows"] == [{"n": 708}]
    library = built_copy / "governance.yml"
    library.write_text(library.read_text().replace("{role: EMEA_ANALYST, dimension: region, values: [EMEA]}",
                                                   "{role: EMEA_ANALYST, dimension: region, values: [NA]}"))
    report = run_build(built_copy, changed=True)
    assert [r.domain for r in report.results] == ["customers", "orders", "finance"]
    assert all(r.status == SUCCESS for r in report.results) and report.unchanged == []
    assert "mesh_entitlements" in _ran(built_copy, "customers")
    rows = run_cli(built_copy, *query)
    assert rows.exit_code == 0 and json.loads(rows.output)["rows"] == [{"n": 0}]


def test_what_decides_access_rebuilds_a_domain_whole_under_changed(built_copy: Path) -> None:
    """Who reads a domain's models is decided beside their code too: its products' consumers (domain.yml) and the
    mesh's `snowflake:` settings. An outside account added to customer_master makes its models carry the share-safe
    policy variants though no model changed, so `--changed` selects customers and builds it whole (then publishes);
    an edit of the domain's description selects it with dbt's `state:modified+` only; a share setting in mesh.yml
    changes every domain."""
    config = load_config(built_copy)
    domains = discover_domains(config)
    assert {name for name in domains if fingerprint(config, domains[name]) != saved_fingerprint(config, "dev", name)} \
        == set()
    products = built_copy / "domains/customers/domain.yml"
    original = products.read_text()
    products.write_text(original.replace("Customer master data of", "Master data of"))
    described = discover_domains(config)["customers"]
    assert fingerprint(config, described) != saved_fingerprint(config, "dev", "customers")
    assert changed_selection(config, "dev", described, True, [])[:2] == ["--select", "state:modified+"]
    products.write_text(original.replace("accounts: []", "accounts: [ACME.PARTNER]"))
    shared = discover_domains(config)["customers"]
    assert fingerprint(config, shared) != saved_fingerprint(config, "dev", "customers")
    assert changed_selection(config, "dev", shared, True, []) == []
    products.write_text(original)
    settings = built_copy / "mesh.yml"
    settings.write_text(settings.read_text() + "snowflake: {roles: {finance: FINANCE_READER}}\n")
    domains = discover_domains(config)
    assert all(fingerprint(config, domains[name]) != saved_fingerprint(config, "dev", name) for name in domains)
    assert all(changed_selection(config, "dev", domains[name], True, []) == [] for name in domains)
