"""`mesh build`: build domains in dependency order and print what ran, failed and was skipped."""

from __future__ import annotations

import json
import os
import sys

import click
from rich.console import Console, JustifyMethod
from rich.table import Table

from mesh_cli.build.run import BuildOptions, BuildReport, DomainResult, build
from mesh_cli.commands.common import console, err_console, handle_errors, mesh_config
from mesh_cli.commands.publish import print_publish
from mesh_cli.core.lock import state_lock
from mesh_cli.core.plan import exit_code
from mesh_cli.core.scheduler import FAILED, SKIPPED, SUCCESS

STATUS_STYLE = {SUCCESS: "green", FAILED: "red", SKIPPED: "yellow"}


def _counts(result: DomainResult) -> tuple[str, str]:
    models = result.count("model", "success")
    tests = result.count("test")
    passed, warned = result.count("test", "pass"), result.count("test", "warn")
    shown = f"{passed}/{tests}" + (f" ({warned} warned)" if warned else "")   # a warning is no failure
    return (str(models) if result.counts else "-", shown if tests else "-")


def _summary(report: BuildReport) -> Table:
    table = Table(title=f"mesh build --target {report.target}: {report.seconds:.1f}s")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("domain", "left"), ("status", "left"), ("ingested", "right"), ("models", "right"), ("tests", "right"),
        ("seconds", "right"))
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for result in report.results:
        models, tests = _counts(result)
        style = STATUS_STYLE[result.status]
        ingested = result.ingested.summary() if result.ingested and result.ingested.tables else "-"
        table.add_row(result.domain, f"[{style}]{result.status}[/{style}]", ingested, models, tests,
                      f"{result.seconds:.1f}" if result.status != SKIPPED else "-")
    return table


def _report_json(report: BuildReport) -> str:
    return json.dumps({
        "target": report.target, "ok": report.ok, "seconds": round(report.seconds, 3),
        "unchanged": report.unchanged,
        "critical_path": {"domains": report.critical_path, "seconds": round(report.critical_seconds, 3)},
        "domains": [{"domain": r.domain, "status": r.status, "seconds": round(r.seconds, 3),
                     "counts": r.counts, "failures": r.failures, "reason": r.reason,
                     "ingested": r.ingested.summary() if r.ingested else None, "stale_sources": r.stale_sources,
                     "unrunnable_tests": r.unrunnable_tests}
                    for r in report.results],
        "published": [p.to_dict() for p in report.published],
    }, indent=2)


@click.command("build")
@click.argument("selectors", nargs=-1)
@click.option("--target", default=None, help="dbt target of every domain's profile (dev = DuckDB, prod = Snowflake).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="cores",
              help="Domains built at the same time.")
@click.option("--full-refresh", is_flag=True, help="Pass --full-refresh to dbt build.")
@click.option("--changed", is_flag=True, help="Only domains whose files changed since their last build, "
              "and their downstream.")
@click.option("--verbose", "-v", is_flag=True, help="Show dbt's own log lines.")
@click.option("--no-publish", is_flag=True, help="Do not publish the shares of built domains (see mesh publish).")
@click.option("--allow-destroy", is_flag=True, help="Apply publish and ingestion plans that drop or revoke what "
              "exists because its declaration disappeared (refused otherwise).")
@click.option("--allow-breaking", multiple=True, metavar="MODEL", help="Deploy this public model's breaking "
              "change although consumers read it (refused otherwise): `dim_customers` or `customers.dim_customers`.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@handle_errors
def command(ctx: click.Context, selectors: tuple[str, ...], target: str | None, jobs: int,
                  full_refresh: bool, changed: bool, verbose: bool, no_publish: bool, allow_destroy: bool,
                  allow_breaking: tuple[str, ...], as_json: bool) -> None:
    """Build domains in dependency order: `mesh build`, `mesh build orders`, `customers+`, `+finance`."""
    config = mesh_config(ctx)
    options = BuildOptions(selectors, target, jobs, full_refresh, changed, verbose, publish=not no_publish,
                           allow_destroy=allow_destroy, allow_breaking=allow_breaking)
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
        with state_lock(config.state_dir, "mesh build " + " ".join(selectors)):
            report = build(config, options, listener)
    if as_json:
        click.echo(_report_json(report))
    else:
        if report.unchanged:
            console.print(f"unchanged since their last build: {', '.join(report.unchanged)}")
        if report.results:
            console.print(_summary(report))
            if report.critical_path:
                console.print(f"critical path: {' → '.join(report.critical_path)}, "
                              f"{report.critical_seconds:.1f}s of {report.seconds:.1f}s", highlight=False)
        else:
            console.print("nothing to build")
        _print_failures(report)
        _print_ingestion(report)
        print_publish(report.published)
    sys.exit(exit_code(report.outcomes))


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
            console.print(f"  - {failure}", highlight=False, soft_wrap=True)   # a contract's table unbroken


def _print_ingestion(report: BuildReport) -> None:
    """Files skipped or rows rejected by ingestion, and sources older than their freshness allows."""
    for result in report.results:
        for load in result.ingested.tables if result.ingested else []:
            for line in [*load.files_skipped, *load.rejected]:
                console.print(f"[yellow]ingestion[/yellow] {load.table}: {line}", highlight=False)
        for test in result.unrunnable_tests:
            console.print(f"[yellow]test not run[/yellow] in {result.domain}: {test}", highlight=False)
        if result.stale_sources:
            console.print(f"[yellow]stale sources[/yellow] in {result.domain}: {', '.join(result.stale_sources)}",
                          highlight=False)
