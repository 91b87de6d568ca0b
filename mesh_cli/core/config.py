"""Mesh-wide settings from `mesh.yml`, and where the mesh's files live."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesh_cli.core.errors import MeshError
from mesh_cli.core.strict import check_keys
from mesh_cli.core.yamlfile import read_mapping

MESH_FILE = "mesh.yml"
STATE_DIR_ENV = "MESH_STATE_DIR"
TARGET_ENV = "MESH_TARGET"
# The sections of mesh.yml, each owned by one feature; anything else is a typo (core/strict.py).
SECTIONS = ("mesh", "check", "provision", "snowflake", "sql", "state")
SQL_KEYS = ("dialect",)
MESH_KEYS = ("name", "domains_dir", "domains", "state_dir", "default_target")


@dataclass(frozen=True)
class MeshConfig:
    """The settings of one mesh repository."""

    root: Path
    name: str
    domains_dir: Path
    state_dir: Path
    default_target: str
    settings: dict[str, Any] = field(default_factory=dict, compare=False)
    domain_paths: tuple[str, ...] = ()   # `mesh.domains:` project folders (or globs) anywhere below the root

    def section(self, name: str) -> dict[str, Any]:
        """A top-level section of mesh.yml that a feature owns (e.g. `check:`), empty when absent."""
        value = self.settings.get(name) or {}
        if not isinstance(value, dict):
            raise MeshError(f"`{name}:` must be a mapping", path=self.root / MESH_FILE)
        return value

    def manifests_dir(self, target: str) -> Path:
        """Where the manifests of each domain's last successful build on `target` are saved."""
        return self.state_dir / "state" / target


def find_mesh_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` that holds a `mesh.yml`, if any."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / MESH_FILE).is_file():
            return folder
    return None


def load_config(root: Path) -> MeshConfig:
    """Read `<root>/mesh.yml`; the state folder may be moved with the MESH_STATE_DIR variable."""
    path = root / MESH_FILE
    data = read_mapping(path)
    check_keys(data, SECTIONS, path=path, where="")
    mesh = data.get("mesh", {})
    if not isinstance(mesh, dict):
        raise MeshError("`mesh:` must be a mapping of settings", path=path)
    check_keys(mesh, MESH_KEYS, path=path, where="mesh")
    sql = data.get("sql") or {}
    if not isinstance(sql, dict):
        raise MeshError("`sql:` must be a mapping, e.g. `sql: {dialect: snowflake}`", path=path)
    check_keys(sql, SQL_KEYS, path=path, where="sql")
    domain_paths = mesh.get("domains") or []
    if not isinstance(domain_paths, list) or not all(isinstance(p, str) and p.strip() for p in domain_paths):
        raise MeshError("`mesh.domains:` must be a list of project folders or globs relative to mesh.yml, "
                        "e.g. [analytics/*, platform/core]", path=path)
    state_dir = os.environ.get(STATE_DIR_ENV) or mesh.get("state_dir", ".mesh")
    return MeshConfig(
        root=root.resolve(),
        name=str(mesh.get("name", root.resolve().name)),
        # not resolved: a symlinked domains folder stays inside the mesh (each project's `local: ../..` holds)
        domains_dir=Path(os.path.normpath(root.resolve() / str(mesh.get("domains_dir", "domains")))),
        state_dir=(root / state_dir).resolve(),
        default_target=str(mesh.get("default_target", "dev")),
        settings=data,
        domain_paths=tuple(domain_paths),
    )


def locate_config(start: Path | None = None) -> MeshConfig:
    """The config of the mesh that contains `start` (default: the working directory)."""
    start = start or Path.cwd()
    root = find_mesh_root(start)
    if root is None:
        raise MeshError(f"no {MESH_FILE} found in {start.resolve()} or any folder above it; "
                        "run `mesh` inside a mesh repository")
    return load_config(root)
