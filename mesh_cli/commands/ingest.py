"""`mesh ingest`: land each domain's raw data (docs/ingestion.md)."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from mesh_cli.commands.common import (
    console,
    err_console,
    format_option,
    handle_errors,
    mesh_config,
    plan_option,
    selection_options,
    target_option,
)
from mesh_cli.core.plan import exit_code
from mesh_cli.ingest import DomainIngest, ingest


def _as_dict(result: DomainIngest) -> dict[str, object]:
    return {"domain": result.domain, "adapter": result.adapter, "ok": result.ok, "error": result.error,
            "tables": [vars(table) for table in result.tables],
            "plan": result.plan.to_dict() if result.plan else None,
            "applied": [{"sql": a.statement.sql, "ok": a.ok, "error": a.error} for a in result.applied.applied]
            if result.applied else None}


def _print_local(results: list[DomainIngest], plan_only: bool) -> None:
    table = Table(title="mesh ingest" + (" --plan" if plan_only else ""))
    columns = ("source table", "mode", "files to load") if plan_only else \
        ("source table", "mode", "files", "rows", "rejected", "skipped files")
    for column in columns:
        table.add_column(column)
    for result in results:
        for load in result.tables:
            if plan_only:
                table.add_row(load.table, load.mode, str(len(load.pending)))
            else:
                table.add_row(load.table, load.mode, str(len(load.files_loaded)), str(load.rows_loaded),
                              str(load.rows_rejected), str(len(load.files_skipped)))
    console.print(table)
    for result in results:
        for load in result.tables:
            for line in [*load.files_skipped, *load.rejected, *load.pending]:
                console.print(f"  {load.table}: {line}", highlight=False)


@click.command("ingest", short_help="Load each domain's new raw files into its landing tables.")
@selection_options
@plan_option("Show what would change and load (the statements; DuckDB: and the new files) without running it.")
@target_option("dbt target (dev = DuckDB loads local files; prod = Snowflake objects and loads).")
@click.option("--full-refresh", is_flag=True, help="Allow destructive changes: recreate landing tables, pipes, "
              "stages whose definition changed (their load history is lost: every file loads again).")
@click.option("--allow-destroy", is_flag=True, help="Apply plans that replace landing tables, pipes or stages "
              "(with --full-refresh); refused otherwise.")
@format_option()
@click.pass_context
@handle_errors
def command(ctx: click.Context, domains: tuple[str, ...], plan_only: bool, target: str | None,
            full_refresh: bool, allow_destroy: bool, as_json: bool) -> None:
    """Load each domain's new raw files into its landing tables, each file once (`mesh ingest -s orders`)."""
    results = ingest(mesh_config(ctx), domains, target, full_refresh=full_refresh, plan_only=plan_only,
                     allow_destroy=allow_destroy)
    if as_json:
        click.echo(json.dumps([_as_dict(result) for result in results], indent=2, default=str))
    elif not results:
        console.print("no domain declares ingestion (sources with config.meta.data_mesh.ingest)")
    else:
        for result in results:   # the plan: in full for a warehouse, where it changes something for local files
            if result.plan is not None and (not result.tables or not result.plan.empty or result.plan.notes):
                click.echo(result.plan.to_sql())
        if any(result.tables for result in results):
            _print_local([r for r in results if r.tables], plan_only)
        for result in results:
            if result.error:
                err_console.print(f"[red]error:[/red] {result.error}", highlight=False, soft_wrap=True)
    sys.exit(exit_code(results))
