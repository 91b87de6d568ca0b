"""`mesh orchestrate`: the domain graph as a file an orchestrator's DAG file reads, and the two steps around a domain
built one model a task (docs/orchestration.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mesh_cli.build.handover import per_model_entry, prepare, record
from mesh_cli.commands.common import console, handle_errors, mesh_config, target_option
from mesh_cli.core.errors import MeshError
from mesh_cli.core.safe_io import write_text_atomic
from mesh_cli.deployed.location import lease_term
from mesh_cli.orchestrate.graph_file import graph_file


@click.group("orchestrate", short_help="Run the mesh on an orchestrator (Airflow).")
def command() -> None:
    """Run the mesh on an orchestrator (Airflow): the files it reads."""


@command.command("graph", short_help="Write the domain graph a DAG file reads (no dbt).")
@target_option("The target the orchestrated runs deploy to.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the graph file here (default: standard output).")
@click.option("--per-model", "per_model", multiple=True, metavar="DOMAIN",
              help="Render this domain one task a model (Cosmos): parses it and writes its manifest beside --out. "
                   "Repeat for several domains.")
@click.pass_context
@handle_errors
def graph(ctx: click.Context, target: str | None, out: Path | None, per_model: tuple[str, ...]) -> None:
    """Write the domain graph (upstreams, products as assets, what each domain reads) for DAG files: no dbt runs
    while the orchestrator parses them."""
    config = mesh_config(ctx)
    if per_model and out is None:
        raise MeshError("--per-model writes each domain's manifest beside the graph file: give --out FILE")
    target = target or config.default_target
    entries = {name: per_model_entry(config, name, target, out.with_name(f"{out.stem}.{name}.manifest.json"))
               for name in per_model if out is not None}
    text = json.dumps(graph_file(config, target, entries), indent=2)
    if out is None:
        click.echo(text)
        return
    write_text_atomic(out, text + "\n")
    console.print(f"wrote {out}; next: point mesh_dags() at it in your DAG file (docs/orchestration.md)",
                  highlight=False)


@command.command("prepare", short_help="Start a per-model build: lease, gates, raw data, parse.")
@click.argument("domain")
@target_option("The target the domain deploys to.")
@click.option("--run-id", default="", help="The orchestrator's run: `record` refuses another run's handover.")
@click.option("--lease-minutes", type=click.FloatRange(min=0, min_open=True), default=None,
              help="How long the lease stays held for the per-model tasks and record (default: the lease term, "
                   "`state: lease_seconds`).")
@click.pass_context
@handle_errors
def prepare_command(ctx: click.Context, domain: str, target: str | None, run_id: str,
                    lease_minutes: float | None) -> None:
    """Do what `mesh build DOMAIN` does before its `dbt build` (take the lease, pull the records, run the gates, land
    the raw data, parse) and leave the lease held, with a handover for `mesh orchestrate record`."""
    config = mesh_config(ctx)
    seconds = lease_minutes * 60 if lease_minutes is not None else lease_term(config)
    handover = prepare(config, domain, target or config.default_target, run_id=run_id, lease_seconds=seconds)
    console.print(f"{domain} prepared on {handover.target}: lease held until record runs (at most {seconds:.0f} s)"
                  + (f"; raw data landed in {', '.join(handover.loaded_sources)}" if handover.loaded_sources
                     else "")
                  + (f"; stale sources: {', '.join(handover.stale_sources)}" if handover.stale_sources else ""),
                  highlight=False)


@command.command("record", short_help="End a per-model build: push its record, free the lease.")
@click.argument("domain")
@target_option("The target the domain deploys to.")
@click.option("--run-id", default="", help="The orchestrator's run, as given to `prepare`.")
@click.pass_context
@handle_errors
def record_command(ctx: click.Context, domain: str, target: str | None, run_id: str) -> None:
    """Merge the per-model tasks' run results; when every node succeeded push the domain's record as `mesh build`
    does (exit 1 naming the failed nodes otherwise); release the lease."""
    config = mesh_config(ctx)
    recorded = record(config, domain, target or config.default_target, run_id=run_id)
    console.print(f"{domain} deployed on {recorded.handover.target}: {recorded.nodes} node(s) built one task a "
                  f"model, record generation {recorded.generation}", highlight=False)
