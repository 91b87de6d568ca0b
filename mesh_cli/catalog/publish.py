"""Share and listing status of a data product, from the state file that `mesh publish` writes.

The one place that reads it: `publish_status()`. Until a domain is published there is no file and the product
shows as not published.
"""

from __future__ import annotations

from typing import Any

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.state import published_products

NOT_PUBLISHED = "not published"


def publish_status(config: MeshConfig, target: str, domain: str, product: str) -> dict[str, Any]:
    """`{"status": ..., "share": ..., "listing": ..., "accounts": [...], "published_at": ...}` of one product,
    from `<state>/state/<target>/<domain>/publish.json` (`{"products": {"<product>": {...}}}`)."""
    entry = (published_products(config, target, domain) or {}).get(product)
    if not isinstance(entry, dict):
        return {"status": NOT_PUBLISHED}
    return {"status": str(entry.get("status") or "published"), **{k: v for k, v in entry.items() if k != "status"}}
