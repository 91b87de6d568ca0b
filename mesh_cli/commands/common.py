"""What every subcommand shares: the consoles, the mesh config of the invocation, and error handling."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from rich.console import Console

from mesh_cli.core.config import MeshConfig, locate_config
from mesh_cli.core.errors import MeshError
from mesh_cli.core.safe_io import os_error_message

console = Console()
err_console = Console(stderr=True)


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Print a MeshError (or an OSError) as one line on stderr and exit with its code (2 for bad input)."""
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MeshError as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
        except OSError as exc:   # disk full, name too long, permission: one line, never a traceback
            err_console.print(f"[red]error:[/red] {os_error_message(exc)}", highlight=False, soft_wrap=True)
            sys.exit(2)
    return wrapper


def mesh_config(ctx: click.Context) -> MeshConfig:
    """The config of the mesh this invocation works on (`--mesh-dir`, else the nearest mesh.yml)."""
    return locate_config(ctx.find_root().obj["mesh_dir"])


def target_option(help_text: str = "dbt target (default: mesh.yml's default_target).") -> Callable[..., Any]:
    return click.option("--target", default=None, help=help_text)
