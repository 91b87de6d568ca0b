"""`mesh init mesh DIR` and `mesh init domain NAME`: self-serve scaffolding."""

from __future__ import annotations

from pathlib import Path

import click

from mesh_cli.commands.common import console, handle_errors, mesh_config, selection_options
from mesh_cli.scaffold import init_domain, init_mesh, init_workflows
from mesh_cli.scaffold.adopt import Adoption, adopt


@click.group("init", short_help="Start a new mesh repository or a new domain.")
def command() -> None:
    """Start a new mesh repository or a new domain."""


@command.command("mesh", short_help="Write a new mesh repository, or adopt dbt projects (--adopt).")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="Mesh name (default: the folder's name).")
@click.option("--adopt", "adopted", multiple=True, type=click.Path(path_type=Path),
              help="An existing dbt project folder inside DIRECTORY to make a domain (repeatable).")
@click.option("--apply", "apply_fixes", is_flag=True,
              help="With --adopt: make the safe fixes too (profiles, dependencies.yml, domain.yml); never a "
                   "contract type or model SQL.")
@handle_errors
def mesh(directory: Path, name: str | None, adopted: tuple[Path, ...], apply_fixes: bool) -> None:
    """Write a new mesh repository into DIRECTORY (new, empty, or holding only a repository's .git, dotfiles,
    README and LICENSE, which stay: `mesh init mesh .` works), or with --adopt a mesh.yml into the existing
    DIRECTORY over dbt projects already there."""
    if adopted:
        _report(adopt(directory, list(adopted), name, apply=apply_fixes))
        return
    root = init_mesh(directory, name)
    go = "" if root == Path.cwd().resolve() else f"cd {directory} && "
    console.print(f"created mesh repository {root}", highlight=False, soft_wrap=True)
    console.print(f"next: {go}mesh init domain NAME --owner TEAM@EXAMPLE.COM", highlight=False, soft_wrap=True)


@command.command("domain", short_help="Write domains/NAME/: a dbt project with a starter product.")
@click.argument("name")
@click.option("--owner", default=None, help="The owning team's e-mail address.")
@click.option("--upstream", "upstreams", default="", help="Upstream domains it reads, comma-separated.")
@click.option("--product", default=None, help="Name of the starter data product (default: NAME_core).")
@click.pass_context
@handle_errors
def domain(ctx: click.Context, name: str, owner: str | None, upstreams: str, product: str | None) -> None:
    """Write domains/NAME/: a dbt project with a starter data product that builds as it is."""
    names = tuple(dict.fromkeys(part.strip() for part in upstreams.split(",") if part.strip()))
    path = init_domain(mesh_config(ctx), name, owner=owner, upstreams=names, product=product)
    console.print(f"created domain {name} at {path}", highlight=False, soft_wrap=True)
    if owner is None:   # a placeholder is written, and said: the catalogue shows the owner to every consumer
        console.print(f"[yellow]owner[/yellow]: no --owner given; {name}-data@example.com is a placeholder: put "
                      f"the owning team's address in {path / 'domain.yml'}", highlight=False, soft_wrap=True)
    chosen = f"+{name}" if names else name   # its upstreams must be built before it can read them
    console.print(f"next: mesh provision -s {chosen} && mesh build -s {chosen}", highlight=False, soft_wrap=True)


def _report(adoption: Adoption) -> None:
    for path in adoption.written:
        console.print(f"wrote {path.relative_to(adoption.root)}", highlight=False)
    for manifest, project in sorted(adoption.loom.items()):
        console.print(f"dbt-loom manifest {manifest} -> project {project}", highlight=False)
    for note in adoption.notes:
        console.print(note, highlight=False)
    for finding in adoption.applied:
        console.print(f"[green]{finding.project}[/]: fixed: {finding.problem}\n  applied: {finding.fix}",
                      highlight=False)
    for finding in adoption.findings:
        safe = " (safe: --apply makes it)" if finding.safe else ""
        console.print(f"[yellow]{finding.project}[/]: {finding.problem}\n  fix{safe}: {finding.fix}",
                      highlight=False)
    count = len(adoption.findings)
    console.print(f"adopted {len(adoption.domains)} project(s) on target {adoption.target!r}; " + (
        f"{count} thing(s) stand in the way of `mesh build` (above)" if count else "next: mesh build"),
        highlight=False)
    console.print("governance rules start as warnings (mesh.yml `check: rules:`); `mesh check` lists what to fix",
                  highlight=False)


@command.command("workflow", short_help="Write a GitHub deploy workflow for domains without one.")
@selection_options
@click.pass_context
@handle_errors
def workflow(ctx: click.Context, domains: tuple[str, ...]) -> None:
    """Write .github/workflows/deploy-DOMAIN.yml for the selected domains (all when none is) that have none: each
    checks its domain on pull requests and deploys it alone on merge (docs/deploying.md)."""
    config = mesh_config(ctx)
    written, kept = init_workflows(config, domains)
    for path in written:
        console.print(f"wrote {path.relative_to(config.root)}", highlight=False)
    for path in kept:
        console.print(f"kept {path.relative_to(config.root)} (exists)", highlight=False)
