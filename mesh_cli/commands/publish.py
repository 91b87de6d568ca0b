"""`mesh publish`: reconcile the shares of data products with each domain's domain.yml."""

from __future__ import annotations

import json
import sys

import click

from mesh_cli.commands.common import (
    console,
    format_option,
    handle_errors,
    mesh_config,
    plan_option,
    selection_options,
    target_option,
)
from mesh_cli.core.lock import state_lock
from mesh_cli.core.plan import exit_code
from mesh_cli.shares.publish import FAILED, DomainPublish, publish

STYLE = {"published": "green", "unchanged": "white", "planned": "cyan", FAILED: "red"}


def print_publish(results: list[DomainPublish]) -> None:
    """One line per domain: what was published, what changed, what failed."""
    for result in results:
        style = STYLE.get(result.status, "white")
        if result.status == FAILED:
            detail = result.error or ""
        elif result.status == "planned":
            detail = f"{len(result.plan.statements) if result.plan else 0} statements planned"
        else:
            detail = f"{result.applied} statements applied" if result.applied else "nothing to change"
        detail += f"; {result.note}" if result.note else ""
        console.print(f"[{style}]{result.status:>9}[/{style}] {result.domain}  {detail}", highlight=False,
                      soft_wrap=True)


@click.command("publish", short_help="Publish data products as shares.")
@selection_options
@target_option("Target whose shares to reconcile (dev = DuckDB emulation, prod = Snowflake).")
@plan_option("Print the statements and change nothing (offline against an empty account without credentials).")
@click.option("--allow-destroy", is_flag=True,
              help="Apply plans that drop shares or revoke access whose declaration disappeared (refused otherwise).")
@click.option("--verbose", "-v", is_flag=True, help="Print the statements applied.")
@format_option()
@click.pass_context
@handle_errors
def command(ctx: click.Context, domains: tuple[str, ...], target: str | None, plan_only: bool, allow_destroy: bool,
            verbose: bool, as_json: bool) -> None:
    """Publish data products as shares: `mesh publish`, `mesh publish -s customers --target prod --plan`."""
    config = mesh_config(ctx)
    with state_lock(config.state_dir, "mesh publish " + " ".join(domains)):
        results = publish(config, target or config.default_target, list(domains), plan_only=plan_only,
                          allow_destroy=allow_destroy)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for result in results:   # applied, the statements are the plan's: -v (or --plan) shows them
            if result.plan is not None and (plan_only or (verbose and not result.plan.empty)):
                click.echo(result.plan.to_sql())
        print_publish(results)
        if not plan_only:
            done = sum(result.applied for result in results)
            console.print(f"published {len(results)} domain(s) on {target or config.default_target}: {done} "
                          "statement(s)" + ("" if done else ", nothing to change")
                          + ("" if verbose or not done else " (--plan or -v shows them)"), highlight=False,
                          soft_wrap=True)
    sys.exit(exit_code(results))
