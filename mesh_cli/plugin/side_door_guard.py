"""The side-door rule on compiled SQL, inside dbt: every node's SQL is judged after Jinja, before it runs
(`mesh_cli/core/compiled_guard.py` says what is refused and why).

`mesh_cli/plugin/dialect.py` calls `enter_node` before and `check_node` after compiling every node (models,
tests, snapshots, analyses, `on-run-start` hooks); the verdict and the node's scope are kept in
`compiled_guard.APPROVED`, where the engine's statement guard (`Engine.install_statement_guard`: DuckDB's session,
`engines/duckdb_session.py`; installed for every mesh domain by `install`) finds them for what runs outside the
compiled SQL (model hooks, `run_query` in Jinja). The other domains' databases are those the profile attaches and
those of the public models the resolver injected; a node may read there only the public relations it `ref`s. The
SQL is read in the engine's dialect, its session and file rules applied where the engine emulates governance. A
Python model runs Python: no SQL rule bounds it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from mesh_cli.core.compiled_guard import (
    APPROVED,
    BUILDS,
    PROJECT_SCOPE,
    Approval,
    Scope,
    Writer,
    may_need_parsing,
    refusal,
    rendering,
    scope_of,
    start_run,
)
from mesh_cli.core.domains import DOMAIN_FILE
from mesh_cli.core.errors import MeshError
from mesh_cli.engines.registry import emulates_governance, install_statement_guards, sqlglot_dialect

# id(manifest) -> (its number of nodes, the project's scope, what each node of the project and package builds)
_PROJECT_SCOPES: dict[int, tuple[int, Scope, dict[str, tuple[str, str, str]]]] = {}
PACKAGE = "data_mesh"
_PREPARE_HOOK = "{{data_mesh.prepare_governance()}}"    # the on-run-start hook `mesh init domain` writes
# dbt's macros the preparation runs its statements through: a project's own macro of one of these names replaces it
_RUNNERS = ("run_query", "statement")


def _relation(node: Any) -> str | None:
    identifier = getattr(node, "alias", None) or getattr(node, "identifier", None)
    if not (node.database and node.schema and identifier):
        return None
    return f"{node.database}.{node.schema}.{identifier}"


def _project_scope(config: Any, manifest: Any) -> Scope:
    """The other domains' databases and their public relations injected into this project (cached per manifest:
    computed once for a run, not once per node)."""
    cached = _PROJECT_SCOPES.get(id(manifest))
    if cached is not None and cached[0] == len(manifest.nodes):
        if not BUILDS:   # emptied by `start_run` since the scope was cached
            BUILDS.update(cached[2])
        return cached[1]
    own = str(config.credentials.database)
    owners: dict[str, str] = {}
    public: dict[str, list[str]] = {}
    allowed = []
    builds: dict[str, tuple[str, str, str]] = {}
    for node in manifest.nodes.values():
        relation = _relation(node)
        if relation and node.package_name in (config.project_name, PACKAGE):
            database, schema, name = relation.lower().split(".", 2)
            builds[node.unique_id] = (database, schema, name)
        if node.package_name == config.project_name or not node.database or node.database.upper() == own.upper():
            continue
        owners[node.database.upper()] = node.package_name
        public.setdefault(node.database.upper(), []).append(node.name)
        relation = _relation(node)
        if relation and str(getattr(node, "access", "")).endswith("public"):
            allowed.append(relation)
    attached = [getattr(a, "alias", None) or Path(str(getattr(a, "path", ""))).stem
                for a in getattr(config.credentials, "attach", None) or []]
    adapter = str(config.credentials.type)
    scope = scope_of(own, [*attached, *owners], {k: tuple(sorted(set(v))) for k, v in public.items()},
                     owners, allowed, dialect=sqlglot_dialect(adapter), emulated=emulates_governance(adapter))
    _PROJECT_SCOPES.clear()     # one project per run: keep one manifest's scope
    _PROJECT_SCOPES[id(manifest)] = (len(manifest.nodes), scope, builds)
    BUILDS.update(builds)
    return scope


def node_scope(config: Any, node: Any, manifest: Any) -> Scope:
    """What a node may read outside its database: the public relations it refs there, and the sources it reads
    that its project declares on a database no injected product lives in (a raw database the profile attaches; a
    source on a domain's database is refused by the file check, `mesh_cli/check/side_doors.py`)."""
    project = _project_scope(config, manifest)
    depends = getattr(node.depends_on, "nodes", None) or []
    refs = [manifest.nodes[uid] for uid in depends if uid in manifest.nodes]
    allowed = frozenset(r.upper() for r in (_relation(n) for n in refs) if r) & project.allowed
    sources = [manifest.sources[uid] for uid in depends if uid in manifest.sources]
    own = frozenset(r.upper() for r in (_relation(s) for s in sources if str(s.database).upper() not in project.public)
                    if r)
    return replace(project, allowed=allowed | own)


def _label(node: Any) -> str:
    return f"{node.original_file_path}: {node.name}"   # `file: node`, the start of every refusal's line


def _prepares_governance(config: Any, node: Any, manifest: Any) -> bool:
    """Whether a node is the package's governance preparation as the package wrote it: the on-run-start hook that
    calls it and nothing else, in a project that neither dispatches the package's macros to its own nor replaces
    the dbt macros it runs its statements through."""
    raw = re.sub(r"\s", "", str(getattr(node, "raw_code", "") or ""))
    if not (str(getattr(node, "resource_type", "")).endswith("operation") and raw == _PREPARE_HOOK):
        return False   # any other node: the project's dispatch and macros are not read for it
    redispatched = any(isinstance(entry, dict) and entry.get("macro_namespace") == PACKAGE
                       for entry in getattr(config, "dispatch", None) or [])
    replaced = any(macro.package_name == config.project_name and macro.name in _RUNNERS
                   for macro in (getattr(manifest, "macros", None) or {}).values())
    return not redispatched and not replaced


def _writer(node: Any) -> Writer:
    return Writer(BUILDS.get(node.unique_id), str(node.unique_id).startswith(f"model.{PACKAGE}."))


def enter_node(config: Any, node: Any, manifest: Any) -> None:
    """Before a node's Jinja renders (which may run statements: `run_query`), its scope is the one in force, and
    whether it is the package's governance preparation."""
    rendering(_prepares_governance(config, node, manifest))
    APPROVED[PROJECT_SCOPE] = Approval("dbt_project.yml: on-run-start/on-run-end", _project_scope(config, manifest),
                                       "")
    APPROVED[node.unique_id] = Approval(_label(node), node_scope(config, node, manifest), "")


def check_node(config: Any, node: Any, manifest: Any) -> None:
    """Refuse a node whose compiled SQL steps around the policies, in one line (file, node, fix); else record it
    as approved for the statement guard."""
    rendering(False)
    if str(getattr(node.language, "value", node.language)) != "sql":
        return    # a Python model runs Python, which no SQL rule bounds (docs/governance.md says so)
    approval = APPROVED.get(node.unique_id) or Approval(_label(node), node_scope(config, node, manifest), "")
    code = getattr(node, "compiled_code", None) or ""
    found = (refusal(code, approval.scope, _writer(node)) if code and may_need_parsing(code, approval.scope.foreign)
             else None)
    if found:
        raise MeshError(f"{approval.label}: its compiled SQL {found}")
    APPROVED[node.unique_id] = replace(approval, compiled=code.strip())


def install(project_dir: Path) -> None:
    """At the start of every dbt invocation: forget what earlier runs in this process judged, and in a mesh domain
    judge every statement its engine's session runs where the engine guards them (DuckDB), whether or not its
    profile loads the roles plugin (without it a pre-hook could set `mesh_roles` itself). Another project (the
    package's integration_tests set roles in hooks on purpose) runs unjudged, even in a process that built a
    domain before."""
    domain = (project_dir / DOMAIN_FILE).is_file()
    _PROJECT_SCOPES.clear()     # a manifest's id may be reused by the next run's (another project's) manifest
    start_run(guarded=domain)
    if domain:
        install_statement_guards()
