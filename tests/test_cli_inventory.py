"""`mesh list` and `mesh graph`: what the mesh holds, read from dbt's manifests."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import run_cli

from mesh_cli.build.run import BuildReport
from mesh_cli.cli import command_modules, main

MODEL_EDGES = {("customers.dim_customers.v1", "orders.fct_orders"),
               ("customers.dim_customers.v2", "finance.int_order_revenue"),
               ("orders.fct_orders", "finance.int_order_revenue"),
               ("customers.dim_customers.v2", "finance.customer_scoring")}   # a Snowpark model's ref


def test_list_json_names_owners_public_models_and_upstreams(built_mesh: tuple[Path, BuildReport]) -> None:
    result = run_cli(built_mesh[0], "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["domain"]: row for row in json.loads(result.stdout)}
    assert list(rows) == ["customers", "orders", "finance"]
    assert set(rows["customers"]["public_models"]) == {"dim_customers.v1", "dim_customers.v2", "dim_regions"}
    assert rows["customers"]["owner_email"] == "customer-data@retail.example"
    assert rows["finance"]["upstreams"] == ["customers", "orders"]
    assert rows["customers"]["downstreams"] == ["finance", "orders"]
    assert "stg_customers" not in rows["customers"]["public_models"]
    [product] = rows["customers"]["products"]
    assert (product["id"], product["models"]) == ("customers.customer_master", ["dim_customers", "dim_regions"])
    shown = json.loads(run_cli(built_mesh[0], "product", "customers.customer_master", "--format", "json").stdout)
    assert product["health"] == shown["build"]["health"]   # one signal, the same in each view
    assert set(product["health"]["tests"]) == {"passed", "warned", "failed", "skipped", "not run"}


def test_list_names_the_products_and_cuts_nothing_at_80_columns(built_mesh: tuple[Path, BuildReport]) -> None:
    result = run_cli(built_mesh[0], "list")   # the runner's terminal is 80 columns wide
    assert result.exit_code == 0, result.output
    for text in ("customers.customer_master", "orders.order_facts", "finance.revenue_reporting",
                 "<customer-data@retail.example>", "Customer Data Team"):
        assert text in result.output, text
    assert "…" not in result.output


def test_graph_json_has_domain_and_model_edges(built_mesh: tuple[Path, BuildReport]) -> None:
    result = run_cli(built_mesh[0], "graph", "--format", "json")
    graph = json.loads(result.stdout)
    assert {(e["upstream"], e["downstream"]) for e in graph["domain_edges"]} == {
        ("customers", "orders"), ("customers", "finance"), ("orders", "finance")}
    assert {(e["upstream"], e["downstream"]) for e in graph["model_edges"]} == MODEL_EDGES


@pytest.mark.parametrize(("fmt", "expected"), [
    ("text", ["customers\n  → finance", "customers.dim_customers.v1 → orders.fct_orders"]),
    ("mermaid", ["graph LR", "subgraph customers[customers]",
                 "customers_dim_customers_v1 --> orders_fct_orders"]),
    ("dot", ["digraph mesh {", 'subgraph "cluster_orders" {', '"orders.fct_orders" -> "finance.int_order_revenue";']),
])
def test_graph_formats(built_mesh: tuple[Path, BuildReport], fmt: str, expected: list[str]) -> None:
    result = run_cli(built_mesh[0], "graph", "--format", fmt)
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.stdout


def test_graph_of_prod_parses_without_credentials(built_copy: Path) -> None:
    result = run_cli(built_copy, "graph", "--target", "prod", "--format", "json")
    assert result.exit_code == 0, result.output
    assert {(e["upstream"], e["downstream"]) for e in json.loads(result.stdout)["model_edges"]} == MODEL_EDGES
    manifest = json.loads((built_copy / "domains/orders/target/manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "snowflake"
    # the upstream's prod relation, never the dev (DuckDB) manifest left in its target/ folder
    assert manifest["nodes"]["model.customers.dim_customers.v1"]["relation_name"] == "CUSTOMERS.marts.dim_customers_v1"


def test_graph_outside_a_mesh_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "graph")
    assert result.exit_code == 2
    assert "no mesh.yml found" in result.stderr


def test_every_command_module_is_a_subcommand_of_its_own_name() -> None:
    """Subcommands load lazily by module name: each module's command must carry that name."""
    names = command_modules()
    assert {"build", "check", "package-path"} <= set(names)
    for name, module in names.items():
        command = importlib.import_module(f"mesh_cli.commands.{module}").command
        assert isinstance(command, click.Command) and command.name == name
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code == 2 and "No such command 'no-such-command'" in result.output


@pytest.mark.parametrize("args", [["no-such-command"], ["build", "--no-such-option"], ["check", "--as-of", "soon"],
                                  ["product"]])
def test_usage_errors_are_one_line_like_every_other_error(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    assert "Usage:" not in result.output and "Error:" not in result.output and "--help`)" in result.output


def test_top_level_help_says_each_command_whole_and_no_strftime_pattern() -> None:
    for group in ([], ["export"], ["init"], ["orchestrate"], ["state"]):   # each command group lists its commands
        result = CliRunner().invoke(main, [*group, "--help"], terminal_width=80)
        commands = result.output.split("Commands:")[1]
        assert result.exit_code == 0 and "..." not in commands, commands   # click cuts a long sentence with ...
    check = CliRunner().invoke(main, ["check", "--help"], terminal_width=80)
    assert "--as-of YYYY-MM-DD" in check.output and "%Y" not in check.output


@pytest.mark.parametrize("command", ["build", "publish", "ingest", "provision", "check", "state pull",
                                     "init workflow"])
def test_every_command_that_takes_domains_selects_as_dbt_does(command: str) -> None:
    shown = CliRunner().invoke(main, [*command.split(), "--help"], terminal_width=200).output
    assert "-s, --select SELECTOR" in shown and "--exclude SELECTOR" in shown
    assert ("--format [text|json" in shown or command in ("check", "state pull", "init workflow"))
    assert "--json" not in shown


def test_the_snowflake_connector_imports_without_a_dependency_warning() -> None:
    """Its vendored requests warns about chardet 6+ at import, in every build; mesh filters that one warning."""
    done = subprocess.run([sys.executable, "-W", "default", "-c", "import mesh_cli, snowflake.connector"],
                          capture_output=True, text=True, check=True)
    assert "RequestsDependencyWarning" not in done.stderr and "doesn't match a supported version" not in done.stderr
