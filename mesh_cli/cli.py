"""The `mesh` command: a thin click layer; every subcommand is a module of `mesh_cli.commands`, imported only
when it runs (each pulls in what it needs: dbt's adapters, DuckDB, networkx...), so `mesh` and the dbt worker
processes it spawns, which import this module again, start quickly."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from mesh_cli import __version__, commands

_NOT_COMMANDS = {"common"}


def command_modules() -> dict[str, str]:
    """Each subcommand's name and its module in `mesh_cli.commands` (`package_path` is `package-path`)."""
    return {module.name.replace("_", "-"): module.name for module in pkgutil.iter_modules(commands.__path__)
            if module.name not in _NOT_COMMANDS}


class LazyGroup(click.Group):
    """A group whose subcommands are imported when they are asked for (click's lazy-loading pattern), and whose
    usage errors read like every other error of mesh: one line, `error: ...`, exit 2."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        """click's `main`, whose errors this method prints itself (whatever `standalone_mode` asks)."""
        try:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("aborted", err=True)
            sys.exit(1)
        except click.exceptions.ClickException as exc:
            sys.exit(_print_click_error(exc))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(command_modules())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = command_modules().get(cmd_name)
        if module is None:
            return None
        command = getattr(importlib.import_module(f"{commands.__name__}.{module}"), "command", None)
        return command if isinstance(command, click.Command) else None


def _print_click_error(exc: click.exceptions.ClickException) -> int:
    """`error: No such option: --jsno (Possible options: --json)` and where to read more; returns the exit code."""
    hint = ""
    if isinstance(exc, click.exceptions.UsageError) and exc.ctx is not None:
        hint = f" (see `{exc.ctx.command_path} --help`)"
    message = " ".join(exc.format_message().split()).rstrip(".")
    click.echo(f"error: {message}{hint}", err=True)
    return exc.exit_code


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mesh")
@click.option("--mesh-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The mesh repository (default: the nearest folder with a mesh.yml).")
@click.pass_context
def main(ctx: click.Context, mesh_dir: Path | None) -> None:
    """A data mesh on Snowflake, built on dbt: build, inspect and govern every domain."""
    ctx.obj = {"mesh_dir": mesh_dir}
