"""Governance settings of models and columns as the manifest carries them: `meta.data_mesh` (or `config.meta`)."""

from __future__ import annotations

from typing import Any

from mesh_cli.core.manifest import governance_meta

CONFIDENTIALITY = "confidentiality"
LEVELS = ("public", "internal", "confidential", "restricted", "secret")


def tag_labels(tags: Any) -> list[str]:
    """Tags as display labels: a mapping `{pii: email}` gives `pii=email`, a list gives its items."""
    if isinstance(tags, dict):
        return [f"{key}={value}" if value not in (None, True, "") else str(key) for key, value in tags.items()]
    if isinstance(tags, list | tuple):
        return [str(tag) for tag in tags]
    return [str(tags)] if tags else []


def column_governance(column: dict[str, Any]) -> dict[str, Any]:
    """A column's masking policy and tags (governance tags and dbt tags)."""
    block = governance_meta(column)
    masking = block.get("masking")
    return {
        "masking": str(masking) if masking else None,
        "tags": sorted({*tag_labels(block.get("tags")), *tag_labels(column.get("tags"))}),
    }


def model_governance(node: dict[str, Any]) -> dict[str, Any]:
    """A model's governance tags, dbt tags and row access policy."""
    block = governance_meta(node)
    return {
        "tags": sorted({*tag_labels(block.get("tags")), *tag_labels(node.get("tags"))}),
        "row_access": _row_access_label(block.get("row_access")),
    }


def _row_access_label(value: Any) -> str | None:
    """`policy on (col, ...)` for a mapping with a policy and its columns; other values as they are."""
    if not value:
        return None
    if isinstance(value, dict):
        policy = value.get("policy") or value.get("name") or "row access policy"
        # `on:` unquoted in YAML 1.1 (dbt's loader) is the boolean true, which the manifest keeps as "true"
        columns = value.get("columns") or value.get("on") or value.get("true") or []
        columns = [columns] if isinstance(columns, str) else list(columns)
        return f"{policy} on ({', '.join(map(str, columns))})" if columns else str(policy)
    return str(value)


def strictest(levels: list[str]) -> str | None:
    """The most restrictive confidentiality level among `levels` (an unknown word ranks above every known one)."""
    rank = {level: index for index, level in enumerate(LEVELS)}
    return max(levels, key=lambda level: rank.get(level, len(LEVELS)), default=None)
