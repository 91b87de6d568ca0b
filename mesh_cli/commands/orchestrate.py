"""`mesh orchestrate graph`: the domain graph as a file an orchestrator's DAG file reads (docs/orchestration.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mesh_cli.commands.common import console, handle_errors, mesh_config, target_option
from mesh_cli.core.safe_io import write_text_atomic
from mesh_cli.orchestrate.graph_file import graph_file


@click.group("orchestrate", short_help="Run the mesh on an orchestrator (Airflow).")
def command() -> None:
    """Run the mesh on an orchestrator (Airflow): the files it reads."""


@command.command("graph", short_help="Write the domain graph a DAG file reads (no dbt).")
@target_option("The target the orchestrated runs deploy to.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the graph file here (default: standard output).")
@click.pass_context
@handle_errors
def graph(ctx: click.Context, target: str | None, out: Path | None) -> None:
    """Write the domain graph (upstreams, products as assets, what each domain reads) for DAG files: no dbt runs
    while the orchestrator parses them."""
    config = mesh_config(ctx)
    text = json.dumps(graph_file(config, target or config.default_target), indent=2)
    if out is None:
        click.echo(text)
        return
    write_text_atomic(out, text + "\n")
    console.print(f"wrote {out}; next: point mesh_dags() at it in your DAG file (docs/orchestration.md)",
                  highlight=False)
