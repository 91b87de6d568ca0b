"""`mesh init mesh DIR --adopt PATH...`: a mesh over dbt projects that already exist, wherever they live in the
repository. Writes mesh.yml (listing the projects under `mesh.domains:`) and a domain.yml for each project that
has none (a product of the models its downstream projects ref), maps dbt-loom manifests to projects, and reports
what stands in the way of `mesh build`, each with its fix. Models are never edited."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from mesh_cli.core.config import MESH_FILE
from mesh_cli.core.domains import DOMAIN_NAME, Domain, load_domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.refs import scan_refs
from mesh_cli.core.yamlfile import read_mapping, read_yaml
from mesh_cli.engines.registry import ENGINES, Engine

LOOM_FILES = ("dbt_loom.config.yml", "dbt_loom.config.yaml")
DUCKDB_DIR_VAR = "MESH_DUCKDB_DIR"


@dataclass(frozen=True)
class Finding:
    """Something that stands in the way of building an adopted project with the mesh, and its fix. `edit` is
    (file, current text, new text) when the fix is replacing one literal line fragment in a file."""

    project: str
    problem: str
    fix: str
    edit: tuple[Path, str, str] | None = None


@dataclass
class Adoption:
    """What `--adopt` wrote and found."""

    root: Path
    domains: dict[str, str]                                     # project name -> folder relative to the root
    loom: dict[str, str] = field(default_factory=dict)          # dbt-loom manifest name -> project name
    findings: list[Finding] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def _projects(root: Path, paths: list[Path]) -> dict[str, Domain]:
    projects: dict[str, Domain] = {}
    for given in paths:
        path = given.resolve()
        if not (path / "dbt_project.yml").is_file():
            raise MeshError(f"--adopt {given}: no dbt_project.yml in {path}; give the folder of a dbt project")
        if not path.is_relative_to(root):
            raise MeshError(f"--adopt {given}: {path} is outside the mesh folder {root}; adopt projects inside it")
        project = load_domain(path)
        if project.name in projects and projects[project.name].path != project.path:
            raise MeshError(f"--adopt: project name {project.name!r} is used by both {projects[project.name].path} "
                            f"and {project.path}; rename one project", path=path / "dbt_project.yml")
        projects[project.name] = project
    return projects


def _render_profiles(path: Path) -> dict[str, Any]:
    """profiles.yml rendered the way dbt renders it (env_var with its default), {} when it cannot be."""
    def env_var(name: str, default: str | None = None) -> str:
        return os.environ.get(name, default if default is not None else "")
    try:
        text = jinja2.Environment().from_string(path.read_text(encoding="utf-8")).render(env_var=env_var)
        data = yaml.safe_load(text)
    except (jinja2.TemplateError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _output(project: Domain, target: str) -> tuple[dict[str, Any] | None, Finding | None]:
    path = project.path / "profiles.yml"
    if not path.is_file():
        return None, Finding(project.name, f"no profiles.yml in {project.path} (mesh runs dbt with "
                             "--profiles-dir set to the project)", f"move profile {project.profile!r} from "
                             "~/.dbt/profiles.yml into the project's profiles.yml, secrets as env_var(...)")
    outputs = ((_render_profiles(path).get(project.profile) or {}).get("outputs")) or {}
    output = outputs.get(target)
    if not isinstance(output, dict):
        return None, Finding(project.name, f"profile {project.profile!r} has no target {target!r} "
                             f"(targets: {', '.join(sorted(outputs)) or 'none'})",
                             f"add an output {target!r} to {path}, or set `default_target:` in {MESH_FILE}")
    return output, None


def _raw_paths(project: Domain, target: str) -> tuple[str | None, list[str | None]]:
    """The DuckDB path and attach paths of the target as written (unrendered) in profiles.yml."""
    raw = read_mapping(project.path / "profiles.yml")
    output = ((raw.get(project.profile) or {}).get("outputs") or {}).get(target) or {}
    return output.get("path"), [a.get("path") for a in output.get("attach") or [] if isinstance(a, dict)]


def _mesh_path(written: str) -> str:
    folder, name = os.path.split(written)
    return "{{ env_var('" + DUCKDB_DIR_VAR + "', '" + (folder or ".") + "') }}/" + name


def _edit(project: Domain, written: str, fix: str) -> tuple[Path, str, str]:
    return project.path / "profiles.yml", f"path: {written}", f'path: "{fix}"'


def _duckdb_findings(projects: dict[str, Domain], outputs: dict[str, dict[str, Any]],
                     target: str) -> Iterator[Finding]:
    """Relative DuckDB paths (mesh builds from another folder than the project) and upstream databases a
    downstream does not attach."""
    files: dict[str, Path] = {}
    for name, output in outputs.items():
        written = str(output.get("path") or ":memory:")
        raw, raw_attach = _raw_paths(projects[name], target)
        if written == ":memory:":
            yield Finding(name, f"target {target!r} keeps its DuckDB database in memory; downstream projects "
                          "cannot read it", f"set `path: \"{_mesh_path(name + '.duckdb')}\"` in its profiles.yml")
            continue
        files[name] = (projects[name].path / written).resolve()
        if not Path(written).is_absolute():
            fix = _mesh_path(written)
            yield Finding(name, f"DuckDB path {written!r} is relative: dbt resolves it against the folder it runs "
                          "from, which under `mesh build` is not the project",
                          f"write `path: \"{fix}\"` in its profiles.yml (plain dbt in the project still uses "
                          f"{written}; mesh build sets {DUCKDB_DIR_VAR})",
                          _edit(projects[name], raw, fix) if raw == written else None)
        for attach, raw_attach_path in zip(output.get("attach") or [], raw_attach, strict=False):
            attached = str(attach.get("path", ""))
            if attached and not Path(attached).is_absolute():
                fix = _mesh_path(attached)
                yield Finding(name, f"attached DuckDB path {attached!r} is relative to the folder dbt runs from",
                              f"write `path: \"{fix}\"` under `attach:` in its profiles.yml",
                              _edit(projects[name], attached, fix) if raw_attach_path == attached else None)
    for name, output in outputs.items():
        attached_files = {(projects[name].path / str(a.get("path", ""))).resolve()
                          for a in output.get("attach") or [] if isinstance(a, dict)}
        for upstream in projects[name].upstreams:
            if upstream in files and files[upstream] not in attached_files:
                relative = os.path.relpath(files[upstream], projects[name].path)
                yield Finding(name, f"its DuckDB target does not attach the database of upstream {upstream} "
                              f"({files[upstream]}), so refs to {upstream} cannot be read",
                              f"add to target {target!r} in its profiles.yml: `attach: [{{path: "
                              f"\"{_mesh_path(relative)}\", read_only: true}}]`")


def _package_findings(project: Domain, projects: dict[str, Domain]) -> Iterator[Finding]:
    path = project.path / "packages.yml"
    packages = (read_mapping(path, default={}).get("packages") or []) if path.is_file() else []
    by_folder = {p.path: p.name for p in projects.values()}
    for entry in packages if isinstance(packages, list) else []:
        if not isinstance(entry, dict):
            continue
        installed = None
        if "local" in entry:
            installed = by_folder.get((project.path / str(entry["local"])).resolve())
        elif "git" in entry:
            tail = Path(str(entry.get("subdirectory") or str(entry["git"]).removesuffix(".git"))).name
            installed = tail if tail in projects else None
        if installed and installed != project.name:
            yield Finding(project.name, f"installs upstream project {installed} as a package ({path.name}), so "
                          f"every build of {project.name} rebuilds {installed}'s models",
                          f"remove that entry from {path} and list `- name: {installed}` under `projects:` in "
                          f"{project.name}/dependencies.yml; two-argument refs ref('{installed}', ...) stay as "
                          "they are")
        elif "package" in entry:
            yield Finding(project.name, f"hub package {entry['package']} ({entry.get('version', 'any version')}) "
                          "must be provided by the dbt hub when `mesh build` runs `dbt deps`",
                          "let the build machine reach hub.getdbt.com, or vendor the package and install it with "
                          f"`local:` or `git:` in {path}")


def _contract_findings(project: Domain, engine: type[Engine]) -> Iterator[Finding]:
    for folder in project.source_paths:
        for path in sorted(folder.rglob("*.y*ml")) if folder.is_dir() else []:
            data = read_yaml(path, default={})
            for model in (data.get("models") or []) if isinstance(data, dict) else []:
                config = (model.get("config") or {}) if isinstance(model, dict) else {}
                contract = config.get("contract") or model.get("contract") or {}
                if not (isinstance(contract, dict) and contract.get("enforced")):
                    continue
                for column in model.get("columns") or []:
                    data_type = str(column.get("data_type") or "")
                    error = engine.contract_type_error(data_type) if data_type else None
                    if error:
                        spelling = engine.native_spelling(data_type)
                        hint = (f"declare `data_type: {spelling}` for the {engine.adapter_type} target" if spelling
                                and engine.contract_type_error(spelling) is None
                                else "build its dev target on Snowflake")
                        yield Finding(project.name, f"contract type {data_type!r} of {model.get('name')}."
                                      f"{column.get('name')} ({path.relative_to(project.path)}) cannot be created "
                                      f"by the local engine: {error}", hint)


def _loom(projects: dict[str, Domain]) -> tuple[dict[str, str], list[Finding]]:
    """dbt-loom manifest name -> the adopted project whose manifest it reads."""
    mapped: dict[str, str] = {}
    findings: list[Finding] = []
    for project in projects.values():
        for file in (project.path / name for name in LOOM_FILES):
            manifests = (read_mapping(file).get("manifests") or []) if file.is_file() else []
            for entry in manifests if isinstance(manifests, list) else []:
                if not isinstance(entry, dict) or "name" not in entry:
                    raise MeshError(f"each entry of `manifests:` needs a `name:`, got {entry!r}", path=file)
                source = str((entry.get("config") or {}).get("path") or "")
                found = None
                if entry.get("type", "file") == "file" and source:
                    manifest = (project.path / source).resolve()
                    found = next((p.name for p in projects.values() if manifest.is_relative_to(p.path)), None)
                if found:
                    mapped[str(entry["name"])] = found
                else:
                    findings.append(Finding(project.name, f"dbt-loom manifest {entry['name']!r} ({file.name}: "
                                            f"type {entry.get('type', 'file')}, {source or 'no path'}) maps to no "
                                            "adopted project", "adopt the project that produces it "
                                            "(`--adopt PATH`); the mesh reads upstream manifests from its own "
                                            "state folder, so the dbt-loom config is no longer needed"))
    return mapped, findings


def _domain_yml(project: Domain, projects: dict[str, Domain], refs: dict[str, set[tuple[str, str]]]) -> str:
    """A domain.yml whose one product holds the models downstream projects ref, shared with them."""
    used = sorted({model for consumer, pairs in refs.items() for upstream, model in pairs
                   if upstream == project.name and consumer != project.name})
    consumers = sorted({consumer for consumer, pairs in refs.items() for upstream, _ in pairs
                        if upstream == project.name and consumer != project.name})
    data: dict[str, Any] = {"domain": {"name": project.name, "description": f"dbt project {project.name}, "
                                       "adopted into the mesh."}, "products": []}
    if used:
        data["products"] = [{"name": f"{project.name}_public", "description": f"Public models of {project.name} "
                             "that other projects ref.", "models": used, "consumers": {"domains": consumers}}]
    return ("# Written by `mesh init mesh --adopt`: the data products of this project (shares, catalogue, "
            "checks).\n" + yaml.safe_dump(data, sort_keys=False))


def _mesh_yml(name: str, domains: dict[str, str], loom: dict[str, str]) -> str:
    lines = ["# Written by `mesh init mesh --adopt`: the mesh over existing dbt projects.", "mesh:",
             f"  name: {name}", "  domains_dir: domains        # new domains: `mesh init domain NAME`",
             "  domains:                    # adopted dbt projects, anywhere in the repository (paths or globs)"]
    lines += [f"    - {path}" for path in domains.values()]
    lines += ["  state_dir: .mesh", "  default_target: dev"]
    if loom:
        lines += ["", "# dbt-loom manifests and the projects they now resolve to:"]
        lines += [f"#   {manifest}: {project}" for manifest, project in sorted(loom.items())]
    return "\n".join(lines) + "\n"


def adopt(dest: Path, paths: list[Path], name: str | None = None, target: str = "dev") -> Adoption:
    """Write mesh.yml into the existing folder `dest` over the dbt projects at `paths`, and a domain.yml for each
    project without one; report what stands in the way of building them with the mesh. Nothing is written when
    an input is bad."""
    root = dest.resolve()
    if not root.is_dir():
        raise MeshError(f"{dest} is not a folder; --adopt writes mesh.yml into the repository that holds the "
                        "projects")
    if (root / MESH_FILE).exists():
        raise MeshError(f"{root / MESH_FILE} already exists; list the projects under `mesh.domains:` there instead",
                        path=root / MESH_FILE)
    if not paths:
        raise MeshError("--adopt needs at least one dbt project folder")
    mesh_name = name or "".join(c if c.isalnum() else "_" for c in root.name.lower()).strip("_") or "mesh"
    if not DOMAIN_NAME.match(mesh_name):
        raise MeshError(f"mesh name {mesh_name!r} must be lower-case letters, digits and underscores, starting "
                        "with a letter; pass --name")
    projects = _projects(root, paths)
    result = Adoption(root, {n: p.path.relative_to(root).as_posix() for n, p in sorted(projects.items())})
    result.loom, loom_findings = _loom(projects)
    outputs: dict[str, dict[str, Any]] = {}
    for project in projects.values():
        for upstream in project.upstreams:
            if upstream not in projects:
                result.findings.append(Finding(project.name, f"dependencies.yml names project {upstream!r}, "
                                               "which is not adopted", "adopt its folder too (`--adopt PATH`)"))
        result.findings += _package_findings(project, projects)
        output, finding = _output(project, target)
        if finding:
            result.findings.append(finding)
        elif output is not None and output.get("type") in ENGINES and ENGINES[output["type"]].embedded:
            outputs[project.name] = output
            result.findings += _contract_findings(project, ENGINES[output["type"]])
    result.findings += _duckdb_findings(projects, outputs, target)
    result.findings += loom_findings
    refs = {n: {(r.package, r.name) for r in scan_refs(p.source_paths).refs if r.package}
            for n, p in projects.items()}
    files = {root / MESH_FILE: _mesh_yml(mesh_name, result.domains, result.loom)}
    files.update({p.path / "domain.yml": _domain_yml(p, projects, refs) for p in projects.values()
                  if not (p.path / "domain.yml").exists()})
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
        result.written.append(path)
    return result
