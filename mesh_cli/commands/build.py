"""`mesh build`: build domains in dependency order and print what ran, failed and was skipped."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable

import click
from rich import box
from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table

from mesh_cli.build.run import BUILDING, PLANNED, BuildOptions, BuildReport, DomainResult, build
from mesh_cli.catalog.health import outcome_counts
from mesh_cli.commands.common import console, err_console, format_option, handle_errors, mesh_config, selection_options
from mesh_cli.commands.publish import print_publish
from mesh_cli.core.lock import state_lock
from mesh_cli.core.plan import exit_code
from mesh_cli.core.scheduler import FAILED, SKIPPED, SUCCESS

STATUS_STYLE = {SUCCESS: "green", FAILED: "red", SKIPPED: "yellow"}


def outcomes_text(result: DomainResult) -> str:
    """`12 passed, 1 warned, 3 skipped`: each outcome counted apart as the catalogue counts them (a skipped test
    is no pass), or `-`."""
    statuses = {key.split(":", 1)[1]: n for key, n in result.counts.items() if key.startswith("test:")}
    return ", ".join(f"{n} {word}" for word, n in outcome_counts(statuses).items() if n) or "-"


def _models(result: DomainResult) -> str:
    return str(result.count("model", "success")) if result.counts else "-"


def _summary(report: BuildReport) -> Table:
    # SIMPLE_HEAD: no vertical rules, so the widest ingestion line stays whole at 80 columns
    table = Table(title=f"mesh build --target {report.target}: {report.seconds:.1f}s", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("domain", "left"), ("status", "left"), ("ingested", "right"), ("models", "right"), ("tests", "right"),
        ("seconds", "right"))
    for column, justify in columns:
        table.add_column(column, justify=justify, no_wrap=True)
    for result in report.results:
        style = STATUS_STYLE[result.status]
        ingested = result.ingested.summary() if result.ingested and result.ingested.tables else "-"
        table.add_row(result.domain, f"[{style}]{result.status}[/{style}]", ingested, _models(result),
                      outcomes_text(result),
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


@click.command("build", short_help="Build domains in dependency order.")
@selection_options
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
@format_option("text for people (progress on the way), json for programs (the report only).")
@click.pass_context
@handle_errors
def command(ctx: click.Context, domains: tuple[str, ...], target: str | None, jobs: int,
            full_refresh: bool, changed: bool, verbose: bool, no_publish: bool, allow_destroy: bool,
            allow_breaking: tuple[str, ...], as_json: bool) -> None:
    """Build domains in dependency order: `mesh build`, `mesh build -s orders`, `-s customers+`,
    `-s +finance --exclude customers`."""
    config = mesh_config(ctx)
    options = BuildOptions(domains, target, jobs, full_refresh, changed, verbose, publish=not no_publish,
                           allow_destroy=allow_destroy, allow_breaking=allow_breaking)
    out = err_console if as_json else console
    with out.status("resolving the mesh…") as status:
        # the status shows the progress itself, drawn again at each refresh: its elapsed time runs between events
        progress = Progress(out, lambda _: status.update(progress))
        with state_lock(config.state_dir, "mesh build " + " ".join(domains)):
            report = build(config, options, progress.listen)
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
        if report.ok and report.results:
            console.print("next: `mesh catalog --serve` to browse the data products, `mesh product DOMAIN.PRODUCT` "
                          "for one of them", highlight=False, soft_wrap=True)
    sys.exit(exit_code(report.outcomes))


class Progress:
    """Where a build stands, in words that need no colour: a line per finished domain (`[2/3] success orders ...`)
    and a status line with the domains done of total, the time elapsed, and the models and tests so far (those of
    the domains building counted as dbt finishes them). Told by the build's thread and the status's refresh."""

    def __init__(self, out: Console, show: Callable[[str], None]) -> None:
        self.out, self.show = out, show
        self.started = time.perf_counter()
        self.total = 0
        self.done: list[DomainResult] = []
        self.running: dict[str, DomainResult | None] = {}   # each domain building, with its nodes finished so far
        self.lock = threading.Lock()   # never held while printing: the status's refresh draws under its own

    def listen(self, event: str, name: str, result: DomainResult | None) -> None:
        line = None
        with self.lock:
            if event == PLANNED:
                self.total = len(name.split())
            elif event == "started":
                self.running[name] = None
            elif event == BUILDING:
                if name in self.running:   # told late, after its end: the end's counts stand
                    self.running[name] = result
            else:
                self.running.pop(name, None)
                if result is not None:
                    self.done.append(result)
                line = self.line(event, name, result)
        if line is not None:
            self.out.print(line, highlight=False, soft_wrap=True)
        self.show(self.status())

    def counted(self) -> str:
        with self.lock:
            results = [*self.done, *(r for r in self.running.values() if r is not None)]
            done = len(self.done)
        models = sum(r.count("model", "success") for r in results)
        tests = sum(r.count("test") for r in results)
        return f"{done} of {self.total} domains, {time.perf_counter() - self.started:.0f}s, " \
               f"{models} models, {tests} tests"

    def __rich__(self) -> str:
        return self.status()

    def status(self) -> str:
        with self.lock:
            running = sorted(self.running)
        doing = f"building {', '.join(running)}" if running else "scheduling"
        return f"{doing} ({self.counted()})…"

    def line(self, event: str, name: str, result: DomainResult | None) -> str:
        style = STATUS_STYLE.get(event, "white")
        detail = ""
        if result is not None and event == SUCCESS:
            detail = f"{_models(result)} models; tests {outcomes_text(result)}; {result.seconds:.1f}s"
        elif result is not None:
            detail = escape(result.reason or "")
        return f"[{len(self.done)}/{self.total}] [{style}]{event}[/{style}] {name}: {detail}"


def _print_failures(report: BuildReport) -> None:
    for result in report.results:
        if result.status != FAILED:
            continue
        console.print(f"[red]{result.domain} failed[/red]: {escape(result.reason or 'see below')}", highlight=False,
                      soft_wrap=True)   # a path in it unbroken at any width
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
