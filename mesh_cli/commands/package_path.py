"""`mesh package-path`: where the installed `data_mesh` dbt package is, for a domain's packages.yml."""

from __future__ import annotations

import click

from mesh_cli.commands.common import handle_errors
from mesh_cli.core.package_path import dbt_package_path


@click.command("package-path", short_help="Print the folder of the data_mesh dbt package.")
@handle_errors
def command() -> None:
    """Print the folder of the data_mesh dbt package shipped with this installation (`local:` in packages.yml)."""
    click.echo(str(dbt_package_path()))
