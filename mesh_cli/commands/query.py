"""`mesh query`: one read-only SELECT against a domain's database as given roles (anything else: exit 2)."""

from __future__ import annotations

import json

import click
from rich.table import Table

from mesh_cli.commands.common import console, format_option, handle_errors, mesh_config, target_option
from mesh_cli.governance.query import run_query


@click.command("query", short_help="Run one read-only SELECT in a domain's database as given roles.")
@click.argument("domain")
@click.argument("sql")
@click.option("--role", "roles", multiple=True, help="A role in session (repeatable); inherited roles count too.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="Rows shown at most.")
@format_option()
@target_option()
@click.pass_context
@handle_errors
def command(ctx: click.Context, domain: str, sql: str, roles: tuple[str, ...], limit: int, as_json: bool,
            target: str | None) -> None:
    """Run one read-only SELECT in DOMAIN's database (upstreams attached) as the given roles.

    Example: mesh query customers "select email, region from marts.dim_customers_v2" --role EMEA_ANALYST
    """
    config = mesh_config(ctx)
    result = run_query(config, domain, sql, list(roles), target or config.default_target, limit)
    if as_json:
        click.echo(json.dumps({"roles": result.roles, "columns": result.columns,
                               "rows": [dict(zip(result.columns, row, strict=True)) for row in result.rows],
                               "truncated": result.truncated}, indent=2, default=str))
        return
    table = Table(title=f"{domain} as {', '.join(result.roles) or 'no role'}")
    for column in result.columns:
        table.add_column(column)
    for row in result.rows:
        table.add_row(*("NULL" if value is None else str(value) for value in row))
    console.print(table)
    console.print(f"{len(result.rows)} row(s)" + (f", more left out (--limit {limit})" if result.truncated else ""))
