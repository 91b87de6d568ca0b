"""What `mesh check` compares, read from dbt manifests: each model's contract, and the refs that cross domains.

A model's contract is what its readers rely on: its columns with their (normalised) data types, which of them
are never null (a `not_null` constraint or data test), the other constraints and guarantees on each column
(`unique`, `primary_key`, `check`, accepted values, ...), the model-level constraints, and whether dbt enforces
it. Columns are compared case-insensitively, as Snowflake does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from mesh_cli.core.manifest import ModelInfo, model_info
from mesh_cli.core.types import DataType, parse_type

Key = tuple[str, str | None]  # (model name, version)
GUARANTEE_TESTS = {"not_null", "unique", "accepted_values"}


@dataclass(frozen=True)
class Column:
    """One column of a model's contract."""

    name: str
    data_type: DataType | None
    written_type: str | None
    description: str
    not_null: bool
    guarantees: frozenset[str]          # constraints and tests other than not_null, e.g. "unique", "check (x > 0)"
    accepted_values: frozenset[str] | None
    node: dict[str, Any] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Contract:
    """One model (one version of a versioned model) as the mesh sees it."""

    info: ModelInfo
    columns: dict[str, Column]          # by lower-case name, in the order of the YAML
    constraints: frozenset[str]         # model-level constraints
    yaml_file: str | None               # the file that describes it, relative to its project
    sql_file: str | None
    schema: str

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def version(self) -> str | None:
        return self.info.version

    @property
    def public(self) -> bool:
        return self.info.access == "public"

    @property
    def deprecation_date(self) -> datetime | None:
        return self.info.deprecation_date


@dataclass(frozen=True)
class CrossRef:
    """A node of one domain that refs a model of another: `version` is what the ref pins (None: the latest)."""

    domain: str
    node: str                           # the consumer model (a test counts for the model it tests)
    upstream: str
    model: str
    version: str | None
    resolved: str | None                # the version the ref resolved to at parse
    file: str | None


@dataclass
class DomainSnapshot:
    """One domain's manifest, read for the check."""

    name: str
    manifest: dict[str, Any]
    source: str                         # where the manifest came from, for messages
    project_dir: Path | None = None     # the domain's folder (current working tree only)
    contracts: dict[Key, Contract] = field(default_factory=dict)
    disabled: set[Key] = field(default_factory=set)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    refs: list[CrossRef] = field(default_factory=list)
    stale: str | None = None            # why the baseline manifest stands in for the working tree

    def versions(self, name: str) -> dict[str | None, Contract]:
        return dict(self._by_model.get(name, {}))

    @cached_property
    def _by_model(self) -> dict[str, dict[str | None, Contract]]:
        """The contracts by model name (read once `snapshot` has filled them)."""
        index: dict[str, dict[str | None, Contract]] = {}
        for (model, version), contract in self.contracts.items():
            index.setdefault(model, {})[version] = contract
        return index

    def public_names(self) -> list[str]:
        return sorted({contract.name for contract in self.contracts.values() if contract.public})

    def path_of(self, relative: str | None) -> Path | None:
        return self.project_dir / relative if self.project_dir and relative else None


def _constraint_label(constraint: dict[str, Any]) -> str:
    kind = str(constraint.get("type") or "custom")
    detail = constraint.get("expression") or ""
    if constraint.get("to"):
        detail = f"{constraint['to']}({', '.join(constraint.get('to_columns') or [])})"
    if constraint.get("columns"):
        detail = f"({', '.join(constraint['columns'])}) {detail}".strip()
    return f"{kind} {detail}".strip()


def _tests_by_column(manifest: dict[str, Any]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The guarantee tests of every model: {model unique_id: {lower-case column: [test_metadata, ...]}}."""
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for node in manifest.get("nodes", {}).values():
        metadata = node.get("test_metadata") or {}
        if node.get("resource_type") != "test" or metadata.get("name") not in GUARANTEE_TESTS:
            continue
        if metadata.get("namespace") not in (None, "dbt") or not node.get("column_name"):
            continue
        if (node.get("config") or {}).get("enabled") is False:
            continue
        attached = node.get("attached_node")
        if attached:
            found.setdefault(attached, {}).setdefault(str(node["column_name"]).lower(), []).append(metadata)
    return found


def _column(name: str, node: dict[str, Any], tests: list[dict[str, Any]]) -> Column:
    constraints = node.get("constraints") or []
    written = node.get("data_type")
    test_names = {test["name"] for test in tests}
    guarantees = {_constraint_label(c) for c in constraints if c.get("type") != "not_null"}
    if "unique" in test_names:
        guarantees.add("unique")
    values = [test.get("kwargs", {}).get("values") for test in tests if test["name"] == "accepted_values"]
    accepted = frozenset(str(v) for v in values[0]) if values and isinstance(values[0], list) else None
    return Column(
        name=name,
        data_type=parse_type(written) if written else None,
        written_type=written,
        description=str(node.get("description") or "").strip(),
        not_null=any(c.get("type") == "not_null" for c in constraints) or "not_null" in test_names,
        guarantees=frozenset(guarantees),
        accepted_values=accepted,
        node=node,
    )


def _yaml_file(node: dict[str, Any]) -> str | None:
    patch = node.get("patch_path")
    return patch.split("://", 1)[1] if patch and "://" in patch else patch


def contract_of(node: dict[str, Any], tests: dict[str, list[dict[str, Any]]]) -> Contract:
    info = model_info(node)
    columns = {name.lower(): _column(name, column, tests.get(name.lower(), []))
               for name, column in (node.get("columns") or {}).items()}
    return Contract(
        info=info,
        columns=columns,
        constraints=frozenset(_constraint_label(c) for c in node.get("constraints") or []),
        yaml_file=_yaml_file(node),
        sql_file=node.get("original_file_path"),
        schema=str(node.get("schema") or ""),
    )


def _injected_package(domain: str, name: str, parents: list[str]) -> str | None:
    """The upstream an unqualified ref (`ref('stg_orders')`, dbt-loom style) resolved to, from the node's parents."""
    for parent in parents:
        kind, package, *rest = parent.split(".")
        if kind == "model" and package != domain and rest and rest[0] == name:
            return package
    return None


def _consuming_nodes(domain: str, manifest: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Each model, test and snapshot of the domain, with the consumer it counts for (a test: its model)."""
    nodes = manifest.get("nodes", {})
    for node in nodes.values():
        if node.get("package_name") != domain or node.get("resource_type") not in ("model", "test", "snapshot"):
            continue
        consumer = node.get("attached_node") or node["unique_id"]
        yield node, (".".join(consumer.split(".")[2:]) if consumer in nodes else node["name"])


def _cross_packages(domain: str, node: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(upstream domain, ref) for each ref of the node to another domain."""
    parents = (node.get("depends_on") or {}).get("nodes") or []
    for ref in node.get("refs") or []:
        package = ref.get("package") or _injected_package(domain, ref["name"], parents)
        if package and package != domain:
            yield package, ref


def reading_nodes(view: DomainSnapshot, ref: CrossRef) -> list[dict[str, Any]]:
    """The nodes of a consumer's manifest behind one cross-domain ref (a model and the tests on it)."""
    def same(package: str, other: dict[str, Any]) -> bool:
        pinned = None if other.get("version") is None else str(other["version"])
        return package == ref.upstream and other["name"] == ref.model and pinned == ref.version
    return [node for node, consumer in _consuming_nodes(view.name, view.manifest)
            if consumer == ref.node and any(same(*found) for found in _cross_packages(view.name, node))]


def _cross_refs(domain: str, manifest: dict[str, Any]) -> list[CrossRef]:
    found: dict[tuple[str, str, str, str | None], CrossRef] = {}
    for node, consumer_name in _consuming_nodes(domain, manifest):
        parents = (node.get("depends_on") or {}).get("nodes") or []
        for package, ref in _cross_packages(domain, node):
            pinned = None if ref.get("version") is None else str(ref["version"])
            prefix = f"model.{package}.{ref['name']}"
            resolved = next((p[len(prefix) + 2:] if p != prefix else None
                             for p in parents if p == prefix or p.startswith(prefix + ".v")), pinned)
            cross = CrossRef(domain, consumer_name, package, ref["name"], pinned, resolved,
                             node.get("original_file_path"))
            found.setdefault((cross.node, package, ref["name"], pinned), cross)
    return list(found.values())


def snapshot(name: str, manifest: dict[str, Any], source: str, project_dir: Path | None = None) -> DomainSnapshot:
    """Read a domain's manifest for the check."""
    tests = _tests_by_column(manifest)
    view = DomainSnapshot(name, manifest, source, project_dir)
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("package_name") == name:
            contract = contract_of(node, tests.get(node["unique_id"], {}))
            view.contracts[(contract.name, contract.version)] = contract
    for entries in (manifest.get("disabled") or {}).values():
        for node in entries:
            if node.get("resource_type") == "model" and node.get("package_name") == name:
                info = model_info(node)
                view.disabled.add((info.name, info.version))
    view.groups = {group["name"]: group for group in (manifest.get("groups") or {}).values()
                   if group.get("package_name") == name}
    view.refs = _cross_refs(name, manifest)
    return view
