"""The organisation's governance library: `governance.yml` beside `mesh.yml` (tags, masking and row access
policies, roles with `inherits`, entitlements), extended by each domain under `vars.data_mesh` of its
dbt_project.yml. It is the one declaration of the access model: the dbt package reads it (through the
`MESH_GOVERNANCE_LIBRARY` variable the dbt plugin sets, see `library_json`), provisioning grants its role
hierarchy on Snowflake and records it on DuckDB, and the catalogue says which roles clear a product.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesh_cli.core.config import MESH_FILE, find_mesh_root
from mesh_cli.core.domains import DOMAIN_FILE, Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.strict import check_keys
from mesh_cli.core.yamlfile import read_mapping

GOVERNANCE_FILE = "governance.yml"
LIBRARY_ENV = "MESH_GOVERNANCE_LIBRARY"
TOPOLOGY_ENV = "MESH_SHARE_TOPOLOGY"
CROSS_ACCOUNT_ENV = "MESH_CROSS_ACCOUNT_MODELS"
SECTIONS = ("tags", "masking_policies", "row_access_policies", "roles", "entitlements")
ROLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
POLICY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")     # tag and policy names, as the package's library.sql
ROLE_CHECK = re.compile(r"is_role_in_session\(\s*'([A-Za-z][A-Za-z0-9_]*)'\s*\)", re.I)


def find_library(start: Path) -> Path | None:
    """The governance.yml of the nearest folder at or above `start` holding one or a mesh.yml (the mesh root),
    as `mesh_cli.core.config.find_mesh_root` finds the mesh. None: no library (a mesh root without one, or none)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / GOVERNANCE_FILE).is_file():
            return folder / GOVERNANCE_FILE
        if (folder / MESH_FILE).is_file():
            return None
    return None


def read_library(path: Path | None) -> dict[str, Any]:
    """The central library, its top-level keys validated (the dbt package validates the entries)."""
    if path is None:
        return {}
    data = read_mapping(path, default={})
    if not data:
        raise MeshError(f"{GOVERNANCE_FILE} is empty: declare the library ({', '.join(SECTIONS)}; "
                        "docs/governance.md), or delete the file if the mesh governs nothing", path=path)
    check_keys(data, SECTIONS, path=path, where="")
    for section in SECTIONS:
        kind = list if section == "entitlements" else dict
        if not isinstance(data.get(section) or kind(), kind):
            raise MeshError(f"`{section}` must be a {'list' if kind is list else 'mapping'}", path=path)
    _check_names(data, path)
    return data


def _check_names(library: dict[str, Any], path: Path) -> None:
    """The names the package's validation refuses at build time (macros/governance/library/library.sql), refused
    here first: policy and tag names are lower-case Snowflake identifiers
    (https://docs.snowflake.com/en/sql-reference/identifiers-syntax), role names letters, digits and underscores."""
    for section, what in (("tags", "tag"), ("masking_policies", "masking_policies"),
                          ("row_access_policies", "row_access_policies")):
        for name in library.get(section) or {}:
            if not isinstance(name, str) or not POLICY_NAME.match(name):
                raise MeshError(f"governance library: {what} name {name!r} must be lower-case letters, digits and "
                                "underscores; rename it", path=path)
    for name, entry in (library.get("roles") or {}).items():
        _role(name, path, "roles")
        for parent in (entry or {}).get("inherits") or [] if isinstance(entry, dict) else []:
            _role(parent, path, f"roles.{name}.inherits")
    for entry in library.get("entitlements") or []:
        if isinstance(entry, dict):
            _role(entry.get("role"), path, "entitlements")


def library_json(project_dir: Path) -> str:
    """The value of MESH_GOVERNANCE_LIBRARY for a dbt project: the central library as JSON, or
    `{"error": "<one line>"}` that the package raises as a compiler error."""
    try:
        return json.dumps(read_library(find_library(project_dir)))
    except MeshError as exc:
        return json.dumps({"error": str(exc)})


def share_topology(project_dir: Path) -> str:
    """The value of MESH_SHARE_TOPOLOGY for a dbt project: `snowflake.topology` of its mesh.yml (validated by
    `mesh_cli.core.share_settings`), `one_account` outside a mesh."""
    root = find_mesh_root(project_dir)
    if root is None:
        return "one_account"
    try:
        section = read_mapping(root / MESH_FILE).get("snowflake") or {}
    except MeshError:
        return "one_account"
    return str(section.get("topology") or "one_account") if isinstance(section, dict) else "one_account"


def cross_account_models(project_dir: Path) -> str:
    """The value of MESH_CROSS_ACCOUNT_MODELS for a dbt project: the models its domain.yml's products share with
    outside accounts (`consumers.accounts`, or a `listing`), comma-separated. Such a public model carries the
    share-safe policy variants in one account too (macros/governance/library/model_governance.sql). A malformed
    domain.yml gives what can be read: `mesh check` and `mesh publish` name its faults."""
    try:
        products = read_mapping(project_dir / DOMAIN_FILE, default={}).get("products") or []
    except MeshError:
        return ""
    models: list[str] = []
    for entry in products if isinstance(products, list) else []:
        if not isinstance(entry, dict):
            continue
        consumers = entry.get("consumers")
        outside = (isinstance(consumers, dict) and consumers.get("accounts")) or entry.get("listing")
        if outside and isinstance(entry.get("models"), list):
            models += [str(model) for model in entry["models"]]
    return ",".join(dict.fromkeys(models))


def held_roles(role: str, grants: Iterable[tuple[str, str]]) -> list[str]:
    """Every role `role` holds through `grants`, (role, granted_to) pairs (itself first).

    >>> held_roles("ANALYST", [("PII_READER", "DEPLOYER"), ("DEPLOYER", "ANALYST"), ("X", "OTHER")])
    ['ANALYST', 'DEPLOYER', 'PII_READER']
    """
    grants = list(grants)
    held, queue = [role], [role]
    while queue:
        current = queue.pop()
        for parent, child in grants:
            if child == current and parent not in held:
                held.append(parent)
                queue.append(parent)
    return held


@dataclass(frozen=True)
class AccessModel:
    """Roles, their hierarchy and entitlements: the central library merged with every domain's extension."""

    roles: dict[str, str]                        # role -> description
    grants: tuple[tuple[str, str], ...]          # (role, granted_to): `granted_to` inherits `role`
    entitlements: tuple[tuple[str, str, str], ...]   # (role, dimension, value)
    policies: dict[str, dict[str, Any]]          # every masking and row access policy, by name
    tag_policies: dict[str, tuple[str, ...]] = field(default_factory=dict)   # tag -> its masking policies

    def inherited(self, role: str) -> list[str]:
        """Every role `role` holds through the hierarchy (itself first), as Snowflake counts them in session."""
        return held_roles(role.upper(), self.grants)

    def clearing_roles(self, policy: str) -> list[str]:
        """The roles a policy names in IS_ROLE_IN_SESSION (who sees clear values / rows); for a policy reading the
        entitlements table, every entitled role."""
        body = str((self.policies.get(policy) or {}).get("body") or "")
        roles = [name.upper() for name in ROLE_CHECK.findall(body)]
        if "@entitlements" in body:
            roles += [role for role, _, _ in self.entitlements]
        return list(dict.fromkeys(roles))


def _role(value: Any, path: Path, where: str) -> str:
    if not isinstance(value, str) or not ROLE_NAME.match(value):
        raise MeshError(f"{where}: role name {value!r} must be letters, digits and underscores, starting with a "
                        "letter; rename it", path=path)
    return value.upper()


def access_model(root: Path, domains: dict[str, Domain]) -> AccessModel:
    """The access model of a mesh: governance.yml at `root` plus each domain's `vars.data_mesh` roles,
    entitlements and policies (a domain may add, never redefine: the dbt package refuses that at build)."""
    library_path = root / GOVERNANCE_FILE
    sources = [(library_path, read_library(library_path if library_path.is_file() else None))]
    for name in sorted(domains):
        project = domains[name].path / "dbt_project.yml"
        extension = ((read_mapping(project, default={}).get("vars") or {}).get("data_mesh") or {})
        if not isinstance(extension, dict):
            raise MeshError("`vars.data_mesh` must be a mapping", path=project)
        sources.append((project, extension))
    roles: dict[str, str] = {}
    grants: list[tuple[str, str]] = []
    entitlements: list[tuple[str, str, str]] = []
    policies: dict[str, dict[str, Any]] = {}
    tag_policies: dict[str, tuple[str, ...]] = {}
    for path, library in sources:
        for name, entry in (library.get("roles") or {}).items():
            role = _role(name, path, "roles")
            entry = entry or {}
            if not isinstance(entry, dict):
                raise MeshError(f"roles.{name} must be a mapping with `description` and `inherits`", path=path)
            roles.setdefault(role, str(entry.get("description") or ""))
            inherits = entry.get("inherits") or []
            if not isinstance(inherits, list):
                raise MeshError(f"roles.{name}.inherits must be a list of role names", path=path)
            grants += [(_role(parent, path, f"roles.{name}.inherits"), role) for parent in inherits]
        for entry in library.get("entitlements") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("values"), list):
                raise MeshError(f"entitlement {entry!r} must be {{role, dimension, values: [...]}}", path=path)
            role = _role(entry.get("role"), path, "entitlements")
            entitlements += [(role, str(entry.get("dimension")), str(value)) for value in entry["values"]]
        for kind in ("masking_policies", "row_access_policies"):
            policies.update({str(k): v for k, v in (library.get(kind) or {}).items() if isinstance(v, dict)})
        tag_policies.update({str(name): tuple(str(p) for p in tag.get("masking_policies") or [])
                             for name, tag in (library.get("tags") or {}).items() if isinstance(tag, dict)})
    for parent, _ in grants:
        roles.setdefault(parent, "")
    for role, _, _ in entitlements:
        roles.setdefault(role, "")
    return AccessModel(roles, tuple(dict.fromkeys(grants)), tuple(dict.fromkeys(entitlements)), policies,
                       tag_policies)
