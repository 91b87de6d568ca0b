"""Snowflake SQL on the local engine: dbt's compiled SQL of a model, transpiled when the target's engine previews
Snowflake SQL (`Engine.previews_snowflake_sql`: DuckDB) and the model is written in Snowflake's dialect (one of
the engine's `sql_dialects`).

dbt has no hook between compiling a node and running it, so the `dbt_data_mesh` plugin wraps the compiler's
`_compile_code` once per process: plain `dbt build` in a domain and `mesh build` transpile alike, and
`target/compiled/` holds the SQL that ran. Which dialect a model is written in, first found wins:
1. the model's `meta: {sql_dialect: ...}` (a model, a folder in dbt_project.yml with `+meta`);
2. the project's var `data_mesh_sql_dialect` (in dbt_project.yml, or `--vars` on the command line);
3. `sql: {dialect: ...}` in the mesh's mesh.yml;
4. the engine's own (`duckdb`): nothing is transpiled.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from mesh_cli.core.config import MESH_FILE, find_mesh_root, load_config
from mesh_cli.core.errors import MeshError
from mesh_cli.engines.base import SNOWFLAKE_SQL
from mesh_cli.engines.registry import engine_class, previews_snowflake_sql
from mesh_cli.engines.snowflake_numbers import may_cast
from mesh_cli.plugin.side_door_guard import check_node, enter_node

SETTING = "sql_dialect"
VAR = "data_mesh_sql_dialect"   # `data_mesh:` vars belong to the governance library, which checks their keys
_CACHE_FOLDER = "data_mesh_transpiled"


def mesh_dialect(project_root: str) -> str | None:
    """The `sql: {dialect}` of the mesh holding a project, if any (read again when mesh.yml changes)."""
    root = find_mesh_root(Path(project_root))
    if root is None:
        return None
    mesh_file = root / MESH_FILE
    return _mesh_file_dialect(mesh_file, mesh_file.stat().st_mtime_ns)


@functools.lru_cache(maxsize=16)   # dbt compiles every model of a project, a worker builds many projects
def _mesh_file_dialect(mesh_file: Path, modified: int) -> str | None:
    value = load_config(mesh_file.parent).section("sql").get("dialect")
    return str(value).lower() if value else None


def _checked(value: object, where: str, dialects: tuple[str, ...]) -> str:
    dialect = str(value).lower()
    if dialect not in dialects:
        raise MeshError(f"{where}: sql_dialect {value!r} is not one of {', '.join(dialects)}; set one of them")
    return dialect


def model_dialect(config: Any, node: Any) -> str:
    """The dialect a model's SQL is written in (see the module's docstring), one of the target engine's."""
    dialects = engine_class(config.credentials.type).sql_dialects()
    meta = getattr(node.config, "meta", None) or {}
    if SETTING in meta:
        return _checked(meta[SETTING], f"model {node.name}", dialects)
    project_var = ((getattr(config, "cli_vars", None) or {}).get(VAR)
                   or config.vars.vars_for(node, config.credentials.type).get(VAR))
    if project_var:
        return _checked(project_var, f"var {VAR} of project {config.project_name}", dialects)
    found = mesh_dialect(str(config.project_root))
    where = f"{find_mesh_root(Path(config.project_root))}/mesh.yml"
    return _checked(found, where, dialects) if found else dialects[-1]


def _transpiles(config: Any, node: Any) -> bool:
    """Only the project's own SQL models: an installed package (the data_mesh package's platform models) writes
    each engine's SQL through dispatch already."""
    return (previews_snowflake_sql(config.credentials.type) and str(node.resource_type) in ("model", "NodeType.Model")
            and node.package_name == config.project_name
            and str(getattr(node.language, "value", node.language)) == "sql"
            and model_dialect(config, node) == SNOWFLAKE_SQL)


def _relations_read(node: Any, manifest: Any) -> list[tuple[str, str, str]]:
    """(database, schema, identifier) of each model, seed, snapshot and source the node reads."""
    found = []
    for unique_id in getattr(node.depends_on, "nodes", None) or []:
        parent = manifest.nodes.get(unique_id) or manifest.sources.get(unique_id)
        identifier = getattr(parent, "alias", None) or getattr(parent, "identifier", None)
        if parent is not None and parent.database and parent.schema and identifier:
            found.append((str(parent.database), str(parent.schema), str(identifier)))
    return found


def relation_columns(config: Any, node: Any, manifest: Any) -> list[Any]:
    """The columns of the relations a model reads, as the local database holds them now (its upstreams built): the
    rows of the engine's `columns_query`. Empty when they cannot be read (not built yet, no connection): arithmetic
    then keeps the local engine's types, stricter than Snowflake."""
    relations = _relations_read(node, manifest) if may_cast(node.compiled_code or "") else []
    if not relations:
        return []
    from dbt.adapters.factory import get_adapter
    from dbt_common.exceptions import DbtRuntimeError

    try:
        _, table = get_adapter(config).execute(engine_class(config.credentials.type).columns_query(relations),
                                               fetch=True)
    except DbtRuntimeError:     # no connection (a bare `dbt compile`...): the local engine's types stand
        return []
    return list(table.rows)


def install() -> None:
    """Wrap dbt's compiler once in this process (idempotent).

    Patches the private `Compiler._compile_code(node, manifest, extra_context)`: dbt has no public hook between
    rendering a model and running it, and the transpiled SQL must be the node's `compiled_code` (what dbt runs,
    writes to target/compiled and shows in its errors).
    Tested with dbt-core 1.10.11 and 1.11.16; tests/test_dbt_patches.py fails naming it when dbt changes it."""
    from dbt.compilation import Compiler
    from dbt_common.exceptions import CompilationError

    if getattr(Compiler._compile_code, "data_mesh_transpiles", False):
        return
    compile_code = Compiler._compile_code

    @functools.wraps(compile_code)
    def _compile_code(self: Any, node: Any, manifest: Any, extra_context: Any = None) -> Any:
        enter_node(self.config, node, manifest)   # statements its Jinja runs are judged in its scope
        node = compile_code(self, node, manifest, extra_context)
        try:
            if _transpiles(self.config, node):
                cache = Path(self.config.project_target_path) / _CACHE_FOLDER
                engine = engine_class(self.config.credentials.type)
                node.compiled_code = engine.transpile_snowflake(node.compiled_code, node.name, cache,
                                                                relation_columns(self.config, node, manifest))
            check_node(self.config, node, manifest)   # no side door in the SQL that will run
        except MeshError as exc:
            raise CompilationError(str(exc), node=node) from exc
        return node

    setattr(_compile_code, "data_mesh_transpiles", True)   # noqa: B010 (marks the wrapper: installed once)
    setattr(Compiler, "_compile_code", _compile_code)       # noqa: B010 (dbt has no hook for compiled code)
