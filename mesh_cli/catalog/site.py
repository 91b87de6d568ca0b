"""The static catalogue site: `index.html` with search and filters, one page per product, `index.json`, and the
ODCS/ODPS exports of every product. Readable straight from disk: no server, no network at view time."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import yaml
from markupsafe import Markup

from mesh_cli.catalog.display import human, label, listing, parse_time, when
from mesh_cli.catalog.export.odcs import odcs_contract
from mesh_cli.catalog.export.odps import odps_product
from mesh_cli.catalog.health_chart import render_health_svg
from mesh_cli.catalog.index import Catalog
from mesh_cli.catalog.lineage import render_svg
from mesh_cli.catalog.text_markup import ident, markdown, markdown_inline, sql_type
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.errors import MeshError

PACKAGE = Path(__file__).resolve().parent
OWNED = ("products", "contracts", "static", "index.html", "index.json")


def source_label(source: str) -> str:
    """Where a contract state of the history was found, in words."""
    if source.startswith("git "):
        return f"committed in {source[4:]}"
    return {"build": "recorded by mesh build", "current": "the manifest the catalogue reads"}.get(source, source)


def _environment(now: datetime) -> jinja2.Environment:
    """Templates with the filters that put values into words, ages judged at `now` (when the site is written)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(PACKAGE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=lambda value: when(value, now), human=human, label=label, listing=listing,
                       source=source_label, ident=ident, sql_type=sql_type, markdown=markdown,
                       markdown_inline=markdown_inline)
    return env


def _facets(products: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {
        "domain": sorted({p["domain"] for p in products}),
        "owner": sorted({p["owner"]["name"] for p in products if p["owner"]}),
        "tag": sorted({tag for p in products for tag in p["tags"]}),
        "confidentiality": sorted({p["confidentiality"] for p in products}),
    }


def render_site(config: MeshConfig, catalog: Catalog) -> dict[str, str]:
    """Every file of the site, by path relative to the site folder (static files not included)."""
    index = catalog.index
    env = _environment(parse_time(index["generated_at"]) or datetime.now(UTC))
    files = {
        "index.json": json.dumps(index, indent=2) + "\n",
        "index.html": env.get_template("index.html.j2").render(
            index=index, root="", facets=_facets(catalog.products),
            lineage_svg=Markup(render_svg(catalog.lineage, link_prefix="products/")),
            lineage_columns_svg=Markup(render_svg(catalog.lineage, link_prefix="products/", with_columns=True))),
    }
    for product in catalog.products:
        focus = {v["id"] for m in product["models"] for v in m["versions"]}
        around = catalog.lineage.around(focus)
        files[product["url"]] = env.get_template("product.html.j2").render(
            index=index, root="../", product=product,
            lineage_svg=Markup(render_svg(around, focus)),
            lineage_columns_svg=Markup(render_svg(around, focus, with_columns=True)),
            health_svg=Markup(render_health_svg(product["health"]["builds"], product["sla"].get("freshness_hours"))))
        files[f"products/{product['id']}.odps.yaml"] = yaml.safe_dump(odps_product(catalog, product["id"]),
                                                                      sort_keys=False)
        for version in (v for m in product["models"] for v in m["versions"]):
            files[f"contracts/{version['id']}.odcs.yaml"] = yaml.safe_dump(
                odcs_contract(config, catalog, version["id"]), sort_keys=False)
    return files


def _check_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise MeshError("is a file; give `--out` a folder for the catalogue site", path=out)
    if out.is_dir() and any(out.iterdir()):
        try:
            previous = json.loads((out / "index.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None
        if not isinstance(previous, dict) or "catalog_version" not in previous:
            raise MeshError("is not empty and holds no catalogue; give `--out` an empty or new folder", path=out)


def write_site(config: MeshConfig, catalog: Catalog, out: Path) -> Path:
    """Write the site into `out` (new, empty, or a previous catalogue, which is replaced); returns index.html."""
    _check_folder(out)
    files = render_site(config, catalog)
    out.mkdir(parents=True, exist_ok=True)
    for name in OWNED:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    shutil.copytree(PACKAGE / "static", out / "static")
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return out / "index.html"
