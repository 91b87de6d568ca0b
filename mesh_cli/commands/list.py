"""`mesh list`: domains, owners, data products (with their health), public models and upstreams."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import click
from rich.markup import escape

from mesh_cli.catalog.index import build_catalog
from mesh_cli.commands.common import console, err_console, format_option, handle_errors, mesh_config, target_option
from mesh_cli.commands.product import health_line
from mesh_cli.dbt.inventory import load_inventory


@click.command("list", short_help="Domains with their owners, data products and upstreams.")
@target_option("Read manifests of this target (default: mesh.yml's).")
@format_option()
@click.pass_context
@handle_errors
def command(ctx: click.Context, target: str | None, as_json: bool) -> None:
    """Domains with their owners, data products (`mesh product DOMAIN.PRODUCT` shows one) with their health,
    public models and upstreams."""
    config = mesh_config(ctx)
    target = target or config.default_target
    inventory = load_inventory(config, target)
    if not inventory.graph.domains:   # a new mesh: nothing to list is no error, but it is said
        if as_json:
            click.echo("[]")
        err_console.print(f"no domains in {config.domains_dir} yet: create one with `mesh init domain NAME`",
                          highlight=False, soft_wrap=True)
        return
    products: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for product in build_catalog(config, target).products:
        products[product["domain"]].append({"id": product["id"], "name": product["name"],
                                            "models": [m["name"] for m in product["models"]],
                                            "health": product["build"]["health"]})
    rows: list[dict[str, Any]] = []   # as --format json prints them
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
            "products": products[name],
        })
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    console.print(f"[bold]mesh {escape(config.name)}[/bold]: {len(rows)} domains", highlight=False)
    for row in rows:   # one block a domain, `key: value` lines the terminal wraps: no name or e-mail is cut
        contact = " ".join(filter(None, [row["owner"], f"<{row['owner_email']}>" if row["owner_email"] else None]))
        console.print(f"\n[bold]{escape(row['domain'])}[/bold]  {escape(contact or 'no owner declared')}",
                      highlight=False, soft_wrap=True)
        for product in row["products"]:
            console.print(f"  product {escape(product['id'])}: {health_line(product['health'])}",
                          highlight=False, soft_wrap=True)
            console.print(f"    models: {escape(', '.join(product['models']))}", highlight=False, soft_wrap=True)
        unlisted = [m for m in row["public_models"]
                    if m.split(".")[0] not in {name for p in row["products"] for name in p["models"]}]
        if unlisted:
            console.print(f"  public models in no product: {escape(', '.join(unlisted))}", highlight=False,
                          soft_wrap=True)
        console.print(f"  upstreams: {escape(', '.join(row['upstreams']) or '-')}; downstreams: "
                      f"{escape(', '.join(row['downstreams']) or '-')}", highlight=False, soft_wrap=True)
