"""`mesh catalog`: write the data product catalogue as a static site, and optionally serve it on localhost."""

from __future__ import annotations

from pathlib import Path

import click

from mesh_cli.catalog.index import build_catalog
from mesh_cli.catalog.serve import site_server
from mesh_cli.catalog.site import write_site
from mesh_cli.commands.common import console, handle_errors, mesh_config, target_option


@click.command("catalog", short_help="Write the data product catalogue as a static site (--serve to browse).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("site"), show_default=True,
              help="Folder the site is written to (new, empty, or a previous catalogue).")
@click.option("--serve", is_flag=True, help="Serve the site on http://127.0.0.1:PORT/ until Ctrl-C.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port for --serve (0 picks a free one).")
@target_option("Read manifests and results of this target (default: mesh.yml's).")
@click.pass_context
@handle_errors
def command(ctx: click.Context, out: Path, serve: bool, port: int, target: str | None) -> None:
    """Write the data product catalogue: a static site with search, product pages, lineage and exports."""
    config = mesh_config(ctx)
    with console.status("reading the mesh…"):
        catalog = build_catalog(config, target or config.default_target, column_lineage=True)
        index = write_site(config, catalog, out)
    console.print(f"catalogue of {len(catalog.products)} data products written to {out}/", highlight=False)
    console.print(f"open {index.resolve().as_uri()}", highlight=False, soft_wrap=True)
    if not serve:
        console.print(f"next: mesh catalog --out {out} --serve (browse it on http://127.0.0.1:{port}/), "
                      "mesh product DOMAIN.PRODUCT (one product in the terminal)", highlight=False, soft_wrap=True)
        return
    server = site_server(out, port)
    console.print(f"serving on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)", highlight=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
