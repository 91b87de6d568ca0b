"""Domain discovery: every dbt project under the mesh's domains folder is a domain."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.errors import MeshError
from mesh_cli.core.yamlfile import read_mapping

DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
SOURCE_PATH_KEYS = {"model-paths": ["models"], "snapshot-paths": ["snapshots"],
                    "test-paths": ["tests"], "analysis-paths": ["analyses"]}


@dataclass(frozen=True)
class Owner:
    """Who answers for a domain."""

    name: str
    email: str | None = None


@dataclass(frozen=True)
class Domain:
    """One dbt project of the mesh."""

    name: str
    path: Path
    upstreams: tuple[str, ...]
    profile: str
    source_paths: tuple[Path, ...]
    description: str = ""
    owner: Owner | None = None
    products: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    seeds_first: bool = False   # domain.yml `build: {seeds_first: true}`: `dbt seed` runs before `dbt build`

    @property
    def dependencies_file(self) -> Path:
        return self.path / "dependencies.yml"


def _upstreams(path: Path) -> tuple[str, ...]:
    data = read_mapping(path, default={})
    projects = data.get("projects") or []
    if not isinstance(projects, list):
        raise MeshError("`projects:` must be a list of `- name: <domain>` entries", path=path)
    names = []
    for entry in projects:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise MeshError(f"each entry of `projects:` needs a `name:`, got {entry!r}", path=path)
        names.append(entry["name"])
    return tuple(names)


def _domain_info(path: Path) -> tuple[str, Owner | None, tuple[dict[str, Any], ...]]:
    data = read_mapping(path, default={})
    info = data.get("domain") or {}
    if not isinstance(info, dict):
        raise MeshError("`domain:` must be a mapping (name, description, owner)", path=path)
    owner = info.get("owner")
    if owner is not None and not (isinstance(owner, dict) and owner.get("name")):
        raise MeshError("`domain.owner` needs at least a `name:`", path=path)
    products = data.get("products") or []
    if not isinstance(products, list):
        raise MeshError("`products:` must be a list", path=path)
    return (str(info.get("description", "")),
            Owner(str(owner["name"]), owner.get("email")) if owner else None,
            tuple(products))


def load_domain(project_dir: Path) -> Domain:
    """Read one domain's dbt_project.yml, dependencies.yml and domain.yml."""
    project_file = project_dir / "dbt_project.yml"
    project = read_mapping(project_file)
    name = project.get("name")
    if not isinstance(name, str) or not DOMAIN_NAME.match(name):
        raise MeshError(f"project name {name!r} is not a valid domain name "
                        "(lower-case letters, digits and underscores, starting with a letter)",
                        path=project_file)
    paths = [project_dir / p for key, default in SOURCE_PATH_KEYS.items()
             for p in project.get(key, default)]
    description, owner, products = _domain_info(project_dir / "domain.yml")
    build = read_mapping(project_dir / "domain.yml", default={}).get("build") or {}
    if not isinstance(build, dict) or set(build) - {"seeds_first"}:
        raise MeshError("`build:` takes `seeds_first: true|false` only", path=project_dir / "domain.yml")
    return Domain(
        name=name,
        path=project_dir.resolve(),
        upstreams=_upstreams(project_dir / "dependencies.yml"),
        profile=str(project.get("profile", name)),
        source_paths=tuple(paths),
        description=description,
        owner=owner,
        products=products,
        seeds_first=bool(build.get("seeds_first")),
    )


def _listed_projects(config: MeshConfig) -> list[Path]:
    """The project folders `mesh.domains:` names (paths or globs relative to the mesh root)."""
    where = config.root / "mesh.yml"
    found: list[Path] = []
    for pattern in config.domain_paths:
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            raise MeshError(f"`mesh.domains:` entry {pattern!r} must be relative to the mesh root and inside it",
                            path=where)
        matches = sorted(p for p in config.root.glob(pattern) if (p / "dbt_project.yml").is_file()
                         and not {"dbt_packages", "target"}.intersection(p.relative_to(config.root).parts))
        if not matches:
            raise MeshError(f"`mesh.domains:` entry {pattern!r} matches no folder with a dbt_project.yml; "
                            "fix the path or remove the entry", path=where)
        found.extend(matches)
    return found


def discover_domains(config: MeshConfig) -> dict[str, Domain]:
    """All domains of the mesh, by name: every project folder under the domains folder, and those `mesh.domains:`
    lists anywhere in the repository."""
    folders = [p.parent for p in sorted(config.domains_dir.glob("*/dbt_project.yml"))]
    if not config.domains_dir.is_dir() and not config.domain_paths:
        raise MeshError(f"domains folder {config.domains_dir} does not exist",
                        path=config.root / "mesh.yml")
    folders += _listed_projects(config)
    domains: dict[str, Domain] = {}
    for folder in dict.fromkeys(p.resolve() for p in folders):
        domain = load_domain(folder)
        if domain.name in domains:
            raise MeshError(f"domain name {domain.name!r} is used by both {domains[domain.name].path} "
                            f"and {domain.path}; rename one project", path=folder / "dbt_project.yml")
        domains[domain.name] = domain
    return domains
