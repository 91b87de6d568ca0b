"""`mesh state`: the deployed records of a target's state store (docs/deploying.md): list them, or pull a domain's
and its upstreams' into the working state folder (an orchestrator's first task of a domain)."""

from __future__ import annotations

import json

import click
from rich.table import Table

from mesh_cli.commands.common import (
    console,
    format_option,
    handle_errors,
    mesh_config,
    selection_options,
    target_option,
)
from mesh_cli.core.domains import discover_domains, require_domains
from mesh_cli.deployed.location import target_store
from mesh_cli.deployed.record import read_packed
from mesh_cli.deployed.sync import deployed_domains, pull_records, record_key


@click.group("state")
def command() -> None:
    """The deployed records of a target's state store."""


@command.command("pull", short_help="Pull domains' records and their upstreams' into the state folder.")
@selection_options
@target_option("The target whose records to pull.")
@click.pass_context
@handle_errors
def pull(ctx: click.Context, domains: tuple[str, ...], target: str | None) -> None:
    """Pull the records of the selected domains (`mesh state pull finance`, `-s +finance`; all when none is
    selected) and of their upstreams into the state folder; an upstream without a record is an error naming it
    (exit 2)."""
    config = mesh_config(ctx)
    target = target or config.default_target
    found = require_domains(config, discover_domains(config), "pull")
    domains = domains or tuple(found)
    upstreams = sorted({up for name in domains for up in found[name].upstreams} - set(domains))
    store = target_store(config, target).store
    pulled = pull_records(store, target, [*upstreams, *domains], config.manifests_dir(target), required=upstreams)
    for name, generation in pulled.items():
        console.print(f"{name}: {'no record yet' if generation is None else 'pulled'} from {store.location}",
                      highlight=False)


@command.command("list", short_help="Each deployed domain's record: when, by whom, which commit.")
@target_option("The target whose records to list.")
@format_option()
@click.pass_context
@handle_errors
def list_records(ctx: click.Context, target: str | None, as_json: bool) -> None:
    """Each deployed domain's record: when, by whom, from which commit, with which dbt."""
    config = mesh_config(ctx)
    target = target or config.default_target
    store = target_store(config, target).store
    rows = []
    for name in deployed_domains(store, target):
        found = store.get(record_key(target, name))
        if found is not None:
            meta, _ = read_packed(found.data, f"{store.location}: the record of {name} ({target})")
            rows.append({**meta.to_dict(), "generation": found.generation})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"deployed records of {target} on {store.location}")
    for column in ("domain", "written at", "writer", "commit", "dbt"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["domain"], row["written_at"], row["writer"], (row["commit"] or "-")[:12],
                      row["dbt_version"] or "-")
    console.print(table if rows else f"no deployed records of {target} on {store.location}")
