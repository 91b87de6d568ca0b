"""`mesh product DOMAIN.PRODUCT`: one data product in the terminal, as the catalogue shows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from rich.table import Table

from mesh_cli.catalog.display import local_time, relative_age
from mesh_cli.catalog.index import build_catalog, find_product
from mesh_cli.commands.common import console, handle_errors, mesh_config, target_option
from mesh_cli.core.errors import MeshError


def _built(value: Any, now: datetime) -> str:
    """`1 Dec 2026, 13:21 UTC (2 h ago)`, or `never`."""
    return f"{local_time(value)} ({relative_age(value, now)})" if value else "never"


def _facts(product: dict[str, Any], now: datetime) -> Table:
    build, fresh = product["build"], product["build"]["freshness"]
    owner = product["owner"] or {}
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("owner", " ".join(filter(None, [owner.get("name"), f"<{owner['email']}>" if owner.get("email") else None]))
         or "none declared"),
        ("contacts", "; ".join(f"{c['name']} ({c.get('role', '')})" for c in product["contacts"]) or "-"),
        ("confidentiality", product["confidentiality"]),
        ("tags", ", ".join(product["tags"]) or "-"),
        ("freshness", fresh["status"] + (f", SLA {fresh['sla_hours']} h" if fresh["sla_hours"] is not None else "")),
        ("last built", _built(fresh["last_built"], now)),
        ("last build", f"{build['status']}; tests " + (", ".join(f"{n} {s}" for s, n in build["tests"].items())
                                                       or "none")),
        ("consumers", ", ".join(product["consumers"]["domains"] + product["consumers"]["accounts"]) or "none"),
        ("read by", ", ".join(f"{u['used_by']} ({u['model']})" for u in product["consumers"]["used_by"]) or "-"),
        ("share", product["publish"]["status"]),
        ("access", product["access"]["snowflake_accounts"]),
    ]
    rows += [("deprecated", f"{d['model']} after {local_time(d['date'])}, read by "
                            f"{', '.join(d['used_by']) or 'nobody'}") for d in product["deprecations"]]
    rows += [("failing test", f"{t['test']} on {t['model']}: {t['status']}") for t in build["failing_tests"]]
    for key, value in rows:
        table.add_row(key, value)
    return table


def _columns(version: dict[str, Any]) -> Table:
    title = f"{version['id']}" + (f" (deprecated, removed after {local_time(version['deprecation_date'])})"
                                   if version["deprecation_date"] else "")
    table = Table(title=title, title_justify="left")
    for name in ("column", "type", "description", "masking", "tags", "tests"):
        table.add_column(name)
    for column in version["columns"]:
        table.add_row(column["name"], column["data_type"] or "", column["description"], column["masking"] or "",
                      ", ".join(column["tags"]), ", ".join(t["name"] for t in column["tests"]))
    return table


@click.command("product")
@click.argument("product_id", metavar="DOMAIN.PRODUCT")
@target_option("Read manifests and results of this target (default: mesh.yml's).")
@click.option("--json", "as_json", is_flag=True, help="Print the product's catalogue entry as JSON.")
@click.pass_context
@handle_errors
def command(ctx: click.Context, product_id: str, target: str | None, as_json: bool) -> None:
    """One data product: owner, SLA and freshness, models and columns, consumers, build and share status."""
    config = mesh_config(ctx)
    target = target or config.default_target
    now = datetime.now(UTC)
    catalog = build_catalog(config, target, now=now, only={product_id.split(".")[0]})
    product = find_product(catalog, product_id)
    if product is None:   # say every product of the mesh, not only those of the domain named
        known = ", ".join(p["id"] for p in build_catalog(config, target, now=now).products)
        raise MeshError(f"no data product {product_id!r} (products: {known or 'none'}); name one as DOMAIN.PRODUCT")
    if as_json:
        click.echo(json.dumps(product, indent=2))
        return
    console.print(f"[bold]{product['id']}[/bold]  {product['description']}", highlight=False)
    console.print(_facts(product, now))
    for model in product["models"]:
        for version in model["versions"]:
            console.print(_columns(version))
