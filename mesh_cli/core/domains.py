"""Domain discovery: every dbt project under the mesh's domains folder is a domain."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.errors import MeshError
from mesh_cli.core.strict import check_identifier_length, check_keys
from mesh_cli.core.yamlfile import read_mapping

DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
DOMAIN_FILE_KEYS = ("domain", "products", "provision", "build")
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
    check_keys(data, DOMAIN_FILE_KEYS, path=path, where="")
    info = data.get("domain") or {}
    if not isinstance(info, dict):
        raise MeshError("`domain:` must be a mapping (name, description, owner)", path=path)
    check_keys(info, ("name", "description", "owner"), path=path, where="domain")
    owner = info.get("owner")
    if owner is not None and not (isinstance(owner, dict) and owner.get("name")):
        raise MeshError("`domain.owner` needs at least a `name:`", path=path)
    if owner is not None:
        check_keys(owner, ("name", "email"), path=path, where="domain.owner")
    products = data.get("products") or []
    if not isinstance(products, list):
        raise MeshError("`products:` must be a list", path=path)
    return (str(info.get("description", "")),
            Owner(str(owner["name"]), owner.get("email")) if owner else None,
            tuple(products))


DOMAIN_FILE = "domain.yml"
MISNAMED_DOMAIN_FILES = ("domain.yaml", "Domain.yml", "domain.yml.yml", "domains.yml")


def domain_file(project_dir: Path) -> Path:
    """The domain's `domain.yml`. A misnamed one (`domain.yaml`) is refused with the right name: read as "no
    products", it would turn into a plan that drops every share of the domain."""
    path = project_dir / DOMAIN_FILE
    if not path.is_file():
        for name in MISNAMED_DOMAIN_FILES:
            if (project_dir / name).is_file():
                raise MeshError(f"the domain file must be named {DOMAIN_FILE}: rename {name} to {DOMAIN_FILE}",
                                path=project_dir / name)
    return path


def load_domain(project_dir: Path) -> Domain:
    """Read one domain's dbt_project.yml, dependencies.yml and domain.yml."""
    project_file = project_dir / "dbt_project.yml"
    project = read_mapping(project_file)
    name = project.get("name")
    if not isinstance(name, str) or not DOMAIN_NAME.match(name):
        raise MeshError(f"project name {name!r} is not a valid domain name "
                        "(lower-case letters, digits and underscores, starting with a letter)",
                        path=project_file)
    check_identifier_length(name, what="domain name (its database and shares are named after it)",
                            path=project_file)
    paths = [project_dir / p for key, default in SOURCE_PATH_KEYS.items()
             for p in project.get(key, default)]
    path = domain_file(project_dir)
    description, owner, products = _domain_info(path)
    build = (read_mapping(path, default={}).get("build") or {}) if path.is_file() else {}
    if not isinstance(build, dict):
        raise MeshError("`build:` takes `seeds_first: true|false` only", path=path)
    check_keys(build, ("seeds_first",), path=path, where="build")
    return Domain(
        name=name,
        path=Path(os.path.abspath(project_dir)),   # through a symlinked folder as given: see config.domains_dir
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


def require_domains(config: MeshConfig, domains: dict[str, Domain], doing: str) -> dict[str, Domain]:
    """`domains`, or one line saying the mesh has none when it is empty (a command with nothing to `doing`)."""
    if not domains:
        raise MeshError(f"no domains in {config.domains_dir}: nothing to {doing}; create one with "
                        "`mesh init domain NAME`", path=config.root / "mesh.yml")
    return domains


def discover_domains(config: MeshConfig) -> dict[str, Domain]:
    """All domains of the mesh, by name: every project folder under the domains folder, and those `mesh.domains:`
    lists anywhere in the repository."""
    folders = [p.parent for p in sorted(config.domains_dir.glob("*/dbt_project.yml"))]
    if not config.domains_dir.is_dir() and not config.domain_paths:
        raise MeshError(f"domains folder {config.domains_dir} does not exist",
                        path=config.root / "mesh.yml")
    orphans = [p.parent for name in (DOMAIN_FILE, *MISNAMED_DOMAIN_FILES)
               for p in sorted(config.domains_dir.glob(f"*/{name}")) if not (p.parent / "dbt_project.yml").is_file()]
    if orphans:
        raise MeshError(f"{orphans[0].name} has a domain file but no dbt_project.yml: add the dbt project "
                        f"(`mesh init domain {orphans[0].name}`) or remove the folder", path=orphans[0])
    folders += _listed_projects(config)
    domains: dict[str, Domain] = {}
    unique: dict[Path, Path] = {}   # one project reached twice (a folder and a `mesh.domains:` glob) is one domain
    for found in folders:
        unique.setdefault(found.resolve(), found)
    for folder in unique.values():
        domain = load_domain(folder)
        if domain.name in domains:
            raise MeshError(f"domain name {domain.name!r} is used by both {domains[domain.name].path} "
                            f"and {domain.path}; rename one project", path=folder / "dbt_project.yml")
        domains[domain.name] = domain
    return domains
