"""`mesh product DOMAIN.PRODUCT`: one data product in the terminal, as the catalogue shows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from rich.markup import escape

from mesh_cli.catalog.display import local_time, relative_age
from mesh_cli.catalog.index import build_catalog, find_product
from mesh_cli.commands.common import console, format_option, handle_errors, mesh_config, target_option
from mesh_cli.core.errors import MeshError

HEALTH_STYLE = {"healthy": "green", "warning": "yellow", "failing": "bold red", "never built": "dim"}


def _built(value: Any, now: datetime) -> str:
    """`1 Dec 2026, 13:21 UTC (2 h ago)`, or `never`."""
    return f"{local_time(value)} ({relative_age(value, now)})" if value else "never"


def health_line(health: dict[str, Any]) -> str:
    """`failing: last build failed (...); 2 tests failed` (markup: the status in its colour)."""
    style = HEALTH_STYLE.get(health["status"], "white")
    reasons = "; ".join(health["reasons"])
    return f"[{style}]{health['status']}[/{style}]" + (f": {escape(reasons)}" if reasons else "")


def _facts(product: dict[str, Any], now: datetime) -> list[tuple[str, str]]:
    build, fresh = product["build"], product["build"]["freshness"]
    owner = product["owner"] or {}
    tests = build["health"]["tests"]
    last = f"{build['status']}" + (f" at {_built(build['finished_at'], now)}" if build["finished_at"] else "") + (
        f": {build['reason']}" if build.get("reason") else "")
    rows = [
        ("owner", " ".join(filter(None, [owner.get("name"), f"<{owner['email']}>" if owner.get("email") else None]))
         or "none declared"),
        ("contacts", "; ".join(f"{c['name']} ({c.get('role', '')})" for c in product["contacts"]) or "-"),
        ("confidentiality", product["confidentiality"]),
        ("tags", ", ".join(product["tags"]) or "-"),
        ("freshness", fresh["status"] + (f", SLA {fresh['sla_hours']} h" if fresh["sla_hours"] is not None else "")),
        ("last built", _built(fresh["last_built"], now)),
        ("last build", last),
        ("last success", _built(build.get("last_success"), now)),
        ("tests", ", ".join(f"{n} {word}" for word, n in tests.items() if n) or "none ran"),
        ("sources", "; ".join(f"{s['source']} {s['status'] or 'not checked'}, newest row "
                              f"{_built(s['max_loaded_at'], now)}"
                              for s in build["sources"]) or "-"),
        ("consumers", ", ".join(product["consumers"]["domains"] + product["consumers"]["accounts"]) or "none"),
        ("read by", ", ".join(f"{u['used_by']} ({u['model']})" for u in product["consumers"]["used_by"]) or "-"),
        ("share", product["publish"]["status"]),
        ("access", product["access"]["snowflake_accounts"]),
    ]
    rows += [("deprecated", f"{d['model']} after {local_time(d['date'])}, read by "
                            f"{', '.join(d['used_by']) or 'nobody'}") for d in product["deprecations"]]
    rows += [("failing test", f"{t['test']} on {t['model']}: {t['status']}") for t in build["failing_tests"]]
    return rows


def _print_columns(version: dict[str, Any]) -> None:
    """A version's columns, one line each: name and type whole (never cut at any width), then what is known."""
    title = f"{version['id']}" + (f" (deprecated, removed after {local_time(version['deprecation_date'])})"
                                   if version["deprecation_date"] else "")
    console.print(f"\n[bold]{escape(title)}[/bold]", highlight=False, soft_wrap=True)
    for column in version["columns"]:
        extra = [column["description"], f"masked by {column['masking']}" if column["masking"] else "",
                 f"tags {', '.join(column['tags'])}" if column["tags"] else "",
                 f"tests {', '.join(t['name'] for t in column['tests'])}" if column["tests"] else ""]
        detail = "; ".join(part for part in extra if part)
        console.print(f"  {escape(column['name'])}  [dim]{escape(column['data_type'] or '')}[/dim]"
                      + (f"  {escape(detail)}" if detail else ""), highlight=False, soft_wrap=True)


@click.command("product", short_help="One data product: owner, health, freshness, columns, consumers.")
@click.argument("product_id", metavar="DOMAIN.PRODUCT")
@target_option("Read manifests and results of this target (default: mesh.yml's).")
@format_option()
@click.pass_context
@handle_errors
def command(ctx: click.Context, product_id: str, target: str | None, as_json: bool) -> None:
    """One data product: owner, SLA and freshness, models and columns, consumers, build and share status
    (`mesh list` names every product)."""
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
    console.print(f"[bold]{escape(product['id'])}[/bold]  {escape(product['description'])}", highlight=False,
                  soft_wrap=True)
    console.print(f"health: {health_line(product['build']['health'])}", highlight=False, soft_wrap=True)
    for key, value in _facts(product, now):   # `key: value` lines the terminal wraps: no email or name is cut
        console.print(f"[bold]{key}[/bold]: {escape(value)}", highlight=False, soft_wrap=True)
    for model in product["models"]:
        for version in model["versions"]:
            _print_columns(version)
