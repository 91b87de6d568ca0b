"""The `mesh` command: a thin click layer; every subcommand is a module of `mesh_cli.commands`."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import click

from mesh_cli import __version__, commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mesh")
@click.option("--mesh-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The mesh repository (default: the nearest folder with a mesh.yml).")
@click.pass_context
def main(ctx: click.Context, mesh_dir: Path | None) -> None:
    """A data mesh on Snowflake, built on dbt: build, inspect and govern every domain."""
    ctx.obj = {"mesh_dir": mesh_dir}


for _module in pkgutil.iter_modules(commands.__path__):
    _command = getattr(importlib.import_module(f"{commands.__name__}.{_module.name}"), "command", None)
    if isinstance(_command, click.Command):
        main.add_command(_command)
