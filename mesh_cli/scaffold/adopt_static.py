"""What adoption reads of a dbt project without running dbt: its seeds, the config of each model, seed and
snapshot (materialization, access, `secure`, contract, group) by dbt's precedence (SQL `config()`, properties YAML,
dbt_project.yml), the sources it declares, and the hub packages its vendored packages install.

dbt's own parse would read these without a second reading of the files, but it needs what adoption exists to
report missing (a usable profile and adapter, installed packages, upstream manifests), so adoption reads the files
the way dbt does (https://docs.getdbt.com/reference/configs-and-properties, "Config precedence")."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesh_cli.core.domains import Domain
from mesh_cli.core.yamlfile import read_mapping, read_yaml

_CONFIG_KEY = re.compile(r"""\b(materialized|access|secure|group)\s*=\s*(['"]?)(\w+)\2""")
_CONFIG_CALL = re.compile(r"\{\{\s*config\((.*?)\)\s*\}\}", re.S)
_SNAPSHOT = re.compile(r"\{%-?\s*snapshot\s+(\w+)")
# resource type -> (its section of dbt_project.yml, the key of its folders there, their default)
_RESOURCES = {"model": ("models", "model-paths", ["models"]), "seed": ("seeds", "seed-paths", ["seeds"]),
              "snapshot": ("snapshots", "snapshot-paths", ["snapshots"])}
_DEFAULT_MATERIALIZED = {"model": "view", "seed": "seed", "snapshot": "snapshot"}
_PYTHON = "_python_model"


@dataclass(frozen=True)
class NodeConfig:
    """A model's, seed's or snapshot's config as far as adoption needs it, by dbt's precedence: the SQL file's
    `config()` over its properties YAML over dbt_project.yml (the most specific folder there) over the defaults."""

    kind: str                    # model, seed or snapshot
    materialized: str
    access: str
    secure: bool
    contract: bool = False       # contract: {enforced: true}
    group: str | None = None


def seed_names(project: Domain) -> set[str]:
    folders = read_mapping(project.path / "dbt_project.yml").get("seed-paths") or ["seeds"]
    return {f.stem for folder in folders if (project.path / folder).is_dir()
            for f in (project.path / folder).rglob("*.csv")}


def _project_config(project_file: dict[str, Any], kind: str, project: str, parts: list[str]) -> dict[str, Any]:
    """The configs dbt_project.yml sets for one resource: its section's top level, the project's level, then each
    folder and the resource's own name (`+key`, or a plain key whose value is not a mapping), outer first."""
    tree: Any = project_file.get(_RESOURCES[kind][0]) or {}
    found: dict[str, Any] = {}
    for part in [None, project, *parts]:
        tree = tree if part is None else (tree.get(part) if isinstance(tree, dict) else None)
        if not isinstance(tree, dict):
            break
        found.update({k.lstrip("+"): v for k, v in tree.items() if k.startswith("+") or not isinstance(v, dict)})
    return found


def _files(project: Domain, kind: str, suffixes: tuple[str, ...]) -> Iterator[tuple[Path, list[str]]]:
    """Each file of a resource type's folders with its folder names below them."""
    project_file = read_mapping(project.path / "dbt_project.yml")
    _, key, default = _RESOURCES[kind]
    for folder in (project.path / f for f in project_file.get(key) or default):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.suffix in suffixes:
                yield path, list(path.relative_to(folder).parts[:-1])


def _yaml_entries(project: Domain, key: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    project_file = read_mapping(project.path / "dbt_project.yml")
    folders = [*project.source_paths, *(project.path / p for p in project_file.get("seed-paths") or ["seeds"])]
    for folder in folders:
        for path in sorted(folder.rglob("*.y*ml")) if folder.is_dir() else []:
            data = read_yaml(path, default={})
            for entry in (data.get(key) or []) if isinstance(data, dict) else []:
                if isinstance(entry, dict) and entry.get("name"):
                    yield path, entry


def _written(project: Domain) -> dict[str, tuple[str, dict[str, Any], dict[str, Any]]]:
    """Each resource by name: its kind, the config dbt_project.yml gives it and its SQL `config()` call's."""
    project_file = read_mapping(project.path / "dbt_project.yml")
    found: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {}
    for kind in ("model", "snapshot"):
        for path, parts in _files(project, kind, (".sql", ".py")):
            text = path.read_text(encoding="utf-8")
            snapshot = _SNAPSHOT.search(text)
            if kind == "snapshot" and not snapshot:
                continue
            name = snapshot.group(1) if snapshot else re.sub(r"_v\d+$", "", path.stem)
            called = {k: v for call in _CONFIG_CALL.findall(text) for k, _, v in _CONFIG_KEY.findall(call)}
            if path.suffix == ".py":    # a Python model is a table or incremental, never a view
                called[_PYTHON] = True
            found[name] = ("snapshot" if snapshot else kind,
                           _project_config(project_file, "snapshot" if snapshot else kind, project.name,
                                           [*parts, name]), called)
    for path, parts in _files(project, "seed", (".csv",)):
        found[path.stem] = ("seed", _project_config(project_file, "seed", project.name, [*parts, path.stem]), {})
    return found


def _enforced(contract: Any) -> bool:
    return isinstance(contract, dict) and str(contract.get("enforced", "")).lower() == "true"


def node_configs(project: Domain) -> dict[str, NodeConfig]:
    """Each model, seed and snapshot of the project by name, with its config by dbt's precedence."""
    written = _written(project)
    properties: dict[str, dict[str, Any]] = {}
    for key in ("models", "seeds", "snapshots"):
        for _, entry in _yaml_entries(project, key):
            if entry["name"] in written:
                properties[entry["name"]] = {k: v for k, v in {**entry, **(entry.get("config") or {})}.items()
                                             if k in ("materialized", "access", "secure", "contract", "group")}
    configs = {}
    for name, (kind, from_project, called) in written.items():
        config = {**from_project, **properties.get(name, {}), **called}
        if config.pop(_PYTHON, False) and config.get("materialized") != "incremental":
            config["materialized"] = "table"
        configs[name] = NodeConfig(kind, str(config.get("materialized", _DEFAULT_MATERIALIZED[kind])),
                                   str(config.get("access", "protected")), str(config.get("secure", "")).lower() ==
                                   "true", _enforced(config.get("contract")),
                                   str(config["group"]) if config.get("group") else None)
    return configs


def sources_reading_seeds(project: Domain) -> Iterator[tuple[Path, str, str]]:
    """(file, source.table, seed) for each declared source table whose relation is one of the project's seeds."""
    seeds = seed_names(project)
    for path, source in _yaml_entries(project, "sources"):
        for table in source.get("tables") or []:
            if isinstance(table, dict) and (table.get("identifier") or table.get("name")) in seeds:
                yield path, f"{source['name']}.{table['name']}", str(table.get("identifier") or table["name"])


def nested_hub_packages(project: Domain) -> Iterator[tuple[Path, str]]:
    """(packages.yml of a vendored package, hub package) for hub packages that a `local:` package installs."""
    for folder, inner in _vendored(project):
        for item in inner:
            if isinstance(item, dict) and "package" in item:
                yield folder / "packages.yml", str(item["package"])


def secure_edit(project: Domain, model: str) -> tuple[Path, str, str] | None:
    """(properties file, text, the text with `secure: true` in the model's config): one literal edit that leaves
    every other line as written. None when the model has no YAML entry in a shape this edit can read."""
    for path, entry in _yaml_entries(project, "models"):
        if entry["name"] != model:
            continue
        text = path.read_text(encoding="utf-8")
        named = re.search(rf"^([ \t]*-[ \t]*)name:[ \t]*['\"]?{re.escape(model)}['\"]?[ \t]*(#[^\n]*)?\n", text, re.M)
        if named is None:
            return None
        indent = " " * len(named.group(1))
        if "config" not in entry:
            return path, named.group(0), f"{named.group(0)}{indent}config: {{secure: true}}\n"
        following = text[named.end():]
        config = re.search(rf"^{indent}config:[ \t]*(\{{|\n)", following, re.M)
        if config is None:
            return None
        head = named.group(0) + following[:config.end()]
        if config.group(1) == "{":
            return path, head, head + "secure: true, "
        return path, head, f"{head}{indent}  secure: true\n"
    return None


def _vendored(project: Domain) -> Iterator[tuple[Path, list[Any]]]:
    """(folder, packages.yml entries) of each package the project installs with `local:`."""
    path = project.path / "packages.yml"
    entries = (read_mapping(path, default={}).get("packages") or []) if path.is_file() else []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and "local" in entry:
            folder = (project.path / str(entry["local"])).resolve()
            nested = folder / "packages.yml"
            inner = (read_mapping(nested, default={}).get("packages") or []) if nested.is_file() else []
            yield folder, inner if isinstance(inner, list) else []


def nested_local_paths(project: Domain) -> Iterator[tuple[Path, str, str]]:
    """(packages.yml of a vendored package, a `local:` path it writes relative to itself, the same folder relative
    to the project): dbt resolves a vendored package's own `local:` paths from the consuming project's folder
    (https://github.com/dbt-labs/dbt-core/issues/5410), so a path written from the package's folder is not found."""
    for folder, inner in _vendored(project):
        for item in inner:
            if not (isinstance(item, dict) and "local" in item):
                continue
            written = str(item["local"])
            if (project.path / written / "dbt_project.yml").is_file():
                continue
            if (folder / written / "dbt_project.yml").is_file():
                yield folder / "packages.yml", written, os.path.relpath((folder / written).resolve(), project.path)
