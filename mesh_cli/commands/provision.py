"""`mesh provision`: create or reconcile each domain's database, schemas, warehouse, monitor and roles."""

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
from mesh_cli.core.destroy import describe
from mesh_cli.core.plan import Plan, Statement, exit_code
from mesh_cli.provision import provision


def _said(statement: Statement) -> str:
    """A statement in words: what it does to which object, and why (an engine's internal statements)."""
    remarks = [remark for remark in (statement.reason, "destructive" if statement.destructive else "") if remark]
    return describe(statement, in_words=True) + (f" ({'; '.join(remarks)})" if remarks else "")


def _plan_in_words(plan: Plan) -> str:
    lines = [plan.title, *(f"  note: {note}" for note in plan.notes), *(f"  {_said(s)}" for s in plan.statements)]
    return "\n".join(lines if plan.statements else [*lines, "  nothing to change"]) + "\n"


@click.command("provision", short_help="Create or reconcile each domain's database, roles and warehouse.")
@selection_options
@plan_option("Print the ordered statements without running them (prod: offline without credentials).")
@click.option("--prune", is_flag=True, help="Also drop or revoke what the mesh created and no longer declares.")
@click.option("--allow-destroy", is_flag=True, help="Apply the drops and revokes `--prune` plans (refused otherwise).")
@click.option("--verbose", "-v", is_flag=True, help="Print every statement run (failed ones are always printed).")
@format_option()
@target_option("Target to provision (dev = DuckDB files and recorded roles, prod = Snowflake).")
@click.pass_context
@handle_errors
def command(ctx: click.Context, domains: tuple[str, ...], plan_only: bool, prune: bool, allow_destroy: bool,
            verbose: bool, as_json: bool, target: str | None) -> None:
    """Reconcile the declared footprint of every domain (or the selected ones) with the warehouse."""
    result = provision(mesh_config(ctx), domains, target, plan_only=plan_only, prune=prune,
                       allow_destroy=allow_destroy)
    if as_json:
        click.echo(json.dumps({"target": result.target, "adapter": result.adapter, "applied": not plan_only,
                               "ok": result.ok, "plans": [plan.to_dict() for plan in result.plans]}, indent=2))
    elif plan_only:
        for plan in result.plans:
            click.echo(_plan_in_words(plan) if result.internal_sql else plan.to_sql())
    else:
        for applied in result.applied:   # the statements are the plan's (`--plan`); a failed one is said in full
            for item in applied.applied:
                if verbose or not item.ok:
                    mark = "[green]ok[/green]" if item.ok else f"[red]failed[/red] {item.error}"
                    shown = item.statement.sql    # a failed internal statement is shown in full too
                    if result.internal_sql:
                        shown = _said(item.statement) + ("" if item.ok else f": {item.statement.sql}")
                    console.print(f"{mark} {shown}", highlight=False, soft_wrap=True)
            for note in applied.plan.notes:
                console.print(f"[yellow]note[/yellow] {note}", highlight=False, soft_wrap=True)
        done = sum(len(a.applied) for a in result.applied)
        console.print(f"provisioned {len(result.footprint.domains)} domain(s) on {result.adapter} "
                      f"({result.target}): {done} statement(s)" + ("" if done else ", nothing to change")
                      + ("" if verbose or not done else " (--plan or -v shows them)"), highlight=False,
                      soft_wrap=True)
        if result.ok and done:
            console.print("next: mesh build" + (f" -s {' -s '.join(domains)}" if domains else ""), highlight=False)
    sys.exit(exit_code([result]))
