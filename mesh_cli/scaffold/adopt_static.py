"""What adoption reads of a dbt project without running dbt: its seeds, the materialization, access and
`secure` config of each model as written (SQL `config()`, YAML, dbt_project.yml), the sources it declares, and
the hub packages its vendored packages install."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesh_cli.core.domains import Domain
from mesh_cli.core.yamlfile import read_mapping, read_yaml

_CONFIG_KEY = re.compile(r"""\b(materialized|access|secure)\s*=\s*(['"]?)(\w+)\2""")
_CONFIG_CALL = re.compile(r"\{\{\s*config\((.*?)\)\s*\}\}", re.S)


@dataclass(frozen=True)
class NodeConfig:
    """A model's, seed's or snapshot's config as far as adoption needs it."""

    kind: str                    # model, seed or snapshot
    materialized: str
    access: str
    secure: bool


def seed_names(project: Domain) -> set[str]:
    folders = read_mapping(project.path / "dbt_project.yml").get("seed-paths") or ["seeds"]
    return {f.stem for folder in folders if (project.path / folder).is_dir()
            for f in (project.path / folder).rglob("*.csv")}


def _folder_config(project: Domain, relative: Path) -> dict[str, Any]:
    """The `+key` configs dbt_project.yml sets for the folder of a model file (outer folders first)."""
    tree = (read_mapping(project.path / "dbt_project.yml").get("models") or {}).get(project.name) or {}
    found: dict[str, Any] = {}
    for part in [None, *relative.parts[1:-1]]:
        tree = tree if part is None else (tree.get(part) if isinstance(tree, dict) else None)
        if not isinstance(tree, dict):
            break
        found.update({k.lstrip("+"): v for k, v in tree.items() if k.startswith("+") or not isinstance(v, dict)})
    return found


def _yaml_entries(project: Domain, key: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    project_file = read_mapping(project.path / "dbt_project.yml")
    folders = [*project.source_paths, *(project.path / p for p in project_file.get("seed-paths") or ["seeds"])]
    for folder in folders:
        for path in sorted(folder.rglob("*.y*ml")) if folder.is_dir() else []:
            data = read_yaml(path, default={})
            for entry in (data.get(key) or []) if isinstance(data, dict) else []:
                if isinstance(entry, dict) and entry.get("name"):
                    yield path, entry


def node_configs(project: Domain) -> dict[str, NodeConfig]:
    """Each model, seed and snapshot of the project by name, with its config as written."""
    written: dict[str, dict[str, Any]] = {}
    for folder in project.source_paths:
        for path in sorted(folder.rglob("*.sql")) if folder.is_dir() else []:
            text = path.read_text(encoding="utf-8")
            config = _folder_config(project, path.relative_to(project.path))
            for call in _CONFIG_CALL.findall(text):
                config.update({k: v for k, _, v in _CONFIG_KEY.findall(call)})
            snapshot = re.search(r"\{%-?\s*snapshot\s+(\w+)", text)
            name = snapshot.group(1) if snapshot else re.sub(r"_v\d+$", "", path.stem)
            written[name] = {"kind": "snapshot" if snapshot else "model", **config}
    for name in seed_names(project):
        written[name] = {"kind": "seed", "materialized": "seed"}
    for key in ("models", "seeds", "snapshots"):
        for _, entry in _yaml_entries(project, key):
            if entry["name"] in written:
                config = entry.get("config") or {}
                written[entry["name"]].update({k: v for k, v in {**entry, **config}.items()
                                               if k in ("materialized", "access", "secure")})
    return {name: NodeConfig(str(c["kind"]), str(c.get("materialized", "view")),
                             str(c.get("access", "protected")), str(c.get("secure", "")).lower() == "true")
            for name, c in written.items()}


def sources_reading_seeds(project: Domain) -> Iterator[tuple[Path, str, str]]:
    """(file, source.table, seed) for each declared source table whose relation is one of the project's seeds."""
    seeds = seed_names(project)
    for path, source in _yaml_entries(project, "sources"):
        for table in source.get("tables") or []:
            if isinstance(table, dict) and (table.get("identifier") or table.get("name")) in seeds:
                yield path, f"{source['name']}.{table['name']}", str(table.get("identifier") or table["name"])


def nested_hub_packages(project: Domain) -> Iterator[tuple[Path, str]]:
    """(packages.yml of a vendored package, hub package) for hub packages that a `local:` package installs."""
    path = project.path / "packages.yml"
    entries = (read_mapping(path, default={}).get("packages") or []) if path.is_file() else []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and "local" in entry:
            nested = (project.path / str(entry["local"])).resolve() / "packages.yml"
            inner = (read_mapping(nested, default={}).get("packages") or []) if nested.is_file() else []
            for item in inner if isinstance(inner, list) else []:
                if isinstance(item, dict) and "package" in item:
                    yield nested, str(item["package"])
