"""Read what dbt already parsed: models, their access, versions and contracts, from manifest.json."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from mesh_cli.core.errors import MeshError


@dataclass(frozen=True)
class ModelInfo:
    """A model node of a domain's manifest, with what the mesh needs of it."""

    unique_id: str
    package: str
    name: str
    version: str | None
    latest_version: str | None
    access: str
    database: str | None
    schema: str
    alias: str
    relation_name: str | None
    deprecation_date: datetime | None
    description: str
    group: str | None
    contract_enforced: bool
    columns: dict[str, dict[str, Any]]
    depends_on: tuple[str, ...]

    @property
    def label(self) -> str:
        """`package.name` with `.vN` for a versioned model."""
        return f"{self.package}.{self.name}" + (f".v{self.version}" if self.version is not None else "")


GOVERNANCE_KEY = "data_mesh"


def governance_meta(node: dict[str, Any]) -> dict[str, Any]:
    """The `data_mesh` governance block of a manifest model or column, from `meta` and `config.meta` (which
    wins): e.g. `{masking: mask_email, tags: {pii: email}}` on a column."""
    merged: dict[str, Any] = {}
    for meta in (node.get("meta") or {}, (node.get("config") or {}).get("meta") or {}):
        block = meta.get(GOVERNANCE_KEY)
        if isinstance(block, dict):
            merged.update(block)
    return merged


def _version(value: Any) -> str | None:
    return None if value is None else str(value)


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def rebuild_hint(path: Path) -> str:
    """How to write a domain's manifest again: `mesh build <domain>`, the domain named by the manifest's folder
    (`.mesh/state/<target>/<domain>/`, or the project of a `target/` folder)."""
    folder = path.parent.parent if path.parent.name == "target" else path.parent
    return f"rebuild the domain to rewrite it (`mesh build {folder.name}`)"


def load_manifest(path: Path) -> dict[str, Any]:
    """Load a manifest.json; a corrupt one is a clear error naming the file and the command that rewrites it."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise MeshError(f"cannot read the dbt manifest ({exc}); {rebuild_hint(path)}", path=path) from exc
    if not isinstance(data, dict) or "nodes" not in data:
        raise MeshError(f"not a dbt manifest (no `nodes`); {rebuild_hint(path)}", path=path)
    nodes, metadata = data["nodes"], data.get("metadata", {})
    if (not isinstance(nodes, dict) or not all(isinstance(node, dict) for node in nodes.values())
            or not isinstance(metadata, dict)):
        raise MeshError("not a dbt manifest (`nodes` must map ids to nodes, `metadata` be a mapping); "
                        f"{rebuild_hint(path)}", path=path)
    return data


def model_info(node: dict[str, Any]) -> ModelInfo:
    """The mesh's view of one manifest model node."""
    config = node.get("config") or {}
    contract = node.get("contract") or config.get("contract") or {}
    return ModelInfo(
        unique_id=node["unique_id"],
        package=node["package_name"],
        name=node["name"],
        version=_version(node.get("version")),
        latest_version=_version(node.get("latest_version")),
        access=str(node.get("access") or config.get("access") or "protected"),
        database=node.get("database"),
        schema=node["schema"],
        alias=node.get("alias") or node["name"],
        relation_name=node.get("relation_name"),
        deprecation_date=_date(node.get("deprecation_date")),
        description=node.get("description") or "",
        group=node.get("group") or config.get("group"),
        contract_enforced=bool(contract.get("enforced")),
        columns=node.get("columns") or {},
        depends_on=tuple((node.get("depends_on") or {}).get("nodes") or ()),
    )


def models_of(manifest: dict[str, Any], package: str) -> list[ModelInfo]:
    """The models a domain defines itself (not those of installed packages or injected by the resolver)."""
    return [model_info(node) for node in manifest["nodes"].values()
            if node.get("resource_type") == "model" and node.get("package_name") == package]


REF_TARGETS = ("model", "seed", "snapshot")


def ref_targets_of(manifest: dict[str, Any], package: str) -> list[ModelInfo]:
    """What another domain may ref in a domain: its models, seeds and snapshots (a seed or snapshot is public
    when its config says `access: public`, the way dbt-loom exposes them)."""
    return [model_info(node) for node in manifest["nodes"].values()
            if node.get("resource_type") in REF_TARGETS and node.get("package_name") == package]


def public_models(manifest: dict[str, Any], package: str) -> list[ModelInfo]:
    """The domain's public models, every version."""
    return [model for model in models_of(manifest, package) if model.access == "public"]


def unrunnable_tests(manifest: dict[str, Any], package: str) -> list[str]:
    """The domain's data tests that dbt disabled because a ref they make is not found (a cross-project
    `relationships` test to a model the domain cannot see), each as `test name: ref('x') not found`."""
    found = []
    for node in manifest.get("nodes", {}).values():
        if (node.get("resource_type") != "test" or node.get("package_name") != package
                or (node.get("config") or {}).get("enabled", True)):
            continue
        resolved = {parent.split(".")[2] for parent in (node.get("depends_on") or {}).get("nodes") or []
                    if parent.count(".") >= 2}
        missing = [r for r in node.get("refs") or [] if r.get("name") not in resolved]
        if missing:
            calls = ", ".join("ref(" + ", ".join(repr(x) for x in (r.get("package"), r["name"]) if x) + ")"
                              for r in missing)
            found.append(f"{node['name']}: {calls} not found")
    return sorted(found)
