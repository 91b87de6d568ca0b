"""What every subcommand shares: the consoles, the mesh config of the invocation, and error handling."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape

from mesh_cli import __version__
from mesh_cli.core.config import STATE_DIR_ENV, MeshConfig, find_mesh_root, locate_config
from mesh_cli.core.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, INTERRUPTED, MeshError, raised_at
from mesh_cli.core.safe_io import os_error_message

console = Console()
err_console = Console(stderr=True)


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Print a MeshError (or an OSError on a file of the user's, `users_file`) as one line on stderr and exit with
    its code (2 for bad input); report any other exception as a bug in mesh (exit 3), its traceback saved to a file
    (`core.errors` lists the codes)."""
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MeshError as exc:
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:   # Ctrl-C: every write is whole or absent (safe_io, the store's generations)
            err_console.print(f"[red]error:[/red] {INTERRUPTED}", highlight=False, soft_wrap=True)
            sys.exit(EXIT_INTERRUPTED)
        except OSError as exc:
            if not users_file(exc):   # a file mesh chose itself: a bug, like any other exception below
                internal_error(exc)
            # a file of the user's (missing, a folder, permission, disk full): one line, never a traceback
            err_console.print(f"[red]error:[/red] {escape(os_error_message(exc))}", highlight=False, soft_wrap=True)
            sys.exit(EXIT_BAD_INPUT)
        except Exception as exc:  # a bug: reported as one, never as a domain's failure
            internal_error(exc)
    return wrapper


def internal_error(exc: Exception) -> NoReturn:
    """Report a bug in mesh in one line naming the exception and where it was raised, its traceback saved to a file;
    exit 3."""
    saved = save_traceback(exc)
    first = str(exc).splitlines()[0] if str(exc) else ""
    err_console.print(f"[red]internal error in mesh {__version__}[/red] ({type(exc).__name__}"
                      f"{': ' + escape(first) if first else ''} at {raised_at(exc)}): please report it; "
                      f"traceback in {saved}", highlight=False, soft_wrap=True)
    sys.exit(EXIT_INTERNAL)


def users_file(exc: OSError) -> bool:
    """Whether the OSError concerns a file of the user's: one in the mesh's folder (its project files, the state
    folder by default), in the state folder MESH_STATE_DIR names, or at or under a path the command line gives."""
    context = click.get_current_context(silent=True)
    names = [Path(os.fsdecode(name)).resolve() for name in (exc.filename, exc.filename2)
             if isinstance(name, str | bytes | os.PathLike)]
    if context is None or not names:
        return False
    given = [Path(value).resolve() for ctx in _contexts(context) for param in ctx.command.params
             if isinstance(param.type, click.Path) for value in _values(ctx.params.get(param.name or ""))]
    mesh = find_mesh_root(context.find_root().params.get("mesh_dir") or Path.cwd())   # --mesh-dir, or the nearest
    moved = os.environ.get(STATE_DIR_ENV)
    places = [*given, *([mesh] if mesh is not None else []), *([Path(moved).resolve()] if moved else [])]
    return any(name.is_relative_to(place) for name in names for place in places)


def _contexts(context: click.Context) -> list[click.Context]:
    """The context and those of the commands above it (`mesh --mesh-dir X check` holds two)."""
    return [context, *(_contexts(context.parent) if context.parent is not None else [])]


def _values(value: object) -> list[str | os.PathLike[str]]:
    """A click.Path option's value as a list: one path, several (`multiple=True`) or none."""
    if isinstance(value, str | os.PathLike):
        return [value]
    return [item for item in value if isinstance(item, str | os.PathLike)] if isinstance(value, tuple) else []


def save_traceback(exc: BaseException) -> Path:
    """Write the exception's traceback to a new file in the temporary folder; returns its path."""
    handle, name = tempfile.mkstemp(prefix="mesh-internal-error-", suffix=".log")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(f"mesh {__version__}: {' '.join(sys.argv)}\n")
        out.write("".join(traceback.format_exception(exc)))
    return Path(name)


def mesh_config(ctx: click.Context) -> MeshConfig:
    """The config of the mesh this invocation works on (`--mesh-dir`, else the nearest mesh.yml)."""
    return locate_config(ctx.find_root().obj["mesh_dir"])


def target_option(help_text: str = "dbt target (default: mesh.yml's default_target).") -> Callable[..., Any]:
    return click.option("--target", default=None, help=help_text)


SELECTORS_HELP = ("`orders`, `customers+` (and downstream), `+finance` (and upstream), `1+finance`, `@orders`, "
                  "`'orders finance'`; repeatable")


def select_and_exclude(doing: str = "act on") -> Callable[..., Any]:
    """`-s/--select` and `--exclude`, each repeatable (the command gets `select` and `exclude`)."""
    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option("--exclude", multiple=True, metavar="SELECTOR",
                               help=f"Domains to leave out: {SELECTORS_HELP}.")(command)
        return click.option("--select", "-s", "select", multiple=True, metavar="SELECTOR",
                            help=f"Domains to {doing}: {SELECTORS_HELP} (default: all).")(command)
    return decorate


def selection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """dbt's selection flags: `-s/--select` and `--exclude` (each repeatable, dbt's graph operators), and domains
    named as arguments as before; the command receives `domains`: the selected names in build order, or `()` for
    every domain when nothing was selected (dbt's selector syntax works on every command that takes domains)."""
    @click.argument("selectors", nargs=-1, metavar="[SELECTOR]...")
    @select_and_exclude()
    @handle_errors   # a selection naming no domain is bad input, said in one line like any other
    @wraps(command)
    def wrapper(*args: Any, selectors: tuple[str, ...], select: tuple[str, ...], exclude: tuple[str, ...],
                **kwargs: Any) -> Any:
        chosen = (*selectors, *select)
        if chosen or exclude:
            chosen = tuple(select_domains(mesh_config(click.get_current_context()), chosen, exclude))
        return command(*args, domains=chosen, **kwargs)
    return wrapper


def select_domains(config: MeshConfig, select: tuple[str, ...], exclude: tuple[str, ...]) -> list[str]:
    """The domains `select` names (all when empty) less those `exclude` names, in build order; none is bad input."""
    from mesh_cli.core.domains import discover_domains  # networkx only for the commands that select
    from mesh_cli.core.graph import DomainGraph

    graph = DomainGraph(discover_domains(config))
    chosen = graph.select(select) - (graph.select(exclude) if exclude else set())   # select([]) is every domain
    if not chosen:
        words = " ".join([*(f"--select {s}" for s in select), *(f"--exclude {e}" for e in exclude)])
        raise MeshError(f"`{words}` leaves no domain (domains: {', '.join(sorted(graph.domains))}); "
                        "exclude fewer")
    return graph.order(chosen)


def format_option(help_text: str = "text for people, json for programs.") -> Callable[..., Any]:
    """`--format text|json`, the one way every command is asked for JSON (`--json` stays as a hidden alias); the
    command receives `as_json`."""
    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                      help=help_text)
        @click.option("--json", "json_alias", is_flag=True, hidden=True, help="The same as --format json.")
        @wraps(command)
        def wrapper(*args: Any, fmt: str, json_alias: bool, **kwargs: Any) -> Any:
            return command(*args, as_json=json_alias or fmt == "json", **kwargs)
        return wrapper
    return decorate


def plan_option(help_text: str) -> Callable[..., Any]:
    """`--plan`: the one way every command shows what it would do without doing it; the command gets `plan_only`."""
    return click.option("--plan", "plan_only", is_flag=True, help=help_text)
