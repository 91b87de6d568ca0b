"""Share and listing status of a data product, from the state file that `mesh publish` writes.

The one place that reads it: `publish_status()`. Until a domain is published there is no file and the product
shows as not published.
"""

from __future__ import annotations

from typing import Any

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.state import domain_state_dir, load_publish_record

PUBLISH_FILE = "publish.json"
NOT_PUBLISHED = "not published"


def publish_status(config: MeshConfig, target: str, domain: str, product: str) -> dict[str, Any]:
    """`{"status": ..., "share": ..., "listing": ..., "accounts": [...], "published_at": ...}` of one product,
    from `<state>/state/<target>/<domain>/publish.json` (`{"products": {"<product>": {...}}}`)."""
    path = domain_state_dir(config, target, domain) / PUBLISH_FILE
    if not path.is_file():
        return {"status": NOT_PUBLISHED}
    entry = load_publish_record(path, domain).get(product)
    if not isinstance(entry, dict):
        return {"status": NOT_PUBLISHED}
    return {"status": str(entry.get("status") or "published"), **{k: v for k, v in entry.items() if k != "status"}}
