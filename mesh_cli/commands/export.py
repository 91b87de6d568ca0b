"""`mesh export`: open-standard documents of the catalogue (ODCS data contracts, ODPS product descriptors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from mesh_cli.catalog.export.odcs import odcs_contract
from mesh_cli.catalog.export.odps import odps_product
from mesh_cli.catalog.export.test_copies import write_test_copies
from mesh_cli.catalog.index import build_catalog
from mesh_cli.commands.common import err_console, handle_errors, mesh_config, target_option


def _write(document: dict[str, Any], out: Path | None) -> None:
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    err_console.print(f"wrote {out}", highlight=False)


@click.group("export", short_help="Export ODCS data contracts and ODPS product descriptors.")
def command() -> None:
    """Export data contracts (ODCS v3) and data product descriptors (ODPS v1) as YAML."""


@command.command("odcs", short_help="The ODCS contract of a public model (latest version unless .vN).")
@click.argument("model", metavar="DOMAIN.MODEL[.vN]")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the YAML to this file (default: stdout).")
@target_option("Read manifests and results of this target (default: mesh.yml's).")
@click.pass_context
@handle_errors
def odcs(ctx: click.Context, model: str, out: Path | None, target: str | None) -> None:
    """The Open Data Contract Standard contract of a public model (latest version unless .vN is given)."""
    config = mesh_config(ctx)
    _write(odcs_contract(config, build_catalog(config, target or config.default_target), model), out)


@command.command("odps")
@click.argument("product", metavar="DOMAIN.PRODUCT")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the YAML to this file (default: stdout).")
@target_option("Read manifests and results of this target (default: mesh.yml's).")
@click.pass_context
@handle_errors
def odps(ctx: click.Context, product: str, out: Path | None, target: str | None) -> None:
    """The Open Data Product Standard descriptor of a data product."""
    config = mesh_config(ctx)
    _write(odps_product(build_catalog(config, target or config.default_target), product), out)


@command.command("test-data", short_help="Write the copies the contract's DuckDB servers name.")
@click.argument("model", metavar="DOMAIN.MODEL[.vN]")
@target_option("Copy the databases of this target (default: mesh.yml's).")
@click.pass_context
@handle_errors
def test_data(ctx: click.Context, model: str, target: str | None) -> None:
    """Write the copies the contract's DuckDB servers name (the owner's view, a consumer's) for `datacontract test`."""
    config = mesh_config(ctx)
    written = write_test_copies(config, build_catalog(config, target or config.default_target), model)
    for path, counts in written.items():
        shown = path.relative_to(config.root) if path.is_relative_to(config.root) else path
        rows = ", ".join(f"{name} {count} rows" for name, count in counts.items())
        err_console.print(f"wrote {shown}: {rows}", highlight=False)
