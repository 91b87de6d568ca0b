"""`mesh governance --plan`: what federated governance does on each engine (`mesh build` applies it)."""

from __future__ import annotations

import json

import click

from mesh_cli.commands.common import (
    format_option,
    handle_errors,
    mesh_config,
    plan_option,
    select_and_exclude,
    select_domains,
    target_option,
)
from mesh_cli.core.errors import MeshError
from mesh_cli.governance.plan import governance_plan

TARGET_HELP = "Target whose DDL to print (prod = Snowflake; no credentials needed)."


@click.group("governance", invoke_without_command=True, subcommand_metavar="",
             short_help="Plan tags, masking and row access policies.")
@plan_option("Print, per domain, the governance statements its build runs, in order, without running them.")
@select_and_exclude("plan")
@target_option(TARGET_HELP)
@format_option()
@click.pass_context
@handle_errors
def command(ctx: click.Context, plan_only: bool, select: tuple[str, ...], exclude: tuple[str, ...],
            target: str | None, as_json: bool) -> None:
    """Tags, masking and row access policies of the mesh: `mesh build` applies them, `mesh governance --plan
    [-s SELECTOR]` prints the statements it runs."""
    if ctx.invoked_subcommand is not None:
        return
    if not plan_only:
        raise MeshError("`mesh build` applies governance; `mesh governance --plan` prints its statements")
    config = mesh_config(ctx)
    _print_plans(ctx, select_domains(config, select, exclude) if select or exclude else [], target, as_json)


@command.command("plan", hidden=True)   # `mesh governance plan`, as before `--plan`
@click.argument("selectors", nargs=-1)
@target_option(TARGET_HELP)
@format_option()
@click.pass_context
@handle_errors
def plan(ctx: click.Context, selectors: tuple[str, ...], target: str | None, as_json: bool) -> None:
    """The same as `mesh governance --plan -s SELECTOR...`."""
    _print_plans(ctx, list(selectors), target, as_json)


def _print_plans(ctx: click.Context, selectors: list[str], target: str | None, as_json: bool) -> None:
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
