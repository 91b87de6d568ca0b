"""The words Snowflake shows for a data product: the listing description and the COMMENTs of shared objects.

They are made from the same catalogue entry as the site, so what people read in Snowflake matches the catalogue.
The text is plain (no markup); quoting it for SQL is the caller's job.
"""

from __future__ import annotations

import re
from typing import Any

from mesh_cli.core.errors import MeshError


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _owner(product: dict[str, Any]) -> str:
    owner = product.get("owner") or {}
    if not owner:
        return f"the {product['domain']} domain"
    return f"{owner['name']} <{owner['email']}>" if owner.get("email") else str(owner["name"])


def _sentence(text: str) -> str:
    text = _one_line(text)
    return text if not text or text.endswith((".", "!", "?")) else f"{text}."


def _versions(model: dict[str, Any]) -> str:
    labelled = [f"v{v['version']}" + (f" deprecated, removed after {v['deprecation_date']}"
                                       if v["deprecation_date"] else "")
                for v in model["versions"] if v["version"]]
    return f"{model['name']} ({', '.join(labelled)})" if labelled else model["name"]


def product_description(product: dict[str, Any]) -> str:
    """The listing description of a product: what it is, who owns it, what it holds, how fresh, how to get it."""
    lines = [_sentence(product["description"]) or f"Data product {product['id']}.", ""]
    lines.append(f"Data product {product['id']} of the {product['domain']} domain, owned by {_owner(product)}.")
    lines.append(f"Models: {', '.join(_versions(m) for m in product['models'])}.")
    hours = (product.get("sla") or {}).get("freshness_hours")
    if hours is not None:
        lines.append(f"Freshness: rebuilt at least every {hours:g} hours.")
    lines.append(f"Confidentiality: {product['confidentiality']}.")
    lines.append(f"Access: {product['access']['snowflake_accounts']}")
    return "\n".join(lines)


def share_comment(product: dict[str, Any]) -> str:
    """The COMMENT of the product's share: one line with the description, product id and owner."""
    return _one_line(f"{_sentence(product['description'])} Data product {product['id']}, owned by "
                     f"{_owner(product)}.")


def object_comment(product: dict[str, Any], model_id: str) -> str:
    """The COMMENT of one shared model version (`domain.model` or `domain.model.vN`): its description, then the
    product it belongs to and its owner."""
    for model in product["models"]:
        for version in model["versions"]:
            if model_id in (version["id"], f"{product['domain']}.{model['name']}") and (
                    version["is_latest"] or version["id"] == model_id):
                notice = (f" Deprecated, removed after {version['deprecation_date']}."
                          if version["deprecation_date"] else "")
                return _one_line(f"{_sentence(model['description'])}{notice} Part of data product {product['id']}, "
                                 f"owned by {_owner(product)}.")
    raise MeshError(f"{model_id} is not a model of data product {product['id']}")
