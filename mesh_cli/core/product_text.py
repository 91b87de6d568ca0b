"""The words Snowflake shows for a data product: the COMMENT of its share.

They are made from the same catalogue entry as the site, so what people read in Snowflake matches the catalogue.
The text is plain (no markup); quoting it for SQL is the caller's job.
"""

from __future__ import annotations

import re
from typing import Any


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


def share_comment(product: dict[str, Any]) -> str:
    """The COMMENT of the product's share: one line with the description, product id and owner."""
    return _one_line(f"{_sentence(product['description'])} Data product {product['id']}, owned by "
                     f"{_owner(product)}.")

