"""`mesh check`: contracts of public models against the deployed mesh, cross-domain impact, governance rules."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import click

from mesh_cli.check.output import FORMATS, render
from mesh_cli.check.run import CheckOptions, run_check
from mesh_cli.commands.common import err_console, handle_errors, mesh_config, selection_options, target_option
from mesh_cli.shares.publishable import publish_problem


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """A day written as people and ISO 8601 write it (the option's help and errors show no strftime pattern)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a day as YYYY-MM-DD (e.g. 2027-06-30)") from None


@click.command("check", short_help="Check contracts against the deployed mesh, and the governance rules.")
@selection_options
@click.option("--baseline", "baseline_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A folder with the deployed manifests (<domain>/manifest.json, e.g. a copy of .mesh/state/prod).")
@click.option("--baseline-ref", default=None, metavar="REF",
              help="A git ref (e.g. origin/main): what differs from it is read from git and parsed.")
@click.option("--baseline-store", "--baseline-stage", "baseline_store", default=None, metavar="LOCATION",
              help="A state store's deployed records: a folder, s3://, gs://, az:// or @DB.SCHEMA.STAGE "
              "(default: the target's store, docs/deploying.md).")
@target_option("dbt target the working tree is parsed with (default: mesh.yml's).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text, json, junit (XML for CI test reports) or github (workflow annotations).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file instead of standard output.")
@click.option("--junit-xml", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a JUnit XML report to this file.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="cores",
              help="Domains parsed at the same time.")
@click.option("--no-cache", is_flag=True,
              help="Parse every domain, even those unchanged since an earlier check (see docs/ci.md).")
@click.option("--as-of", callback=_day, default=None, metavar="YYYY-MM-DD",
              help="Judge deprecation dates as of this day (default: today).")
@click.pass_context
@handle_errors
def command(ctx: click.Context, domains: tuple[str, ...],
            baseline_dir: Path | None, baseline_ref: str | None, baseline_store: str | None,
            target: str | None, fmt: str, output: Path | None, junit_xml: Path | None, jobs: int,
            no_cache: bool, as_of: date | None) -> None:
    """Check public models' contracts against the deployed mesh, and the mesh's governance rules.

    The whole mesh is parsed (a change's impact crosses domains); `-s/--select` and `--exclude` keep the report to
    the findings of those domains. Exit code 0 when clean (warnings and notices allowed), 1 on any error-level
    finding, 2 on bad input.
    """
    config = mesh_config(ctx)
    options = CheckOptions(target, baseline_dir, baseline_ref, baseline_store, as_of,
                           jobs=jobs, cache=not no_cache)
    with err_console.status("parsing the mesh and its baseline…"):
        report = run_check(config, options, publish_problem)
    if domains:
        report = replace(report, domains=[d for d in report.domains if d in domains],
                         findings=[f for f in report.findings if f.domain in domains])
    text = render(report, fmt)
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
        err_console.print(f"{report.summary()}; report written to {output}", highlight=False)
    else:
        click.echo(text)
    if junit_xml is not None:
        junit_xml.write_text(render(report, "junit") + "\n", encoding="utf-8")
    sys.exit(report.exit_code)
