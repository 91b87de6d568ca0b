"""The corpus of change scenarios for `mesh check`: each a small before/after pair on the example mesh.

The baseline is the example mesh as committed, parsed once; each scenario copies it, changes its YAML (as data,
so that unrelated edits of the example do not break the scenario), and runs the check against that baseline
with real `dbt parse`. Every rule is exercised in its breaking form and in a safe one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import copy_mesh

from mesh_cli.check.run import CheckOptions, CheckReport, run_check
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.graph import DomainGraph
from mesh_cli.dbt.parse import parse_domains

TODAY = date(2026, 11, 26)            # before v1's deprecation date (2027-06-30)
AFTER_DEPRECATION = date(2027, 7, 1)
CUSTOMERS = "domains/customers/models/marts/_marts.yml"
ORDERS = "domains/orders/models/marts/_marts.yml"
FINANCE = "domains/finance/models/marts/_marts.yml"


# --- editing the example mesh as data ------------------------------------------------------------------------

def edit(root: Path, relative: str, change: Callable[[Any], None]) -> None:
    path = root / relative
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def model(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in data["models"] if m["name"] == name)


def column(entry: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in entry["columns"] if c.get("name") == name)


def drop_column(entry: dict[str, Any], name: str) -> None:
    entry["columns"] = [c for c in entry["columns"] if c.get("name") != name]


def drop_bound_column(entry: dict[str, Any], name: str) -> None:
    """Drop a column and the row access binding that reads it (the build refuses a binding to a missing column,
    and so does `mesh check`: `governance-config`)."""
    drop_column(entry, name)
    meta = entry.get("config", {}).get("meta", {}).get("data_mesh", {})
    if name in (meta.get("row_access") or {}).get("columns", []):
        meta.pop("row_access")


def drop_tests(entry: dict[str, Any], test: str) -> None:
    entry["data_tests"] = [t for t in entry.get("data_tests", [])
                           if t != test and not (isinstance(t, dict) and test in t)]


def on_model(relative: str, name: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    return lambda root: edit(root, relative, lambda data: change(model(data, name)))


def on_column(relative: str, name: str, col: str,
              change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    return on_model(relative, name, lambda entry: change(column(entry, col)))


def replace_in(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new))
    return apply


def both(*edits: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        for change in edits:
            change(root)
    return apply


def set_mesh_rules(rules: dict[str, Any]) -> Callable[[Path], None]:
    return lambda root: edit(root, "mesh.yml", lambda data: data.setdefault("check", {}).update({"rules": rules}))


def add_version_3(latest: int | None, drop: str = "phone") -> Callable[[Path], None]:
    """customers.dim_customers gets a version 3 without `drop`; `latest` moves `latest_version`."""
    def change(entry: dict[str, Any]) -> None:
        entry["versions"] = [v for v in entry["versions"]]
        entry["versions"].append({"v": 3, "columns": [{"include": "all", "exclude": [drop]}]})
        if latest is not None:
            entry["latest_version"] = latest

    def apply(root: Path) -> None:
        sql = root / "domains/customers/models/marts"
        text = (sql / "dim_customers_v2.sql").read_text()
        (sql / "dim_customers_v3.sql").write_text(text.replace(f"    {drop},\n", ""))
        on_model(CUSTOMERS, "dim_customers", change)(root)
    return apply


def deprecate_v2(entry: dict[str, Any]) -> None:
    next(v for v in entry["versions"] if v["v"] == 2)["deprecation_date"] = "2027-12-31"


def remove_v1(root: Path) -> None:
    (root / "domains/customers/models/marts/dim_customers_v1.sql").unlink()
    on_model(CUSTOMERS, "dim_customers",
             lambda entry: entry.update(versions=[v for v in entry["versions"] if v["v"] != 1]))(root)


migrate_orders_to_v2 = both(
    replace_in("domains/orders/models/marts/fct_orders.sql", "v=1", "v=2"),
    replace_in(ORDERS, "v=1", "v=2"),
)
pin_finance_to_v2 = both(
    replace_in("domains/finance/models/intermediate/int_order_revenue.sql",
               "ref('customers', 'dim_customers')", "ref('customers', 'dim_customers', v=2)"),
    replace_in(FINANCE, "ref('customers', 'dim_customers')", "ref('customers', 'dim_customers', v=2)"),
    replace_in("domains/finance/models/marts/customer_scoring.py",   # the Snowpark model refs it too
               'dbt.ref("customers", "dim_customers")', 'dbt.ref("customers", "dim_customers", v=2)'),
)


def add_public_model(root: Path) -> None:
    (root / "domains/customers/models/marts/dim_countries.sql").write_text(
        "select distinct cast(country as varchar) as country from {{ ref('stg_customers') }}\n")
    edit(root, CUSTOMERS, lambda data: data["models"].append({
        "name": "dim_countries", "description": "Countries with customers.",
        "config": {"access": "public", "contract": {"enforced": True}},
        "columns": [{"name": "country", "description": "ISO country code.", "data_type": "varchar"}]}))


def remove_model(root: Path) -> None:
    (root / "domains/customers/models/marts/dim_regions.sql").unlink()
    edit(root, CUSTOMERS, lambda data: data.update(models=[m for m in data["models"] if m["name"] != "dim_regions"]))


def share_model(name: str) -> Callable[[Path], None]:
    return lambda root: edit(root, "domains/customers/domain.yml",
                             lambda data: data["products"][0]["models"].append(name))


def tag_region_name(masked: bool) -> Callable[[Path], None]:
    block: dict[str, Any] = {"tags": {"pii": "name"}}
    if masked:
        block["masking"] = "mask_full"
    return on_column(CUSTOMERS, "dim_regions", "region_name",
                     lambda c: c.setdefault("config", {}).setdefault("meta", {}).update(data_mesh=block))


def without_groups(root: Path) -> None:
    """customers as a domain that never set groups (so no owners); its staging models protected, not private,
    since private needs a group."""
    def change(project: dict[str, Any]) -> None:
        project["models"]["customers"].pop("+group")
        project["models"]["customers"]["staging"]["+access"] = "protected"
    edit(root, "domains/customers/dbt_project.yml", change)


# --- the corpus ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    id: str
    change: Callable[[Path], None]
    exit_code: int
    expect: set[tuple[str, str]] = field(default_factory=set)      # (rule, severity) that must be reported
    absent: set[str] = field(default_factory=set)                  # rules that must not be reported
    today: date = TODAY
    hits: dict[str, set[str]] = field(default_factory=dict)        # rule -> consumer domains it must name


def _nothing(root: Path) -> None:
    pass


SCENARIOS = [
    Scenario("unchanged mesh passes", _nothing, 0, {("no-deprecated-ref", "warning")},
             {"column-removed", "ref-past-deprecation", "parse-failed"}),
    # columns
    Scenario("column removed", on_model(CUSTOMERS, "dim_regions", lambda m: drop_column(m, "region_name")), 1,
             {("column-removed", "error")}),
    Scenario("column added", both(on_model(CUSTOMERS, "dim_regions", lambda m: m["columns"].append(
        {"name": "region_rank", "description": "Rank by customers.", "data_type": "integer"}))), 0,
        {("column-added", "info")}, {"column-removed"}),
    Scenario("column renamed", on_column(CUSTOMERS, "dim_regions", "customer_count",
                                         lambda c: c.update(name="n_customers")), 1,
             {("column-removed", "error"), ("column-added", "info")}),
    # data types
    Scenario("type changed", on_column(CUSTOMERS, "dim_regions", "customer_count",
                                       lambda c: c.update(data_type="varchar")), 1, {("type-changed", "error")}),
    Scenario("type respelled: varchar as character varying and string, integer as number(38,0)",
             both(on_column(CUSTOMERS, "dim_regions", "region", lambda c: c.update(data_type="character varying")),
                  on_column(CUSTOMERS, "dim_regions", "region_name", lambda c: c.update(data_type="string")),
                  on_column(CUSTOMERS, "dim_regions", "customer_count", lambda c: c.update(data_type="number(38,0)"))),
             0, set(), {"type-changed", "type-narrowed", "type-widened"}),
    Scenario("precision widened", on_column(ORDERS, "fct_orders", "order_total",
                                            lambda c: c.update(data_type="decimal(18,2)")), 0,
             {("type-widened", "info")}, {"type-narrowed", "type-changed"}),
    Scenario("precision narrowed", on_column(FINANCE, "revenue_by_region_month", "revenue",
                                             lambda c: c.update(data_type="decimal(10,2)")), 1,
             {("type-narrowed", "error")}),
    Scenario("string length narrowed", on_column(CUSTOMERS, "dim_regions", "region",
                                                 lambda c: c.update(data_type="varchar(3)")), 1,
             {("type-narrowed", "error")}),
    # nullability and constraints
    Scenario("not_null constraint and test removed", on_column(
        ORDERS, "fct_orders", "order_date", lambda c: (c.pop("constraints"), drop_tests(c, "not_null"))), 1,
        {("nullability-loosened", "error")}),
    Scenario("not_null test removed", on_column(CUSTOMERS, "dim_regions", "region_name",
                                                lambda c: drop_tests(c, "not_null")), 1,
             {("nullability-loosened", "error")}),
    Scenario("not_null constraint dropped while the test stays", on_column(
        CUSTOMERS, "dim_regions", "region", lambda c: c.pop("constraints")), 0, set(), {"nullability-loosened"}),
    Scenario("not_null added", on_column(CUSTOMERS, "dim_customers", "phone",
                                         lambda c: c.update(constraints=[{"type": "not_null"}])), 0,
             {("nullability-tightened", "info")}),
    Scenario("unique test removed", on_column(CUSTOMERS, "dim_regions", "region",
                                              lambda c: drop_tests(c, "unique")), 1,
             {("constraint-removed", "error")}),
    Scenario("accepted value added", on_column(CUSTOMERS, "dim_regions", "region", lambda c: next(
        t for t in c["data_tests"] if isinstance(t, dict))["accepted_values"]["arguments"]["values"].append("MARS")),
        1, {("constraint-removed", "error")}),
    Scenario("accepted value removed (tightened)", on_column(CUSTOMERS, "dim_regions", "region", lambda c: next(
        t for t in c["data_tests"] if isinstance(t, dict))["accepted_values"]["arguments"]["values"].remove("LATAM")),
        0, {("constraint-added", "info")}, {"constraint-removed"}),
    Scenario("check constraint added", on_column(CUSTOMERS, "dim_regions", "customer_count", lambda c: c.update(
        constraints=[{"type": "check", "expression": "customer_count >= 0"}])), 0, {("constraint-added", "info")}),
    # models
    Scenario("model removed", remove_model, 1, {("model-removed", "error")}),
    Scenario("model added", add_public_model, 0, {("model-added", "info")}),
    Scenario("model disabled", on_model(CUSTOMERS, "dim_regions", lambda m: m["config"].update(enabled=False)), 1,
             {("model-disabled", "error")}),
    Scenario("model made protected", on_model(CUSTOMERS, "dim_regions",
                                              lambda m: m["config"].update(access="protected")), 1,
             {("access-narrowed", "error")}),
    Scenario("contract no longer enforced", on_model(CUSTOMERS, "dim_regions",
                                                     lambda m: m["config"].update(contract={"enforced": False})),
             1, {("contract-unenforced", "error"), ("public-contract-enforced", "error")}),
    # versions
    Scenario("done when: a column of customers.dim_customers removed in place", on_model(
        CUSTOMERS, "dim_customers", lambda m: drop_bound_column(m, "region")), 1, {("column-removed", "error")},
        hits={"column-removed": {"orders", "finance"}}),
    Scenario("done when: the change as a new version 3 instead, v2 deprecated later", both(
        add_version_3(latest=None), on_model(CUSTOMERS, "dim_customers", deprecate_v2)), 0,
        {("version-added", "info"), ("deprecation-date-changed", "info"), ("consumer-notice", "info")},
        {"column-removed", "latest-version-moved"}),
    Scenario("version removed before its deprecation date", remove_v1, 1,
             {("version-removed", "error"), ("parse-failed", "error")}, hits={"version-removed": {"orders"}}),
    Scenario("version removed after its deprecation date, no consumer left", both(remove_v1, migrate_orders_to_v2),
             0, {("version-removed", "info")}, {"parse-failed", "ref-past-deprecation"}, today=AFTER_DEPRECATION),
    Scenario("version removed after its deprecation date, still referenced", remove_v1, 1,
             {("version-removed", "error")}, today=AFTER_DEPRECATION, hits={"version-removed": {"orders"}}),
    Scenario("latest version moved to an incompatible version, unpinned consumer", add_version_3(latest=3), 1,
             {("latest-version-moved", "error")}, hits={"latest-version-moved": {"finance"}}),
    Scenario("latest version moved, every consumer pinned", both(add_version_3(latest=3), pin_finance_to_v2), 0,
             {("latest-version-moved", "warning")}),
    Scenario("latest version moved to a compatible version", add_version_3(latest=3, drop="nothing_to_drop"), 0,
             {("latest-version-moved", "info")}),
    # consumers
    Scenario("consumer on a version past its deprecation date", _nothing, 0,
             {("ref-past-deprecation", "warning")}, {"no-deprecated-ref"}, today=AFTER_DEPRECATION),
    Scenario("consumer past deprecation, rule made an error", set_mesh_rules({"ref-past-deprecation": "error"}), 1,
             {("ref-past-deprecation", "error")}, today=AFTER_DEPRECATION),
    Scenario("consumer migrated off the deprecated version", migrate_orders_to_v2, 0, set(),
             {"no-deprecated-ref", "ref-past-deprecation"}),
    # governance
    Scenario("public model without description", on_model(CUSTOMERS, "dim_regions",
                                                          lambda m: m.update(description="")), 1,
             {("public-description", "error")}),
    Scenario("public models without a group", without_groups, 1, {("public-owner", "error")}),
    Scenario("column without description", on_column(CUSTOMERS, "dim_regions", "region_name",
                                                     lambda c: c.pop("description")), 1,
             {("public-columns-documented", "error")}),
    Scenario("sensitive column without masking", tag_region_name(masked=False), 1, {("sensitive-masked", "error")}),
    Scenario("sensitive column with masking", tag_region_name(masked=True), 0, set(), {"sensitive-masked"}),
    Scenario("sensitive column masked through its tag", both(
        tag_region_name(masked=False), set_mesh_rules({"sensitive-masked": {"masked_tags": ["pii"]}})), 0,
        set(), {"sensitive-masked"}),
    Scenario("product shares a private model", share_model("stg_customers"), 1, {("shared-public", "error")}),
    Scenario("product shares a model that does not exist", share_model("dim_nothing"), 1,
             {("shared-public", "error")}),
    Scenario("schema breaks the naming rule", set_mesh_rules({"naming": {"schema": "^(mart|staging)$"}}), 1,
             {("naming", "error")}),
    Scenario("domain name breaks the naming rule", set_mesh_rules({"naming": {"domain": "^(customers|orders)$"}}),
             1, {("naming", "error")}),
    Scenario("names follow a stricter rule", set_mesh_rules({"naming": {"schema": "^(marts|staging)$"}}), 0,
             set(), {"naming"}),
    Scenario("a breaking rule switched off", both(
        on_model(CUSTOMERS, "dim_regions", lambda m: drop_column(m, "region_name")),
        set_mesh_rules({"column-removed": "off"})), 0, set(), {"column-removed"}),
]


@pytest.fixture(scope="module")
def baseline_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example mesh as it is, parsed: the deployed state every scenario is compared with."""
    root = copy_mesh(tmp_path_factory.mktemp("baseline") / "mesh")
    config = load_config(root)
    domains = discover_domains(config)
    state = tmp_path_factory.mktemp("baseline-state")
    parse_domains(config, [domains[n] for n in DomainGraph(domains).order(domains)], "dev", state_dir=state)
    return state / "state" / "dev"


def check(root: Path, baseline: Path, today: date = TODAY) -> CheckReport:
    return run_check(load_config(root), CheckOptions(baseline_dir=baseline, today=today))


def test_corpus_covers_every_rule_both_ways() -> None:
    assert len(SCENARIOS) >= 25
    assert len({s.id for s in SCENARIOS}) == len(SCENARIOS)
    assert {0, 1} == {s.exit_code for s in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_scenario(scenario: Scenario, baseline_dir: Path, tmp_path: Path) -> None:
    root = copy_mesh(tmp_path / "mesh")
    scenario.change(root)
    report = check(root, baseline_dir, scenario.today)
    found = {(f.rule, f.severity) for f in report.findings}
    described = "\n".join(f"{f.severity} {f.rule} {f.model} {f.column}: {f.message}" for f in report.findings)
    assert scenario.expect <= found, described
    assert not scenario.absent & {rule for rule, _ in found}, described
    assert report.exit_code == scenario.exit_code, described
    for rule, domains in scenario.hits.items():
        hit = {h.domain for f in report.findings if f.rule == rule for h in f.hits}
        assert domains <= hit, described
