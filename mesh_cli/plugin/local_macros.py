"""The mesh's dbt macros for the embedded engine, reached by an adopted Snowflake project that does not install
the data_mesh package and has no `dispatch:` for it.

Local contract checks by Snowflake's types (`macros/contracts_local/`) and Snowpark Python models
(`macros/python/snowpark.sql`) are `duckdb__` overrides of dbt's own macros, reached through the project's
`dispatch: [{macro_namespace: dbt, search_order: [<project>, data_mesh, dbt]}]`. Adoption cannot write that
entry: on Snowflake it would also route the project's `generate_schema_name` and contracted CREATE TABLE to
data_mesh's (`default__generate_schema_name`, `snowflake__get_table_columns_and_constraints`), which changes what
it builds there. So only on a target whose engine previews Snowflake SQL (`Engine.previews_snowflake_sql`: DuckDB),
in a mesh whose SQL is Snowflake's (`sql: {dialect: snowflake}`), the plugin loads the data_mesh package's macros
(its models disabled) and searches it after the project for dbt's namespace. Snowflake targets, and projects that
install data_mesh or dispatch `dbt` themselves, are left exactly as they are.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from mesh_cli.core.package_path import dbt_package_path
from mesh_cli.engines.base import SNOWFLAKE_SQL
from mesh_cli.engines.registry import previews_snowflake_sql

PACKAGE = "data_mesh"
_FLAG = "_data_mesh_local_macros"


def _applies(config: Any, loaded: dict[str, Any]) -> bool:
    from mesh_cli.plugin.dialect import mesh_dialect

    return (previews_snowflake_sql(config.credentials.type) and PACKAGE not in loaded
            and not any(entry.get("macro_namespace") == "dbt" for entry in config.dispatch or [])
            and mesh_dialect(str(config.project_root)) == SNOWFLAKE_SQL)


def _macros_only(project: Any) -> Any:
    """The data_mesh package with its models disabled: the project gets its macros, not its platform tables."""
    models = copy.deepcopy(project.models or {})
    models.setdefault(PACKAGE, {})["+enabled"] = False
    project.models = models
    return project


def install() -> None:
    """Wrap dbt's dependency loading and dispatch search order once in this process (idempotent).

    Patches the private `RuntimeConfig.load_dependencies(base_only)` and `get_macro_search_order(macro_namespace)`:
    dbt has no public hook to add a package's macros, or a dispatch search order, to a project that does not
    declare them.
    Tested with dbt-core 1.10.11 and 1.11.16; tests/test_dbt_patches.py fails naming it when dbt changes it."""
    from dbt.config.runtime import RuntimeConfig

    if getattr(RuntimeConfig.load_dependencies, "data_mesh_local", False):
        return
    load_dependencies = RuntimeConfig.load_dependencies
    search_order = RuntimeConfig.get_macro_search_order

    def _load_dependencies(self: Any, base_only: bool = False) -> Any:
        if self.dependencies is not None:
            return self.dependencies
        loaded = dict(load_dependencies(self, base_only))
        if not base_only and _applies(self, loaded):
            for name, project in self.load_projects([Path(dbt_package_path())]):
                loaded[name] = _macros_only(project)
            setattr(self, _FLAG, True)
            self.dependencies = loaded
        return self.dependencies

    def _search_order(self: Any, macro_namespace: str) -> Any:
        found = search_order(self, macro_namespace)
        if found is None and macro_namespace == "dbt" and getattr(self, _FLAG, False):
            return [self.project_name, PACKAGE, "dbt"]
        return found

    setattr(_load_dependencies, "data_mesh_local", True)               # noqa: B010 (marks the wrapper: installed once)
    setattr(RuntimeConfig, "load_dependencies", _load_dependencies)     # noqa: B010 (dbt has no hook for these)
    setattr(RuntimeConfig, "get_macro_search_order", _search_order)     # noqa: B010
