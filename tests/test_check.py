"""`mesh check`: type normalisation, rules configuration, baselines (folder, git ref, stage), the CLI and its
output formats. The change scenarios themselves are in test_check_scenarios.py."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_built_mesh, copy_mesh, git, run_cli
from test_check_scenarios import CUSTOMERS, drop_bound_column, edit, on_model

from mesh_cli.contracts.findings import locate
from mesh_cli.contracts.rules import RULES, configured_rules
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.state import head_commit, saved_commits
from mesh_cli.core.types import CHANGED, NARROWED, SAME, WIDENED, compare_types, parse_type
from mesh_cli.dbt.parse import parse_domains
from mesh_cli.engines.snowflake import connection_parameters, environment_profile

AS_OF = ("--as-of", "2026-11-26")


# --- types ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "how"), [
    ("varchar", "character varying", SAME),
    ("varchar", "STRING", SAME),
    ("text", "varchar(16777216)", SAME),
    ("number(38,0)", "int", SAME),
    ("integer", "bigint", SAME),
    ("numeric(10)", "number(10, 0)", SAME),
    ("timestamp", "timestamp_ntz(9)", SAME),
    ("timestamp with time zone", "timestamptz", SAME),
    ("double precision", "float", SAME),
    ("varchar(5)", "varchar(20)", WIDENED),
    ("decimal(12,2)", "decimal(14,2)", WIDENED),
    ("decimal(12,2)", "decimal(13,3)", WIDENED),
    ("timestamp_ntz(3)", "timestamp_ntz", WIDENED),
    ("varchar", "varchar(10)", NARROWED),
    ("decimal(14,2)", "decimal(10,2)", NARROWED),
    ("decimal(12,2)", "decimal(12,3)", NARROWED),
    ("int", "decimal(38,2)", NARROWED),
    ("varchar", "integer", CHANGED),
    ("number(10,2)", "float", CHANGED),
    ("date", "timestamp", CHANGED),
    ("timestamp_ntz", "timestamp_tz", CHANGED),
])
def test_type_comparison(old: str, new: str, how: str) -> None:
    assert compare_types(parse_type(old), parse_type(new)) == how


def test_unknown_types_compare_by_spelling() -> None:
    assert parse_type("Geography ") == parse_type("geography")
    assert compare_types(parse_type("my_type(1)"), parse_type("my_type(1)")) == SAME
    assert compare_types(parse_type("my_type(1)"), parse_type("my_type(2)")) == CHANGED


# --- rules and locating -----------------------------------------------------------------------------------------

def test_rules_have_ids_fixes_and_known_severities() -> None:
    assert len({rule.id for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.severity in ("error", "warning", "info")
        assert rule.fix or rule.severity == "info", rule.id


def test_rules_configuration() -> None:
    rules = configured_rules({"rules": {"no-deprecated-ref": "error",
                                        "naming": {"severity": "warning", "schema": "^marts$"}}})
    assert rules["no-deprecated-ref"].severity == "error"
    assert rules["naming"].severity == "warning"
    assert rules["naming"].options == {"domain": r"^[a-z][a-z0-9_]*$", "schema": "^marts$"}
    for bad, message in (({"no-such-rule": "error"}, "unknown rule"),
                         ({"naming": "fatal"}, "severity 'fatal'"),
                         ({"naming": {"schemas": "x"}}, "unknown option(s) schemas"),
                         ({"naming": ["error"]}, "must be a severity or a mapping")):
        with pytest.raises(MeshError, match=message.replace("(", r"\(").replace(")", r"\)")):
            configured_rules({"rules": bad})


def test_locate_finds_models_and_columns_within_their_model(tmp_path: Path) -> None:
    path = tmp_path / "models.yml"
    path.write_text("models:\n  - name: a\n    columns:\n      - name: id\n      - name: x\n"
                    "  - name: b\n    columns:\n      - name: y\n")
    assert locate(path, "a") == 2
    assert locate(path, "a", "X") == 5
    assert locate(path, "a", "y") == 2      # y belongs to b: a removed column points at its model
    assert locate(path, "b", "y") == 8
    assert locate(path, "c") is None
    assert locate(tmp_path / "model.sql", "a") is None


# --- baselines and the CLI ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def parsed_mesh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the example mesh and a baseline folder of its parsed manifests."""
    root = copy_mesh(tmp_path_factory.mktemp("check") / "mesh")
    config = load_config(root)
    domains = discover_domains(config)
    state = tmp_path_factory.mktemp("check-state")
    parse_domains(config, [domains[n] for n in DomainGraph(domains).order(domains)], "dev", state_dir=state)
    return root, state / "state" / "dev"


@pytest.fixture
def mesh_and_baseline(parsed_mesh: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    root, baseline = parsed_mesh
    return copy_mesh(tmp_path / "mesh", root), shutil.copytree(baseline, tmp_path / "baseline")


def break_customers(root: Path) -> None:
    on_model(CUSTOMERS, "dim_customers", lambda m: drop_bound_column(m, "region"))(root)


def test_done_when_breaking_customers_names_orders_and_finance(mesh_and_baseline: tuple[Path, Path]) -> None:
    root, baseline = mesh_and_baseline
    break_customers(root)
    result = run_cli(root, "check", "--baseline", str(baseline), *AS_OF)
    assert result.exit_code == 1, result.output
    assert "column-removed  customers.dim_customers.v1 · region [breaking]" in result.output
    assert "hits: orders.fct_orders (pins v1, which stays; into fct_orders.region)" in result.output
    # column-level lineage: customer_revenue refs dim_customers only in a relationships test on customer_id
    assert ("hits: finance.customer_scoring (unpinned, reads v2; into customer_scoring.region), "
            "finance.int_order_revenue (unpinned, reads v2; into int_order_revenue.region)") in result.output
    assert result.output.index("customers: 2 errors") < result.output.index("orders:")  # the worst domain first
    assert "FAILED: 2 error(s)" in result.output
    # dbt's selection flags keep the report to the findings of the selected domains (the mesh is parsed whole)
    others = run_cli(root, "check", "--baseline", str(baseline), *AS_OF, "--exclude", "customers")
    assert others.exit_code == 0, others.output
    assert "customers:" not in others.output and "orders:" in others.output


def test_json_junit_and_github_formats(mesh_and_baseline: tuple[Path, Path], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root, baseline = mesh_and_baseline
    break_customers(root)
    junit = tmp_path / "mesh-check.xml"
    result = run_cli(root, "check", "--baseline", str(baseline), "--format", "json", "--junit-xml", str(junit),
                     *AS_OF)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["exit_code"] == 1 and not report["ok"] and report["summary"]["errors"] == 2
    removed = [f for f in report["findings"] if f["rule"] == "column-removed"]
    assert {f["model"] for f in removed} == {"customers.dim_customers.v1", "customers.dim_customers.v2"}
    assert {hit["domain"] for f in removed for hit in f["hits"]} == {"orders", "finance"}
    assert removed[0]["file"] == "domains/customers/models/marts/_marts.yml" and removed[0]["line"] > 1
    assert removed[0]["classification"] == "breaking" and removed[0]["fix"]

    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites" and suites.get("failures") == "2"
    customers = suites.find("testsuite[@name='customers']")
    assert customers is not None and customers.get("failures") == "2"
    failure = customers.find("testcase/failure")
    assert failure is not None and "orders.fct_orders" in (failure.text or "")
    assert {s.get("name") for s in suites} == {"customers", "orders", "finance"}

    monkeypatch.chdir(root)
    result = run_cli(root, "check", "--baseline", str(baseline), "--format", "github", *AS_OF)
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 2
    assert errors[0].startswith("::error file=domains/customers/models/marts/_marts.yml,line=")
    assert "%0Ahits: " in errors[0] and "\n" not in errors[0]
    assert any(line.startswith("::warning file=domains/orders/models/marts/fct_orders.sql,line=")
               for line in result.stdout.splitlines())


def test_report_to_a_file(mesh_and_baseline: tuple[Path, Path], tmp_path: Path) -> None:
    root, baseline = mesh_and_baseline
    out = tmp_path / "report.json"
    result = run_cli(root, "check", "--baseline", str(baseline), "--format", "json", "-o", str(out), *AS_OF)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["ok"] is True
    assert "report written to" in result.stderr


def test_baseline_missing_a_domain_is_a_new_domain(mesh_and_baseline: tuple[Path, Path]) -> None:
    root, baseline = mesh_and_baseline
    shutil.rmtree(baseline / "finance")
    result = run_cli(root, "check", "--baseline", str(baseline), "--format", "json", *AS_OF)
    assert result.exit_code == 0, result.output
    added = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "domain-added"]
    assert [(f["domain"], f["severity"]) for f in added] == [("finance", "info")]


def test_a_domain_missing_from_a_baseline_built_from_a_commit_that_has_it_is_refused(
        mesh_and_baseline: tuple[Path, Path]) -> None:
    """A saved build records its commit (fingerprint.json): a domain absent from the baseline is new only when the
    commits the baseline was built from do not have it; otherwise the baseline is incomplete (exit 2)."""
    root, baseline = mesh_and_baseline
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "mesh.yml", "governance.yml", "domains/customers", "domains/orders")
    git(root, "commit", "-q", "-m", "customers and orders")
    before_finance = git(root, "rev-parse", "HEAD").strip()
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "finance")
    shutil.rmtree(baseline / "finance")
    fingerprint = baseline / "customers" / "fingerprint.json"

    fingerprint.write_text(json.dumps({"fingerprint": "x", "commit": before_finance}))
    result = run_cli(root, "check", "--baseline", str(baseline), "--format", "json", *AS_OF)
    assert result.exit_code == 0, result.output   # finance is new since the deployed commit
    assert [f["domain"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "domain-added"] == ["finance"]

    head = head_commit(root)   # what save_build records
    assert head == git(root, "rev-parse", "HEAD").strip() and head_commit(baseline) is None
    fingerprint.write_text(json.dumps({"fingerprint": "x", "commit": head}))
    assert saved_commits(baseline) == {head}
    result = run_cli(root, "check", "--baseline", str(baseline), *AS_OF)
    assert result.exit_code == 2, result.output
    assert "no manifest of finance, which exists in commit" in result.stderr and "incomplete" in result.stderr


def test_a_fresh_clone_parses_only_the_domains_that_differ_from_the_deployed_build(
        built_mesh: tuple[Path, Any], tmp_path: Path) -> None:
    """No parse cache, the deployed state folder as the baseline: a domain whose files (and upstreams') are those
    of its saved build reads that build's manifest instead of being parsed; only the edited domain is parsed. A
    changed mesh.yml, which shapes every parse, has them all parsed."""
    root = copy_built_mesh(built_mesh[0], tmp_path / "mesh")
    shutil.rmtree(root / ".mesh" / "cache", ignore_errors=True)
    model = root / "domains" / "finance" / "models" / "marts" / "customer_revenue.sql"
    model.write_text(model.read_text() + "\n-- reviewed\n")
    result = run_cli(root, "check", *AS_OF)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (root / ".mesh" / "cache" / "parse" / "dev").iterdir()) == ["finance"]
    shutil.rmtree(root / ".mesh" / "cache")
    (root / "mesh.yml").write_text((root / "mesh.yml").read_text() + "# edited\n")   # shapes every parse
    assert run_cli(root, "check", *AS_OF).exit_code == 0
    assert sorted(p.name for p in (root / ".mesh" / "cache" / "parse" / "dev").iterdir()) == [
        "customers", "finance", "orders"]


def test_state_folder_layouts_are_accepted(mesh_and_baseline: tuple[Path, Path], tmp_path: Path) -> None:
    root, baseline = mesh_and_baseline
    dot_mesh = tmp_path / "copy-of-dot-mesh"
    shutil.copytree(baseline, dot_mesh / "state" / "dev")
    assert run_cli(root, "check", "--baseline", str(dot_mesh), *AS_OF).exit_code == 0
    # with no baseline option, the state folder of the target is the baseline
    shutil.copytree(baseline, root / ".mesh" / "state" / "dev")
    result = run_cli(root, "check", *AS_OF)
    assert result.exit_code == 0, result.output
    assert ".mesh/state/dev" in result.output


def test_corrupt_manifest_is_exit_2(mesh_and_baseline: tuple[Path, Path]) -> None:
    root, baseline = mesh_and_baseline
    (baseline / "orders" / "manifest.json").write_text('{"nodes": {')
    result = run_cli(root, "check", "--baseline", str(baseline))
    assert result.exit_code == 2
    assert "orders/manifest.json: cannot read the dbt manifest" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("--baseline", "/no/such/folder"), "baseline folder /no/such/folder does not exist"),
    (("--baseline", "."), "no manifests in baseline folder"),
    (("--baseline", ".", "--baseline-ref", "HEAD"), "give one baseline, not --baseline and --baseline-ref"),
    ((), "has no manifests: `mesh build` saves them there)"),   # a fresh mesh: says how to get one
    (("--baseline-stage", "@stage"), "is not a stage location: write @DATABASE.SCHEMA.STAGE"),
    (("--baseline-store", "@MESH.STATE.RECORDS"), "SNOWFLAKE_ACCOUNT is not set"),
    (("--baseline-store", "ftp://host/x"), "is not a store location"),
    (("--format", "xml"), "Invalid value for '--format'"),
])
def test_bad_input_is_exit_2(mesh_copy: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...],
                             message: str) -> None:
    monkeypatch.delenv("SNOWFLAKE_ACCOUNT", raising=False)
    monkeypatch.chdir(mesh_copy)
    result = run_cli(mesh_copy, "check", *args)
    assert result.exit_code == 2
    assert message in result.stderr + result.output


def test_unknown_rule_in_mesh_yml_is_exit_2(mesh_copy: Path) -> None:
    with (mesh_copy / "mesh.yml").open("a") as handle:
        handle.write("check:\n  rules:\n    no-such-rule: error\n")
    result = run_cli(mesh_copy, "check", "--baseline", ".")
    assert result.exit_code == 2
    assert "unknown rule 'no-such-rule'" in result.stderr


# --- git ref baselines --------------------------------------------------------------------------------------------



def test_git_ref_baseline(git_mesh: Path) -> None:
    result = run_cli(git_mesh, "check", "--baseline-ref", "main", *AS_OF)
    assert result.exit_code == 0, result.output
    assert "against git ref main (" in result.output
    break_customers(git_mesh)
    result = run_cli(git_mesh, "check", "--baseline-ref", "main", "--format", "json", *AS_OF)
    assert result.exit_code == 1, result.output
    hit = {h["domain"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "column-removed"
           for h in f["hits"]}
    assert hit == {"orders", "finance"}
    assert "mesh-baseline-" not in git(git_mesh, "worktree", "list")   # the temporary worktree is gone


def test_git_ref_that_does_not_exist_is_exit_2(git_mesh: Path) -> None:
    result = run_cli(git_mesh, "check", "--baseline-ref", "origin/nowhere")
    assert result.exit_code == 2
    assert "git ref 'origin/nowhere' does not exist" in result.stderr


def test_git_ref_outside_a_repository_is_exit_2(mesh_copy: Path) -> None:
    result = run_cli(mesh_copy, "check", "--baseline-ref", "main")
    assert result.exit_code == 2
    assert "needs a git repository" in result.stderr


# --- Snowflake connection parameters ----------------------------------------------------------------------------

def test_connection_parameters_come_from_the_profile_variables() -> None:
    assert connection_parameters(environment_profile({"SNOWFLAKE_ACCOUNT": "org-acct", "SNOWFLAKE_USER": "U",
                                                      "SNOWFLAKE_PRIVATE_KEY_PATH": "/k.p8"})) == {
        "account": "org-acct", "user": "U", "private_key_file": "/k.p8"}


# --- output formats on a report made by hand ------------------------------------------------------------------

def _report(root: Path) -> Any:
    from mesh_cli.check.report import CheckReport
    from mesh_cli.contracts.findings import Finding, Hit

    (root / "x.yml").write_text("models:\n  - name: m\n")
    hit = Hit("b", "fct", "a.m", None, None, False, "models/fct.sql")
    return CheckReport("folder base", "dev", root, ["a", "b", "c"], [
        Finding("no-deprecated-ref", "warning", "b", "b.fct refs a.m.v1, deprecated", "migrate"),
        Finding("public-description", "warning", "b", "second warning of b", "describe it"),
        Finding("column-removed", "error", "a", "column x, y: was removed\nfor good", "add a version",
                model="a.m", column="x", classification="breaking", hits=[hit], file=root / "x.yml", line=2),
        Finding("column-added", "info", "a", "column z was added", model="a.m", classification="non-breaking"),
    ])


def test_github_annotations_put_errors_first_and_escape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mesh_cli.check.output import render

    monkeypatch.chdir(tmp_path)
    lines = render(_report(tmp_path), "github").splitlines()
    assert [line.split(" ", 1)[0] for line in lines[:4]] == ["::error", "::warning", "::warning", "::notice"]
    assert lines[0] == ("::error file=x.yml,line=2,title=mesh check column-removed%3A a.m::column x, y: was removed"
                        "%0Afor good%0Ahits: b.fct (unpinned)%0Afix: add a version")
    assert lines[-1] == "mesh check: 1 error(s), 2 warning(s), 1 notice(s) in 3 domain(s)"


def test_text_groups_by_domain_worst_first(tmp_path: Path) -> None:
    from mesh_cli.check.output import render

    text = render(_report(tmp_path), "text")
    assert text.index("a: 1 error, 1 notice") < text.index("b: 2 warnings") < text.index("c: ok")
    assert "           at x.yml:2" in text and text.endswith("FAILED: 1 error(s), 2 warning(s), 1 notice(s) in 3 "
                                                            "domain(s)")


def test_junit_has_a_passing_case_for_a_clean_domain(tmp_path: Path) -> None:
    from mesh_cli.check.output import render

    suites = ET.fromstring(render(_report(tmp_path), "junit"))
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in suites] == [
        ("a", "1", "1"), ("b", "2", "0"), ("c", "1", "0")]
    clean = suites.find("testsuite[@name='c']/testcase")
    assert clean is not None and clean.get("name") == "contracts and governance" and len(clean) == 0
    warning = suites.find("testsuite[@name='b']/testcase/system-out")
    assert warning is not None and (warning.text or "").startswith("warning: b.fct refs a.m.v1")


def test_invalid_naming_pattern_is_an_error() -> None:
    from mesh_cli.check.governance import Governance

    with pytest.raises(MeshError, match="naming: schema:` is not a valid regular expression"):
        Governance(configured_rules({"rules": {"naming": {"schema": "(marts"}}}))


# --- the dbt worker shared by parses ----------------------------------------------------------------------------

def test_a_job_leaves_no_variables_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    from mesh_cli.dbt.invoke import DbtJob, run_job

    monkeypatch.setenv("MESH_KEPT", "before")
    monkeypatch.delenv("MESH_ADDED", raising=False)
    assert run_job(DbtJob((), {"MESH_KEPT": "during", "MESH_ADDED": "during"}, "duckdb")).ok
    assert os.environ["MESH_KEPT"] == "before"
    assert "MESH_ADDED" not in os.environ


def test_shared_worker_is_started_again_after_it_died() -> None:
    from mesh_cli.dbt import invoke as dbt_invoke
    from mesh_cli.dbt.invoke import DbtJob, run_shared

    assert run_shared(DbtJob((), {}, "duckdb")).ok
    pool = dbt_invoke._shared
    assert pool is not None
    for process in list(pool._pool._processes.values()):  # type: ignore[attr-defined]
        process.kill()
        process.join()
    assert run_shared(DbtJob((), {}, "duckdb")).ok
    assert dbt_invoke._shared is not pool


# --- more input errors and settings ---------------------------------------------------------------------------

def test_working_tree_that_does_not_parse_is_exit_2(mesh_and_baseline: tuple[Path, Path]) -> None:
    root, baseline = mesh_and_baseline
    sql = root / "domains/orders/models/marts/fct_orders.sql"
    sql.write_text(sql.read_text() + "\n{{ this is not jinja }\n")
    result = run_cli(root, "check", "--baseline", str(baseline))
    assert result.exit_code == 2
    assert "dbt parse of orders failed" in result.stderr


def test_baseline_from_mesh_yml(mesh_and_baseline: tuple[Path, Path]) -> None:
    root, baseline = mesh_and_baseline
    shutil.copytree(baseline, root / "deployed")
    edit(root, "mesh.yml", lambda data: data.setdefault("check", {}).update(baseline={"dir": "deployed"}))
    result = run_cli(root, "check", *AS_OF)
    assert result.exit_code == 0, result.output
    assert f"against folder {root / 'deployed'}" in result.output


def test_bad_baseline_setting_in_mesh_yml_is_exit_2(mesh_copy: Path) -> None:
    edit(mesh_copy, "mesh.yml", lambda data: data.setdefault("check", {}).update(baseline={"folder": "x"}))
    result = run_cli(mesh_copy, "check")
    assert result.exit_code == 2
    assert "`check: baseline:` must be one of" in result.stderr
