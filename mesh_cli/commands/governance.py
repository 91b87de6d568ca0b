"""`mesh governance`: what federated governance does on each engine."""

from __future__ import annotations

import json

import click

from mesh_cli.commands.common import handle_errors, mesh_config, target_option
from mesh_cli.governance.plan import governance_plan


@click.group("governance")
def command() -> None:
    """Tags, masking and row access policies of the mesh."""


@command.command("plan")
@click.argument("selectors", nargs=-1)
@target_option("Target whose DDL to print (prod = Snowflake; no credentials needed).")
@click.option("--json", "as_json", is_flag=True, help="Print the statements as JSON.")
@click.pass_context
@handle_errors
def plan(ctx: click.Context, selectors: tuple[str, ...], target: str | None, as_json: bool) -> None:
    """Print, per domain, the governance statements its build runs, in order, without running them."""
    config = mesh_config(ctx)
    plans = governance_plan(config, target or config.default_target, selectors)
    if as_json:
        click.echo(json.dumps([{"domain": p.domain, "target": p.target, "adapter": p.adapter,
                                "statements": list(p.statements)} for p in plans], indent=2))
        return
    for domain_plan in plans:
        click.echo(f"-- {domain_plan.domain} (target {domain_plan.target}, {domain_plan.adapter}): "
                   f"{len(domain_plan.statements)} statements")
        click.echo(domain_plan.sql())
