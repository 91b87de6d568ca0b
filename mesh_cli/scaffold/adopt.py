"""`mesh init mesh DIR --adopt PATH...`: a mesh over dbt projects that already exist, wherever they live in the
repository. Writes mesh.yml (listing the projects under `mesh.domains:`) and a domain.yml for each project that
has none (a product of the models its downstream projects ref), maps dbt-loom manifests to projects, and reports
what stands in the way of `mesh build`, each with its fix. Model SQL and contracts are never edited."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import networkx as nx
import yaml

from mesh_cli.contracts.rules import ERROR, GOVERNANCE, RULES
from mesh_cli.core.config import MESH_FILE
from mesh_cli.core.domains import DOMAIN_NAME, Domain, load_domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.profile_outputs import LocalOutput, ProfileOutput, ProfileProblem
from mesh_cli.core.profiles import target_output
from mesh_cli.core.refs import scan_refs
from mesh_cli.core.yamlfile import read_mapping, read_yaml
from mesh_cli.engines.base import SNOWFLAKE_SQL
from mesh_cli.engines.registry import DEFAULT_ADAPTER, Engine, engine_class, sqlglot_dialect
from mesh_cli.scaffold.adopt_static import (
    NodeConfig,
    nested_hub_packages,
    nested_local_paths,
    node_configs,
    secure_edit,
    sources_reading_seeds,
)

LOOM_FILES = ("dbt_loom.config.yml", "dbt_loom.config.yaml")
LOCAL_TARGET = "local"
STATE_DIR = ".mesh"   # the state folder of the mesh.yml written
EMBEDDED = engine_class(DEFAULT_ADAPTER)   # the engine `local` builds on: the mesh's local default
MARK = "# Written by `mesh init mesh --adopt`"
# Contract types only Snowflake spells so (https://docs.snowflake.com/en/sql-reference/intro-summary-data-types):
# a project declaring one is written for Snowflake. TEXT, STRING, FLOAT4/8, VARBINARY and ARRAY are left out: other
# warehouses spell them too.
SNOWFLAKE_TYPES = re.compile(r"^\s*(number|variant|object|timestamp_(ntz|ltz|tz)|byteint)\b", re.I)


@dataclass(frozen=True)
class Finding:
    """Something that stands in the way of building an adopted project with the mesh, and its fix. `edit` is
    (file, current text, new text) when the fix is replacing one literal line fragment in a file."""

    project: str
    problem: str
    fix: str
    edit: tuple[Path, str, str] | None = None
    safe: bool = False      # `--apply` makes the edit itself (never a contract type or model SQL)


@dataclass
class Adoption:
    """What `--adopt` wrote and found."""

    root: Path
    domains: dict[str, str]                                     # project name -> folder relative to the root
    loom: dict[str, str] = field(default_factory=dict)          # dbt-loom manifest name -> project name
    findings: list[Finding] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    applied: list[Finding] = field(default_factory=list)
    target: str = "dev"
    dialect: str | None = None                                   # `sql: {dialect}` of the mesh.yml written
    notes: list[str] = field(default_factory=list)               # what adoption left out, and why


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


def _render(value: Any, env: jinja2.Environment) -> Any:
    """One profile value rendered the way dbt renders it (strings one by one, after the YAML is read); a value
    that cannot be rendered stays as written, so one odd value never hides the whole profile."""
    if isinstance(value, dict):
        return {k: _render(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, env) for v in value]
    if not isinstance(value, str) or "{" not in value:
        return value
    try:
        return env.from_string(value).render()
    except jinja2.TemplateError:
        return value


def _render_profiles(path: Path) -> dict[str, Any]:
    """profiles.yml rendered the way dbt renders it (env_var with its default), {} when it cannot be read."""
    def env_var(name: str, default: Any = None) -> Any:
        return os.environ.get(name, default if default is not None else "")
    env = jinja2.Environment()
    env.globals["env_var"] = env_var
    env.filters.update({"as_number": lambda v: v, "as_bool": lambda v: v, "as_text": str, "as_native": lambda v: v})
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return {}
    return _render(data, env) if isinstance(data, dict) else {}


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


def _profile_finding(projects: dict[str, Domain], problem: ProfileProblem) -> Finding:
    """The engine's word on a project's profile output, as a finding (its edit made by `--apply`)."""
    path = projects[problem.project].path / "profiles.yml"
    edit = (path, *problem.edit) if problem.edit else None
    return Finding(problem.project, problem.problem, problem.fix, edit, safe=edit is not None)


def _local_output(project: Domain, output: LocalOutput, warehouse: str) -> tuple[Path, str, str] | None:
    """An edit adding the mesh's output `local` beside the profile's others (after the `outputs:` line of the
    project's profile, in a profiles.yml that may hold several), or None when that profile has no single
    `outputs:` line to add it under."""
    path = project.path / "profiles.yml"
    text = path.read_text(encoding="utf-8")
    block = _profile_block(text, project.profile)
    found = list(re.finditer(r"^([ \t]+)outputs:[ \t]*\n", block[1], re.M)) if block else []
    if len(found) != 1 or block is None:
        return None
    indent = found[0].group(1) + "  "
    lines = [f"{LOCAL_TARGET}:   # added by `mesh init mesh --adopt --apply`: `mesh build` on the local "
             f"{EMBEDDED.adapter_type} engine, apart from {warehouse}", *(f"  {line}" for line in output.lines)]
    added = found[0].group(0) + "".join(f"{indent}{line}\n" for line in lines)
    new_block = block[1].replace(found[0].group(0), added, 1)
    return path, block[0] + block[1], block[0] + new_block


def _profile_block(text: str, profile: str) -> tuple[str, str] | None:
    """(the top-level line naming `profile`, the lines under it up to the next top-level key) of a profiles.yml
    that may hold several profiles; None when the profile's line is not plain `name:`."""
    start = re.search(rf"^{re.escape(profile)}:[ \t]*(#[^\n]*)?\n", text, re.M)
    if start is None:
        return None
    end = re.search(r"^[^\s#]", text[start.end():], re.M)
    return start.group(0), text[start.end():start.end() + end.start() if end else len(text)]


def _added_local(project: Domain) -> bool:
    """Whether an earlier `--apply` added the mesh's `local` output to the project's profile."""
    path = project.path / "profiles.yml"
    marker = f"{LOCAL_TARGET}:   # added by `mesh init mesh --adopt"
    return path.is_file() and marker in path.read_text(encoding="utf-8")


def _has_output(project: Domain, target: str) -> bool:
    outputs = ((read_mapping(project.path / "profiles.yml", default={}).get(project.profile) or {}).get("outputs")
               if (project.path / "profiles.yml").is_file() else None) or {}
    return isinstance(outputs, dict) and target in outputs


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


def _private_package_findings(project: Domain, projects: dict[str, Domain],
                              configs: dict[str, NodeConfig]) -> Iterator[Finding]:
    """Refs to private models of a package the project installs with `local:` (not an adopted project): dbt
    refuses them outside the model's group; only dbt-loom's relaxed access let them parse."""
    path = project.path / "packages.yml"
    entries = (read_mapping(path, default={}).get("packages") or []) if path.is_file() else []
    adopted = {p.path for p in projects.values()}
    refs = scan_refs(project.source_paths).refs
    for entry in entries if isinstance(entries, list) else []:
        folder = (project.path / str(entry["local"])).resolve() if isinstance(entry, dict) and "local" in entry \
            else None
        if folder is None or folder in adopted or not (folder / "dbt_project.yml").is_file():
            continue
        try:
            package = load_domain(folder)
        except MeshError:
            continue
        found = node_configs(package)
        for ref in refs:
            named = ref.package == package.name or (ref.package is None and ref.name not in configs)
            config = found.get(ref.name) if named else None
            if config is not None and config.access == "private":
                yield Finding(project.name, f"ref to {ref.name} of package {package.name} "
                              f"({ref.file.relative_to(project.path)}) relies on dbt-loom's relaxed access: it is "
                              f"private in {package.name} (its config), and dbt refuses a ref to a private model "
                              "from outside its group",
                              f"give {ref.name} `+access: protected` in {folder / 'dbt_project.yml'} (the vendored "
                              "copy), or stop reffing it")


def _nested_path_findings(project: Domain, projects: dict[str, Domain]) -> Iterator[Finding]:
    """A vendored package's `local:` path written from its own folder: dbt reads it from the consuming project's
    (https://github.com/dbt-labs/dbt-core/issues/5410). `--apply` rewrites it when every adopted project installing
    that package needs the same path."""
    for path, written, fixed in nested_local_paths(project):
        needed = {f for p in projects.values() for file, w, f in nested_local_paths(p) if file == path and w == written}
        edit = (path, f"local: {written}", f"local: {fixed}") if len(needed) == 1 else None
        yield Finding(project.name, f"vendored package {path.parent.name} installs `local: {written}` ({path}), a path "
                      f"from its own folder; dbt resolves it from {project.path}, where it does not exist",
                      f"write `local: {fixed}` (relative to {project.path}) in {path}" + (
                          "" if edit else "; projects at other depths install this package: vendor it once per "
                          "depth, or give each a copy"), edit, safe=edit is not None)


def _contract_findings(project: Domain, engine: type[Engine], snowflake: bool,
                       configs: dict[str, NodeConfig]) -> Iterator[Finding]:
    """Contract types the local engine cannot create; in a Snowflake mesh, only those that have no local spelling
    (the local contract check reads the others by Snowflake's type semantics)."""
    for folder in project.source_paths:
        for path in sorted(folder.rglob("*.y*ml")) if folder.is_dir() else []:
            data = read_yaml(path, default={})
            for model in (data.get("models") or []) if isinstance(data, dict) else []:
                config = configs.get(str(model.get("name"))) if isinstance(model, dict) else None
                if config is None or not config.contract:
                    continue
                for column in model.get("columns") or []:
                    data_type = str(column.get("data_type") or "")
                    error = engine.contract_type_error(data_type) if data_type else None
                    spelling = engine.native_spelling(data_type) if error else None
                    if error and snowflake and spelling and engine.contract_type_error(spelling) is None:
                        continue
                    if error:
                        hint = (f"declare `data_type: {spelling}` for the {engine.adapter_type} target" if spelling
                                and engine.contract_type_error(spelling) is None
                                else "build its dev target on Snowflake")
                        yield Finding(project.name, f"contract type {data_type!r} of {model.get('name')}."
                                      f"{column.get('name')} ({path.relative_to(project.path)}) cannot be created "
                                      f"by the local engine: {error}", hint)


def _loom(projects: dict[str, Domain]) -> tuple[dict[str, str], dict[str, list[str]], list[Finding]]:
    """dbt-loom manifest name -> the adopted project whose manifest it reads, and each project's upstreams by its
    dbt-loom config."""
    mapped: dict[str, str] = {}
    reads: dict[str, list[str]] = {}
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
                    reads.setdefault(project.name, []).append(found)
                else:
                    findings.append(Finding(project.name, f"dbt-loom manifest {entry['name']!r} ({file.name}: "
                                            f"type {entry.get('type', 'file')}, {source or 'no path'}) maps to no "
                                            "adopted project", "adopt the project that produces it "
                                            "(`--adopt PATH`); the mesh reads upstream manifests from its own "
                                            "state folder, so the dbt-loom config is no longer needed"))
    return mapped, reads, findings


def _dependency_findings(projects: dict[str, Domain], loom_reads: dict[str, list[str]]) -> Iterator[Finding]:
    """An upstream read through dbt-loom that dependencies.yml does not list: the mesh orders builds and resolves
    refs by dependencies.yml."""
    for name, reads in sorted(loom_reads.items()):
        project = projects[name]
        missing = [u for u in dict.fromkeys(reads) if u not in project.upstreams and u != name]
        if not missing:
            continue
        path = project.dependencies_file
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        entries = "".join(f"  - name: {u}\n" for u in missing)
        header = re.search(r"^projects:[ \t]*\n", text, re.M)
        if header and "projects: []" not in text:
            edit = (path, header.group(0), "projects:\n" + entries)
        elif "projects:" not in text:
            edit = (path, "", ("" if not text or text.endswith("\n") else "\n") + "projects:   # from the dbt-loom "
                    "config, by `mesh init mesh --adopt --apply`\n" + entries)
        else:
            edit = None
        yield Finding(name, f"reads {', '.join(missing)} through dbt-loom, but {path.relative_to(project.path.parent)} "
                      f"does not list {'it' if len(missing) == 1 else 'them'}",
                      "list " + ", ".join(f"`- name: {u}`" for u in missing) + f" under `projects:` in {path}",
                      edit, safe=edit is not None)


def _used_upstreams(projects: dict[str, Domain], candidates: dict[str, tuple[str, ...]],
                    reads: list[Read]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """Each project's upstreams: those its dependencies.yml lists, and those of its dbt-loom config that one of its
    refs reads. A dbt-loom manifest no ref reads (an `optional: true` back-link, say) is left out with a note: as
    a dependency it would order the build wrongly, or close a cycle."""
    read = {(r.consumer, r.upstream) for r in reads}
    used: dict[str, tuple[str, ...]] = {}
    notes = []
    for name, found in candidates.items():
        used[name] = tuple(u for u in found if u in projects[name].upstreams or (name, u) in read)
        notes += [f"{name}: its dbt-loom config reads {u}'s manifest, but no ref of {name} reads {u}: not made a "
                  f"dependency" for u in found if u not in used[name]]
    return used, notes


def _refuse_cycles(projects: dict[str, Domain], upstreams: dict[str, tuple[str, ...]]) -> None:
    """Bad input before anything is written: projects that read each other in a circle."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_edges_from((u, n) for n, found in upstreams.items() for u in found if u in projects)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    names = [edge[0] for edge in cycle] + [cycle[0][0]]
    raise MeshError(f"projects read each other in a cycle {' -> '.join(names)} (dependencies.yml, dbt-loom configs "
                    "and the refs they serve): a project cannot read its own downstream; remove the ref or the entry "
                    f"that closes it, then adopt again; nothing was written",
                    path=projects[names[1]].dependencies_file)


@dataclass(frozen=True)
class Read:
    """One cross-project ref as adoption resolves it (an unqualified ref to the one upstream that has the name)."""

    consumer: str
    upstream: str
    name: str
    file: Path


def _reads(projects: dict[str, Domain], upstreams: dict[str, tuple[str, ...]],
           configs: dict[str, dict[str, NodeConfig]], loom: dict[str, str]) -> list[Read]:
    """Each cross-project ref: two-argument (by project or dbt-loom manifest name), or unqualified to the one
    upstream that has the name."""
    found: dict[tuple[str, str, str], Read] = {}
    for name, project in projects.items():
        for ref in scan_refs(project.source_paths).refs:
            owner: str | None
            package = loom.get(ref.package, ref.package) if ref.package else None
            if package and package != name and package in projects:
                owner = package
            elif ref.package is None and ref.name not in configs[name]:
                owners = [u for u in upstreams[name] if ref.name in configs.get(u, {})]
                owner = owners[0] if len(owners) == 1 else None
            else:
                owner = None
            if owner:
                found.setdefault((name, owner, ref.name), Read(name, owner, ref.name, ref.file))
    return sorted(found.values(), key=lambda r: (r.consumer, r.upstream, r.name))


def _access_findings(projects: dict[str, Domain], reads: list[Read],
                     configs: dict[str, dict[str, NodeConfig]]) -> Iterator[Finding]:
    """Refs that only dbt-loom's relaxed access lets through (it registers each manifest under its config name,
    so dbt's check for protected models of another project does not apply), and shared views that are not secure."""
    views: set[tuple[str, str]] = set()
    for read in reads:
        config = configs[read.upstream].get(read.name)
        where = read.file.relative_to(projects[read.consumer].path)
        if config and config.access != "public":
            how = ("`access: public` in its YAML" if config.kind == "model"
                   else f"`config: {{access: public}}` in its YAML (the mesh shares a {config.kind} that says so)")
            yield Finding(read.consumer, f"ref to {read.upstream}.{read.name} ({where}) relies on dbt-loom's relaxed "
                          f"access: {read.name} is {config.access} in {read.upstream}",
                          f"give {read.name} {how} in {read.upstream}; public models also need an enforced contract "
                          "(`mesh check` reports it as a warning)")
        elif (config and config.kind == "model" and config.materialized == "view" and not config.secure
              and (read.upstream, read.name) not in views):
            views.add((read.upstream, read.name))
            edit = secure_edit(projects[read.upstream], read.name)
            yield Finding(read.upstream, f"{read.name} is a view that {read.consumer} reads; shared views must be "
                          "secure (https://docs.snowflake.com/en/user-guide/data-sharing-secure-views), so it is left "
                          "out of the product adoption writes", "set `secure: true` in its config"
                          + (f" ({edit[0].relative_to(projects[read.upstream].path)})" if edit else "") +
                          " (dbt-snowflake then creates a secure view) or materialize it as a table, then re-run the "
                          "adoption", edit, safe=edit is not None)


def _domain_yml(project: Domain, reads: list[Read], configs: dict[str, dict[str, NodeConfig]],
                seeds_first: bool) -> str:
    """A domain.yml whose one product holds what downstream projects read and can be shared, shared with them."""
    mine = [r for r in reads if r.upstream == project.name]
    shared = {r.name for r in mine if (c := configs[project.name].get(r.name)) and c.access == "public"
              and (c.kind != "model" or c.materialized != "view" or c.secure)}
    consumers = sorted({r.consumer for r in mine if r.name in shared})
    data: dict[str, Any] = {"domain": {"name": project.name, "description": f"dbt project {project.name}, "
                                       "adopted into the mesh."}, "products": []}
    if shared:
        data["products"] = [{"name": f"{project.name}_public", "description": f"Public models of {project.name} "
                             "that other projects ref.", "models": sorted(shared),
                             "consumers": {"domains": consumers}}]
    if seeds_first:
        data["build"] = {"seeds_first": True}
    return (f"{MARK}: the data products of this project (shares, catalogue, checks); it rewrites this file "
            "when run again.\n" + yaml.safe_dump(data, sort_keys=False))


def _contract_types(project: Domain) -> Iterator[str]:
    """The `data_type` of every column the project's YAML declares."""
    for folder in project.source_paths:
        for path in sorted(folder.rglob("*.y*ml")) if folder.is_dir() else []:
            data = read_yaml(path, default={})
            for model in (data.get("models") or []) if isinstance(data, dict) else []:
                for column in (model.get("columns") or []) if isinstance(model, dict) else []:
                    if isinstance(column, dict) and column.get("data_type"):
                        yield str(column["data_type"])


def _writes_snowflake(project: Domain, warehouse: str | None) -> bool:
    """Whether the project is written for Snowflake: its target's engine runs Snowflake's SQL
    (`Engine.sqlglot_dialect`), or a contract spells a type only Snowflake has. Its SQL is then Snowflake's,
    transpiled on the embedded engine (docs/snowflake-sql-locally.md)."""
    runs_snowflake_sql = warehouse is not None and sqlglot_dialect(warehouse) == SNOWFLAKE_SQL
    return runs_snowflake_sql or any(SNOWFLAKE_TYPES.match(t) for t in _contract_types(project))


def _mesh_yml(name: str, domains: dict[str, str], loom: dict[str, str], target: str,
              dialect: str | None = None) -> str:
    lines = [f"{MARK}: the mesh over existing dbt projects; it rewrites this file when run again.", "mesh:",
             f"  name: {name}", "  domains_dir: domains        # new domains: `mesh init domain NAME`",
             "  domains:                    # adopted dbt projects, anywhere in the repository (paths or globs)"]
    lines += [f"    - {path}" for path in domains.values()]
    lines += [f"  state_dir: {STATE_DIR}", f"  default_target: {target}"]
    if dialect:
        lines += ["", "# The projects are written for Snowflake: on DuckDB their model SQL is transpiled and their",
                  "# contracts are checked by Snowflake's types; the mesh's dbt plugin reaches data_mesh's macros on",
                  "# DuckDB only, so the projects get no `dispatch:` (docs/adopting.md).",
                  "sql:", f"  dialect: {dialect}"]
    if loom:
        lines += ["", "# dbt-loom manifests and the projects they now resolve to:"]
        lines += [f"#   {manifest}: {project}" for manifest, project in sorted(loom.items())]
    lines += ["", "# Adopted projects start with the governance rules as warnings: `mesh check` lists what to fix.",
              "# Raise each rule back to `error` (or delete its line) once the projects meet it.", "check:",
              "  rules:"]
    lines += [f"    {rule.id}: warning" for rule in RULES if rule.kind == GOVERNANCE and rule.severity == ERROR]
    return "\n".join(lines) + "\n"


def _seed_findings(project: Domain, owned: bool) -> Iterator[Finding]:
    settings = read_mapping(project.path / "domain.yml", default={}) if (project.path / "domain.yml").is_file() else {}
    if ((settings.get("build") or {}).get("seeds_first") if isinstance(settings, dict) else False):
        return
    for path, source, seed in sources_reading_seeds(project):
        yield Finding(project.name, f"source {source} ({path.relative_to(project.path)}) reads the project's own "
                      f"seed {seed}: `dbt build` runs seeds and the models reading that source at the same time",
                      "build seeds first: `build: {seeds_first: true}` in its domain.yml (`mesh build` then runs "
                      f"`dbt seed` before `dbt build`); better, read the seed with ref('{seed}')", safe=owned)


def _apply(findings: list[Finding]) -> list[Finding]:
    """Make the safe edits; the findings applied."""
    applied = []
    for finding in findings:
        if not (finding.safe and finding.edit):
            continue
        path, old, new = finding.edit
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if old and old not in text:
            continue
        path.write_text(text.replace(old, new, 1) if old else text + new, encoding="utf-8")
        applied.append(finding)
    return applied


def _owned(path: Path) -> bool:
    """Whether adoption may (re)write the file: absent, or written by adoption."""
    return not path.exists() or path.read_text(encoding="utf-8").startswith(MARK)


def adopt(dest: Path, paths: list[Path], name: str | None = None, target: str = "dev",
          apply: bool = False) -> Adoption:
    """Write mesh.yml into the existing folder `dest` over the dbt projects at `paths`, and a domain.yml for each
    project without one; report what stands in the way of building them with the mesh, and with `apply` make the
    safe fixes (never a contract type or model SQL). Running it again rewrites only its own files and reports only
    what still stands in the way. Nothing is written when an input is bad."""
    root = dest.resolve()
    mesh_name = _mesh_name(dest, root, paths, name)
    survey = _survey(root, paths)
    result = survey.result
    for project in survey.projects.values():
        result.findings += _project_findings(survey, project, target, apply)
    if any(_writes_snowflake(p, survey.warehouse.get(n)) for n, p in survey.projects.items()):
        result.dialect = SNOWFLAKE_SQL
    local = _target_findings(survey, root, target)
    outputs = [ProfileOutput(n, survey.projects[n].path, o, target_output(survey.projects[n], result.target),
                             survey.upstreams[n])
               for n, o in survey.outputs.items() if not local or _has_output(survey.projects[n], LOCAL_TARGET)]
    result.findings += [_profile_finding(survey.projects, problem)
                        for problem in EMBEDDED.profile_problems(outputs, result.target)]
    result.findings += survey.loom_findings
    result.findings += _dependency_findings(survey.projects, survey.loom_reads)
    result.findings += _access_findings(survey.projects, survey.reads, survey.configs)
    if apply:
        result.applied = _apply(result.findings)
        survey.configs = {n: node_configs(p) for n, p in survey.projects.items()}   # as the applied edits left them
        result.applied += [f for f in result.findings if f.project in survey.seeds_first and "seeds_first" in f.fix]
        result.findings = [f for f in result.findings if f not in result.applied]
    _write_files(survey, root, mesh_name)
    return result


@dataclass
class _Survey:
    """What adoption read of the projects, and what it decided so far, shared by its steps."""

    result: Adoption
    projects: dict[str, Domain]
    configs: dict[str, dict[str, NodeConfig]]     # project -> its nodes' configs (`node_configs`)
    reads: list[Read]                             # each cross-project ref (`_reads`)
    upstreams: dict[str, tuple[str, ...]]         # the upstreams each project uses
    loom_reads: dict[str, list[str]]              # the upstreams each reads through dbt-loom
    loom_findings: list[Finding]
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)   # embedded profile outputs, per project
    warehouse: dict[str, str] = field(default_factory=dict)            # project -> its warehouse's adapter type
    seeds_first: set[str] = field(default_factory=set)                 # projects whose domain.yml builds seeds first


def _mesh_name(dest: Path, root: Path, paths: list[Path], name: str | None) -> str:
    """The mesh's name (`name`, else the folder's), once the folder and the projects given are checked."""
    if not root.is_dir():
        raise MeshError(f"{dest} is not a folder; --adopt writes mesh.yml into the repository that holds the "
                        "projects")
    if not _owned(root / MESH_FILE):
        raise MeshError(f"{root / MESH_FILE} already exists; list the projects under `mesh.domains:` there instead",
                        path=root / MESH_FILE)
    if not paths:
        raise MeshError("--adopt needs at least one dbt project folder")
    mesh_name = name or "".join(c if c.isalnum() else "_" for c in root.name.lower()).strip("_") or "mesh"
    if not DOMAIN_NAME.match(mesh_name):
        raise MeshError(f"mesh name {mesh_name!r} must be lower-case letters, digits and underscores, starting "
                        "with a letter; pass --name")
    return mesh_name


def _survey(root: Path, paths: list[Path]) -> _Survey:
    """The projects, their dbt-loom links, what each reads of the others and the upstreams it uses (no cycle)."""
    projects = _projects(root, paths)
    result = Adoption(root, {n: p.path.relative_to(root).as_posix() for n, p in sorted(projects.items())})
    result.loom, loom_reads, loom_findings = _loom(projects)
    candidates = {n: tuple(dict.fromkeys([*p.upstreams, *(u for u in loom_reads.get(n, []) if u != n)]))
                  for n, p in projects.items()}
    configs = {n: node_configs(p) for n, p in projects.items()}
    reads = _reads(projects, candidates, configs, result.loom)
    upstreams, result.notes = _used_upstreams(projects, candidates, reads)
    loom_reads = {n: [u for u in found if u in upstreams[n]] for n, found in loom_reads.items()}
    _refuse_cycles(projects, upstreams)
    return _Survey(result, projects, configs, reads, upstreams, loom_reads, loom_findings)


def _project_findings(survey: _Survey, project: Domain, target: str, apply: bool) -> list[Finding]:
    """What stands in the way in one project (upstreams, packages, seeds, its profile's output); records the
    project's output (embedded, or which warehouse) and whether its seeds go first."""
    findings = [Finding(project.name, f"dependencies.yml names project {upstream!r}, which is not adopted",
                        "adopt its folder too (`--adopt PATH`)")
                for upstream in survey.upstreams[project.name] if upstream not in survey.projects]
    findings += _package_findings(project, survey.projects)
    findings += [Finding(project.name, f"vendored package {path.parent.name} installs hub package "
                         f"{package} ({path}), which `dbt deps` cannot fetch without the dbt hub",
                         f"vendor {package} too and install it with `local: <its folder, relative to "
                         f"{project.path}>` in {path}: dbt resolves a vendored package's `local:` paths "
                         "from the consuming project's folder, not the package's")
                 for path, package in nested_hub_packages(project)]
    findings += _nested_path_findings(project, survey.projects)
    findings += _private_package_findings(project, survey.projects, survey.configs[project.name])
    seed_findings = list(_seed_findings(project, _owned(project.path / "domain.yml")))
    findings += seed_findings
    if seed_findings and apply and _owned(project.path / "domain.yml"):
        survey.seeds_first.add(project.name)
    output, finding = _output(project, target)
    if finding:
        findings.append(finding)
    elif output is not None and output.get("type") == EMBEDDED.adapter_type:   # already local: outputs may collide
        survey.outputs[project.name] = output
    elif output is not None:
        survey.warehouse[project.name] = str(output.get("type"))
    return findings


def _target_findings(survey: _Survey, root: Path, target: str) -> bool:
    """Choose the target the mesh builds on (one on the local engine when a project's target is a warehouse or two
    projects' local outputs collide), and report each project that lacks it, with its contract types on that
    engine.
    Returns whether the mesh builds on the local target."""
    result, projects, outputs, warehouse = survey.result, survey.projects, survey.outputs, survey.warehouse
    collisions = EMBEDDED.output_collisions(outputs)
    local = bool(warehouse or collisions) or any(_added_local(p) for p in projects.values())
    result.target = LOCAL_TARGET if local else target
    engine = EMBEDDED
    for project in projects.values():
        if project.name not in outputs and project.name not in warehouse:
            continue  # no usable profile: reported above
        if local and not _has_output(project, LOCAL_TARGET):
            if project.name in warehouse:
                problem = (f"target {target!r} of profile {project.profile!r} is {warehouse[project.name]}: "
                           "`mesh build` would build on that warehouse, or fail without its credentials")
            elif project.name in collisions:
                problem = collisions[project.name]
            else:
                problem = (f"the mesh builds on target {LOCAL_TARGET!r} (other projects' {target!r} is not "
                           f"{EMBEDDED.adapter_type})")
            added = EMBEDDED.local_profile_output(project.name, project.path, root / STATE_DIR,
                                                  survey.upstreams[project.name])
            edit = _local_output(project, added, f"target {target!r}")
            result.findings.append(Finding(project.name, problem, f"add a {EMBEDDED.adapter_type} output "
                                           f"{LOCAL_TARGET!r} with {added.holds} beside the others in "
                                           f"{project.path / 'profiles.yml'}; `mesh build` uses it (mesh.yml "
                                           f"`default_target: {LOCAL_TARGET}`), plain dbt keeps {target!r}",
                                           edit, safe=edit is not None))
        elif local:
            output, _ = _output(project, LOCAL_TARGET)
            if output is not None:
                outputs[project.name] = output
        result.findings += _contract_findings(project, engine, result.dialect == SNOWFLAKE_SQL,
                                              survey.configs[project.name])
    return local


def _write_files(survey: _Survey, root: Path, mesh_name: str) -> None:
    """mesh.yml, and a domain.yml for each project whose domain.yml adoption owns."""
    result = survey.result
    files = {root / MESH_FILE: _mesh_yml(mesh_name, result.domains, result.loom, result.target, result.dialect)}
    files.update({p.path / "domain.yml": _domain_yml(p, survey.reads, survey.configs, p.name in survey.seeds_first
                                                     or _marked_seeds_first(p))
                  for p in survey.projects.values() if _owned(p.path / "domain.yml")})
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
        result.written.append(path)


def _marked_seeds_first(project: Domain) -> bool:
    """Whether an adoption-written domain.yml already builds seeds first (kept when adoption runs again)."""
    path = project.path / "domain.yml"
    data = read_mapping(path, default={}) if path.is_file() and _owned(path) else {}
    return bool((data.get("build") or {}).get("seeds_first")) if isinstance(data, dict) else False
