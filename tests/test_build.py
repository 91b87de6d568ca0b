"""`mesh build` end to end: real dbt, real DuckDB files, the example mesh."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, run_build, run_cli
from rich.console import Console

from mesh_cli.build.run import BUILDING, FAILED, SKIPPED, SUCCESS, BuildOptions, BuildReport, DomainResult, build
from mesh_cli.commands import build as build_command
from mesh_cli.commands.build import Progress, outcomes_text
from mesh_cli.core.config import load_config
from mesh_cli.core.errors import MeshError

DBT = str(Path(sys.executable).with_name("dbt"))


def raw_customers() -> list[dict[str, str]]:
    """The customers domain's CRM exports (the CSV files `mesh ingest` lands)."""
    rows: list[dict[str, str]] = []
    for path in sorted((REPO / "domains/customers/landing/customers").glob("*.csv")):
        with path.open(newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def raw_order_events() -> list[dict[str, object]]:
    """The RECORD_CONTENT of every Kafka-shaped order event the orders domain lands."""
    return [json.loads(line)["RECORD_CONTENT"]
            for path in sorted((REPO / "domains/orders/landing/order_events").glob("*.ndjson.gz"))
            for line in gzip.decompress(path.read_bytes()).decode().splitlines()]


def expected_revenue_by_region() -> dict[str, Decimal]:
    """Revenue per customer region computed straight from the raw files, without dbt."""
    region = {int(row["customer_id"]): row["region"] for row in raw_customers()}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for order in raw_order_events():
        if order["status"] == "cancelled":
            continue
        for line in order["lines"]:  # type: ignore[attr-defined]
            totals[region[order["customer_id"]]] += Decimal(line["quantity"]) * Decimal(str(line["unit_price"]))
    return dict(totals)


def test_build_runs_every_domain_in_order(built_mesh: tuple[Path, BuildReport]) -> None:
    root, report = built_mesh
    assert [r.domain for r in report.results] == ["customers", "orders", "finance"]
    assert all(r.status == SUCCESS for r in report.results)
    assert all(r.count("model", "success") > 0 and r.count("test", "pass") > 0 for r in report.results)
    for domain in ("customers", "orders", "finance"):
        state = root / ".mesh" / "state" / "dev" / domain
        assert json.loads((state / "manifest.json").read_text())["metadata"]["project_name"] == domain
        assert (state / "run_results.json").is_file()
        assert (root / ".mesh" / "duckdb" / f"{domain}.duckdb").is_file()


def test_finance_rows_come_through_cross_domain_refs(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    with duckdb.connect(str(root / ".mesh/duckdb/finance.duckdb"), read_only=True) as connection:
        connection.execute("set variable mesh_roles = ['ALL_REGIONS']")
        revenue = dict(connection.execute(
            "select region, sum(revenue) from marts.revenue_by_region_month group by region").fetchall())
    assert revenue == expected_revenue_by_region()
    assert set(revenue) == {"EMEA", "NA", "APAC", "LATAM"}


def test_consumer_pinned_to_version_1_reads_version_1(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    manifest = json.loads((root / ".mesh/state/dev/orders/manifest.json").read_text())
    parents = manifest["nodes"]["model.orders.fct_orders"]["depends_on"]["nodes"]
    assert "model.customers.dim_customers.v1" in parents
    injected = manifest["nodes"]["model.customers.dim_customers.v1"]
    assert injected["deprecation_date"].startswith("2027-06-30")
    assert str(injected["latest_version"]) == "2"
    # only what orders refs is injected: not customers' other public models
    assert not [uid for uid in manifest["nodes"] if uid.startswith("model.customers.dim_regions")]


def test_plain_dbt_build_inside_a_domain(built_copy: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESH_")}
    domain = built_copy / "domains" / "orders"
    for command in (["deps"], ["build"]):
        done = subprocess.run([DBT, *command], cwd=domain, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-3000:]
    assert "Completed successfully" in done.stdout
    with duckdb.connect(str(built_copy / ".mesh/duckdb/orders.duckdb"), read_only=True) as connection:
        connection.execute("set variable mesh_roles = ['ALL_REGIONS']")
        assert connection.execute("select count(*) from marts.fct_orders").fetchone()[0] == 10_000


def test_a_build_leaves_dbt_artifacts_as_its_last_command_would(built_mesh: tuple[Path, BuildReport]) -> None:
    """A domain's commands share one parse and the worker writes dbt's artifacts (dbt/artifacts.py): the
    manifest as the build left it, the build's run results and the freshness check's results."""
    root, report = built_mesh
    target = root / "domains" / "customers" / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    models = [node for node in manifest["nodes"].values()
              if node["resource_type"] == "model" and node["package_name"] == "customers"]
    assert models and all(node["compiled_code"] for node in models)   # written after the run compiled them
    assert (target / "semantic_manifest.json").is_file()
    run_results = json.loads((target / "run_results.json").read_text())
    assert run_results["args"]["which"] == "build"
    assert run_results["metadata"]["invocation_id"] == manifest["metadata"]["invocation_id"]   # one invocation
    built = next(result for result in report.results if result.domain == "customers")
    ran = [result["unique_id"].split(".")[0] for result in run_results["results"]]
    assert (ran.count("model"), ran.count("test")) == (built.count("model"), built.count("test"))
    sources = json.loads((target / "sources.json").read_text())
    assert sources["results"] and {r["unique_id"].split(".")[1] for r in sources["results"]} == {"customers"}


def test_mesh_build_and_plain_dbt_share_the_partial_parse(built_copy: Path) -> None:
    """`mesh build` runs dbt as a plain `dbt build` in the domain would (same target arguments, same rendered
    connection), so switching between the two never costs a full parse."""
    assert run_build(built_copy, "orders").ok
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESH_")}
    done = subprocess.run([DBT, "parse", "--debug"], cwd=built_copy / "domains" / "orders", env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Unable to do partial parsing" not in done.stdout
    assert "skipping parsing" in done.stdout


def test_ref_to_a_private_model_fails_naming_both_domains(built_copy: Path) -> None:
    model = built_copy / "domains/orders/models/marts/fct_orders.sql"
    model.write_text(model.read_text().replace("ref('customers', 'dim_customers', v=1)",
                                               "ref('customers', 'stg_customers')"))
    before = (built_copy / ".mesh/state/dev/orders/manifest.json").read_bytes()
    with pytest.raises(MeshError, match=r"ref\('customers', 'stg_customers'\) in orders: customers.stg_customers is "
                                        "private to customers"):
        run_build(built_copy, "orders")   # refused before anything builds (build/validate.py)
    assert (built_copy / ".mesh/state/dev/orders/manifest.json").read_bytes() == before


def test_ref_to_a_missing_version_fails(built_copy: Path) -> None:
    model = built_copy / "domains/orders/models/marts/fct_orders.sql"
    model.write_text(model.read_text().replace("v=1", "v=3"))
    with pytest.raises(MeshError, match=r"customers.dim_customers has no version 3 \(versions: 1, 2\)"):
        run_build(built_copy, "orders")


def test_undeclared_domain_is_refused_before_anything_runs(built_copy: Path) -> None:
    (built_copy / "domains/finance/dependencies.yml").write_text("projects:\n  - name: orders\n")
    result = run_cli(built_copy, "build")
    assert result.exit_code == 2
    assert "ref('customers', 'dim_customers') in finance reaches domain customers" in result.stderr
    assert "add `- name: customers` under `projects:`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_upstream_manifest_says_what_to_build(mesh_copy: Path) -> None:
    [result] = run_build(mesh_copy, "orders").results
    assert result.status == FAILED
    assert "orders refs models of customers, but customers has no duckdb manifest" in result.reason
    assert "`mesh build -s +orders --target dev`" in result.reason


def test_plain_dbt_reports_the_resolver_error(built_copy: Path) -> None:
    (built_copy / "domains/orders/dependencies.yml").write_text("projects: []\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESH_")}
    domain = built_copy / "domains" / "orders"
    subprocess.run([DBT, "deps"], cwd=domain, env=env, capture_output=True, check=True)
    done = subprocess.run([DBT, "parse"], cwd=domain, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "orders reaches domain customers, which orders does not declare" in done.stdout


def test_plain_dbt_in_a_folder_of_links_to_the_domain_builds_it(built_copy: Path, tmp_path: Path) -> None:
    """Astronomer Cosmos's local mode runs each task's dbt in a temporary folder of links to the project's files,
    outside the mesh: the plugin finds the mesh through the links, so the cross-domain ref of fct_orders resolves
    and the models build again as `mesh build` built them."""
    domain = built_copy / "domains" / "orders"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MESH_")},
           "MESH_DUCKDB_DIR": str(built_copy / ".mesh/duckdb")}   # the profile's default is relative to the domain
    subprocess.run([DBT, "deps"], cwd=domain, env=env, capture_output=True, check=True)
    links = tmp_path / "links"
    links.mkdir()
    for child in domain.iterdir():   # what Cosmos links: all but dbt's own output and the profile
        if child.name not in ("target", "logs", "profiles.yml"):
            (links / child.name).symlink_to(child)
    database = str(built_copy / ".mesh/duckdb/orders.duckdb")
    with duckdb.connect(database) as con:
        built_rows = con.execute("select count(*) from marts.fct_order_lines").fetchone()
        con.execute("drop table marts.fct_order_lines")
        con.execute("drop view marts.fct_orders")
    done = subprocess.run([DBT, "run", "--select", "fct_orders", "fct_order_lines", "--project-dir", str(links),
                           "--profiles-dir", str(domain)], cwd=links, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(database, read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_order_lines").fetchone() == built_rows
        assert con.execute("select table_type from information_schema.tables where table_schema = 'marts' "
                           "and table_name = 'fct_orders'").fetchall() == [("VIEW",)]


def test_failed_domain_skips_its_downstream(built_copy: Path) -> None:
    failing = built_copy / "domains/customers/tests/assert_fails.sql"
    failing.parent.mkdir(exist_ok=True)
    failing.write_text("select 1 as broken")
    result = run_cli(built_copy, "build", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    status = {d["domain"]: (d["status"], d["reason"]) for d in report["domains"]}
    assert status["customers"][0] == FAILED
    assert status["orders"] == (SKIPPED, "upstream customers failed")
    assert status["finance"] == (SKIPPED, "upstream customers failed")
    [failure] = next(d["failures"] for d in report["domains"] if d["domain"] == "customers")
    assert failure.startswith("test.customers.assert_fails")
    # the reason says what failed and the first failure (dbt stopped on no error of its own)
    assert status["customers"][1] == f"1 test failed; first: {failure.splitlines()[0]}"


def test_selector_with_upstream_builds_only_the_chain(mesh_copy: Path) -> None:
    told: list[tuple[str, str, dict[str, int]]] = []
    report = build(load_config(mesh_copy), BuildOptions(selectors=("+orders",), jobs=2),
                   lambda event, name, result: told.append((event, name, dict(result.counts) if result else {})))
    assert [(r.domain, r.status) for r in report.results] == [("customers", SUCCESS), ("orders", SUCCESS)]
    assert not (mesh_copy / ".mesh/duckdb/finance.duckdb").exists()
    for result in report.results:   # dbt's nodes told as they finish, while the domain builds, counted as at its end
        events = [event for event, name, _ in told if name == result.domain]
        assert events.index(BUILDING) < events.index(SUCCESS), events
        while_building = [counts for event, name, counts in told if name == result.domain and event == BUILDING]
        assert [sum(c.values()) for c in while_building] == list(range(1, len(while_building) + 1))
        assert all(n <= result.counts.get(key, 0) for key, n in while_building[-1].items())
        assert while_building[0] != while_building[-1] and while_building[-1].get("model:success")


def test_changed_rebuilds_the_changed_domain_and_its_downstream(built_copy: Path) -> None:
    nothing = run_build(built_copy, changed=True)
    assert nothing.results == [] and nothing.unchanged == ["customers", "orders", "finance"]
    model = built_copy / "domains/orders/models/marts/fct_order_lines.sql"
    model.write_text(model.read_text() + "\n-- reviewed\n")
    report = run_build(built_copy, changed=True)
    assert [r.domain for r in report.results] == ["orders", "finance"]
    assert report.unchanged == ["customers"]
    assert run_build(built_copy, changed=True).results == []


def test_cli_summary_table(built_copy: Path) -> None:
    result = run_cli(built_copy, "build", "-s", "+finance", "--exclude", "+orders")   # dbt's flags: finance alone
    assert result.exit_code == 0, result.output
    assert "mesh build --target dev" in result.stdout
    assert "finance" in result.stdout and "success" in result.stdout and "customers" not in result.stdout
    assert "[1/1] success finance: " in result.stdout   # where the build stands, in words (no colour needed)
    assert "next: `mesh catalog --serve`" in result.stdout
    assert "RequestsDependencyWarning" not in result.output


def test_target_arguments_follow_the_profile(tmp_path: Path) -> None:
    """No `--target` when plain dbt picks the target by default, else `--target`, as plain dbt needs it."""
    from mesh_cli.core.domains import load_domain
    from mesh_cli.engines.registry import target_args

    project = tmp_path / "d"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: d\nversion: '1'\nprofile: d\n")
    for chosen, target, expected in (("{{ env_var('MESH_TARGET', 'dev') }}", "dev", ()),
                                     ("{{ env_var('MESH_TARGET', 'dev') }}", "prod", ("--target", "prod")),
                                     ("dev", "dev", ()), ("dev", "prod", ("--target", "prod")),
                                     ("{{ unknown_macro() }}", "dev", ("--target", "dev"))):
        (project / "profiles.yml").write_text(f"d:\n  target: \"{chosen}\"\n  outputs: {{}}\n")
        assert target_args(load_domain(project), target) == expected


def test_the_summary_counts_each_test_outcome_apart() -> None:
    """`7/10 tests` for a success whose 3 other tests warned read as 3 failures, `20/37` when 17 were skipped read
    as 17 failures: each outcome is said."""
    warned = DomainResult("shop", "success", counts={"model:success": 2, "test:pass": 7, "test:warn": 3})
    assert outcomes_text(warned) == "7 passed, 3 warned"
    skipped = DomainResult("shop", "failed", counts={"test:pass": 20, "test:skipped": 17, "test:fail": 1})
    assert outcomes_text(skipped) == "20 passed, 1 failed, 17 skipped"
    assert outcomes_text(DomainResult("shop", "success", counts={"model:success": 1})) == "-"


def test_progress_says_domains_done_of_total_and_counts_so_far_without_colour() -> None:
    shown: list[str] = []
    out = Console(file=io.StringIO(), no_color=True, width=80)
    progress = Progress(out, shown.append)
    progress.listen("planned", "customers orders finance", None)
    progress.listen("started", "customers", None)
    assert shown[-1].startswith("building customers (0 of 3 domains, ")
    progress.listen("building", "customers", DomainResult("customers", "building", counts={"model:success": 1}))
    progress.listen("building", "customers", DomainResult("customers", "building",
                                                          counts={"model:success": 2, "test:pass": 1}))
    assert shown[-1].startswith("building customers (0 of 3 domains, ") and shown[-1].endswith("2 models, 1 tests)…")
    progress.listen("success", "customers", DomainResult("customers", "success", seconds=2.5,
                                                         counts={"model:success": 4, "test:pass": 6}))
    progress.listen("failed", "orders", DomainResult("orders", "failed", reason="dbt build failed"))
    lines = out.file.getvalue().splitlines()   # type: ignore[attr-defined]
    assert lines == ["[1/3] success customers: 4 models; tests 6 passed; 2.5s",
                     "[2/3] failed orders: dbt build failed"]
    assert shown[-1].startswith("scheduling (2 of 3 domains, ") and shown[-1].endswith(" 4 models, 6 tests)…")
    progress.listen("building", "customers", DomainResult("customers", "building", counts={"model:success": 3}))
    assert shown[-1].endswith(" 4 models, 6 tests)…")   # told late, after its end: the end's counts stand
    progress.started -= 60   # the status line drawn again later: its elapsed time has run on
    drawn = Console(file=io.StringIO(), no_color=True, width=80)
    drawn.print(progress)
    assert "(2 of 3 domains, 60s, 4 models, 6 tests)" in drawn.file.getvalue()   # type: ignore[attr-defined]


def test_a_failure_reason_soft_wraps_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reason holds paths: printed whole on one line (the terminal wraps it), never broken inside a word."""
    path = "/home/someone/projects/acme-mesh/domains/sales/models/staging/stg_sales__sales_summary.sql"
    reason = f"Compilation Error in model stg_sales__sales_summary ({path}): unknown column"
    out = Console(file=io.StringIO(), no_color=True, width=80)
    monkeypatch.setattr(build_command, "console", out)
    build_command._print_failures(BuildReport("dev", [DomainResult("sales", FAILED, reason=reason)], 1.0))
    assert out.file.getvalue() == f"sales failed: {reason}\n"   # type: ignore[attr-defined]
