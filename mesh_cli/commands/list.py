"""`mesh list`: domains, owners, public models and upstreams."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table

from mesh_cli.commands.common import console, err_console, handle_errors, mesh_config, target_option
from mesh_cli.dbt.inventory import load_inventory


@click.command("list")
@target_option("Read manifests of this target (default: mesh.yml's).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@handle_errors
def command(ctx: click.Context, target: str | None, as_json: bool) -> None:
    """Domains with their owners, public models and upstreams."""
    config = mesh_config(ctx)
    inventory = load_inventory(config, target or config.default_target)
    if not inventory.graph.domains:   # a new mesh: nothing to list is no error, but it is said
        if as_json:
            click.echo("[]")
        err_console.print(f"no domains in {config.domains_dir} yet: create one with `mesh init domain NAME`",
                          highlight=False, soft_wrap=True)
        return
    rows: list[dict[str, Any]] = []   # as --json prints them
    for name, view in inventory.views.items():
        owner = view.domain.owner
        rows.append({
            "domain": name,
            "description": view.domain.description,
            "owner": owner.name if owner else None,
            "owner_email": owner.email if owner else None,
            "upstreams": list(view.domain.upstreams),
            "downstreams": sorted(inventory.graph.graph.successors(name)),
            "public_models": [m.label.split(".", 1)[1] for m in view.public_models],
        })
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"mesh {config.name}: {len(rows)} domains")
    for column in ("domain", "owner", "public models", "upstreams"):
        table.add_column(column)
    for row in rows:
        contact = "\n".join(filter(None, [row["owner"], row["owner_email"]])) or "-"
        table.add_row(row["domain"], contact, "\n".join(row["public_models"]) or "-",
                      ", ".join(row["upstreams"]) or "-")
    console.print(table)
