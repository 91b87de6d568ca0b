"""The `mesh` command: a thin click layer over the features."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from mesh_cli import __version__
from mesh_cli.build import FAILED, SKIPPED, SUCCESS, BuildOptions, BuildReport, DomainResult, build
from mesh_cli.core.config import MeshConfig, locate_config
from mesh_cli.errors import MeshError
from mesh_cli.graph_render import FORMATS, render
from mesh_cli.inventory import load_inventory

console = Console()
err_console = Console(stderr=True)
STATUS_STYLE = {SUCCESS: "green", FAILED: "red", SKIPPED: "yellow"}


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Print a MeshError as one line and exit with its code."""
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MeshError as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
    return wrapper


def _config(ctx: click.Context) -> MeshConfig:
    return locate_config(ctx.obj["mesh_dir"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mesh")
@click.option("--mesh-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The mesh repository (default: the nearest folder with a mesh.yml).")
@click.pass_context
def main(ctx: click.Context, mesh_dir: Path | None) -> None:
    """A data mesh on Snowflake, built on dbt: build, inspect and govern every domain."""
    ctx.obj = {"mesh_dir": mesh_dir}


@main.command("list")
@click.option("--target", default=None, help="Read manifests of this target (default: mesh.yml's).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@handle_errors
def list_command(ctx: click.Context, target: str | None, as_json: bool) -> None:
    """Domains with their owners, public models and upstreams."""
    config = _config(ctx)
    inventory = load_inventory(config, target or config.default_target)
    rows = []
    for name, view in inventory.views.items():
        owner = view.domain.owner
        rows.append({
            "domain": name,
            "owner": owner.name if owner else None,
            "owner_email": owner.email if owner else None,
            "upstreams": list(view.domain.upstreams),
            "downstreams": sorted(inventory.graph.downstream_of(name) & set(inventory.graph.graph.successors(name))),
            "public_models": [m.label.split(".", 1)[1] for m in view.public_models],
        })
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"mesh {config.name}: {len(rows)} domains")
    for column in ("domain", "owner", "public models", "upstreams"):
        table.add_column(column)
    for row in rows:
        owner = row["owner"] + (f" <{row['owner_email']}>" if row["owner_email"] else "") if row["owner"] else "-"
        table.add_row(row["domain"], owner, "\n".join(row["public_models"]) or "-",
                      ", ".join(row["upstreams"]) or "-")
    console.print(table)


@main.command("graph")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--target", default=None, help="Read manifests of this target (default: mesh.yml's).")
@click.pass_context
@handle_errors
def graph_command(ctx: click.Context, fmt: str, target: str | None) -> None:
    """The domain graph and the model edges that cross domains."""
    config = _config(ctx)
    click.echo(render(load_inventory(config, target or config.default_target), fmt))


def _counts(result: DomainResult) -> tuple[str, str]:
    models = result.count("model", "success")
    tests = result.count("test")
    passed = result.count("test", "pass")
    return (str(models) if result.counts else "-", f"{passed}/{tests}" if tests else "-")


def _summary(report: BuildReport) -> Table:
    table = Table(title=f"mesh build --target {report.target}: {report.seconds:.1f}s")
    for column, justify in (("domain", "left"), ("status", "left"), ("models", "right"),
                            ("tests", "right"), ("seconds", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for result in report.results:
        models, tests = _counts(result)
        style = STATUS_STYLE[result.status]
        table.add_row(result.domain, f"[{style}]{result.status}[/{style}]", models, tests,
                      f"{result.seconds:.1f}" if result.status != SKIPPED else "-")
    return table


def _report_json(report: BuildReport) -> str:
    return json.dumps({
        "target": report.target, "ok": report.ok, "seconds": round(report.seconds, 3),
        "unchanged": report.unchanged,
        "domains": [{"domain": r.domain, "status": r.status, "seconds": round(r.seconds, 3),
                     "counts": r.counts, "failures": r.failures, "reason": r.reason}
                    for r in report.results],
    }, indent=2)


@main.command("build")
@click.argument("selectors", nargs=-1)
@click.option("--target", default=None, help="dbt target of every domain's profile (dev = DuckDB, prod = Snowflake).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="cores",
              help="Domains built at the same time.")
@click.option("--full-refresh", is_flag=True, help="Pass --full-refresh to dbt build.")
@click.option("--changed", is_flag=True, help="Only domains whose files changed since their last build, "
              "and their downstream.")
@click.option("--verbose", "-v", is_flag=True, help="Show dbt's own log lines.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@handle_errors
def build_command(ctx: click.Context, selectors: tuple[str, ...], target: str | None, jobs: int,
                  full_refresh: bool, changed: bool, verbose: bool, as_json: bool) -> None:
    """Build domains in dependency order: `mesh build`, `mesh build orders`, `customers+`, `+finance`."""
    config = _config(ctx)
    options = BuildOptions(selectors, target, jobs, full_refresh, changed, verbose)
    out = err_console if as_json else console
    running: set[str] = set()
    with out.status("resolving the mesh…") as status:
        def listener(event: str, name: str, result: DomainResult | None) -> None:
            if event == "started":
                running.add(name)
            else:
                running.discard(name)
                _print_event(out, event, name, result)
            status.update(f"building {', '.join(sorted(running))}…" if running else "scheduling…")
        report = build(config, options, listener)
    if as_json:
        click.echo(_report_json(report))
    else:
        if report.unchanged:
            console.print(f"unchanged since their last build: {', '.join(report.unchanged)}")
        if report.results:
            console.print(_summary(report))
        else:
            console.print("nothing to build")
        _print_failures(report)
    if not report.ok:
        sys.exit(1)


def _print_event(out: Console, event: str, name: str, result: DomainResult | None) -> None:
    style = STATUS_STYLE.get(event, "white")
    detail = ""
    if result is not None and event == SUCCESS:
        models, tests = _counts(result)
        detail = f"{models} models, {tests} tests, {result.seconds:.1f}s"
    elif result is not None:
        detail = result.reason or ""
    out.print(f"[{style}]{event:>7}[/{style}] {name}  {detail}", highlight=False)


def _print_failures(report: BuildReport) -> None:
    for result in report.results:
        if result.status != FAILED:
            continue
        console.print(f"[red]{result.domain} failed[/red]: {result.reason or 'see below'}", highlight=False)
        for failure in result.failures:
            console.print(f"  - {failure}", highlight=False)
