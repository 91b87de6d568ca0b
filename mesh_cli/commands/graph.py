"""`mesh graph`: the domain graph and the model edges that cross domains."""

from __future__ import annotations

import click

from mesh_cli.catalog.graph_render import FORMATS, render
from mesh_cli.commands.common import handle_errors, mesh_config, target_option
from mesh_cli.dbt.inventory import load_inventory


@click.command("graph")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@target_option("Read manifests of this target (default: mesh.yml's).")
@click.pass_context
@handle_errors
def command(ctx: click.Context, fmt: str, target: str | None) -> None:
    """The domain graph and the model edges that cross domains."""
    config = mesh_config(ctx)
    click.echo(render(load_inventory(config, target or config.default_target), fmt))
