"""The private dbt internals the mesh patches, pinned: each test fails loudly, naming the internal, when a dbt
release renames it, changes its signature or drops the attribute the patch relies on, instead of a build failing
strangely later. Where dbt has a public hook the mesh uses it (the plugin's `get_nodes`); these five have none.

Tested with dbt-core 1.10.11 and 1.11.16, dbt-common 1.28.0 and 1.39.0, dbt-adapters 1.16.4 and 1.24.5 (the ends of
the supported range, constraints/floor.txt: `make test` and `make test-floor` both run this file, which needs no
conftest)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def _parameters(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(inspect.unwrap(function)).parameters)


def test_compiler_compile_code_takes_node_manifest_extra_context_and_returns_the_node() -> None:
    """mesh_cli/plugin/dialect.py wraps it to transpile each compiled model (dbt has no hook for compiled code)."""
    from dbt.compilation import Compiler

    assert _parameters(Compiler._compile_code) == ["self", "node", "manifest", "extra_context"], \
        "dbt changed Compiler._compile_code: update mesh_cli/plugin/dialect.py install()"
    assert inspect.signature(inspect.unwrap(Compiler._compile_code)).parameters["extra_context"].default is None


def test_runtime_config_dependency_loading_and_macro_search_order() -> None:
    """mesh_cli/plugin/local_macros.py wraps both to load the package's macros into an adopted project."""
    from dbt.config.runtime import RuntimeConfig

    assert _parameters(RuntimeConfig.load_dependencies) == ["self", "base_only"], \
        "dbt changed RuntimeConfig.load_dependencies: update mesh_cli/plugin/local_macros.py install()"
    assert _parameters(RuntimeConfig.get_macro_search_order) == ["self", "macro_namespace"], \
        "dbt changed RuntimeConfig.get_macro_search_order: update mesh_cli/plugin/local_macros.py install()"
    assert _parameters(RuntimeConfig.load_projects) == ["self", "paths"]
    fields = {field for cls in RuntimeConfig.__mro__ for field in getattr(cls, "__dataclass_fields__", {})}
    assert {"dependencies", "dispatch", "credentials", "project_name", "project_root", "models"} <= fields, \
        "RuntimeConfig lost an attribute mesh_cli/plugin/local_macros.py reads or sets"


def test_the_invocation_context_keeps_its_environment_in_a_private_case_insensitive_map() -> None:
    """dbt_data_mesh.py `_export` writes into `_env` (dbt reads `env_var()` from a copy of the environment taken
    before plugins start, and has no public setter for one variable)."""
    from dbt_common.context import CaseInsensitiveMapping, InvocationContext, try_get_invocation_context

    assert callable(try_get_invocation_context)
    env = InvocationContext({"HOME": "/x"}).env
    if isinstance(env, CaseInsensitiveMapping):   # dbt's choice on Windows; a plain dict elsewhere
        env._env["mesh_test"] = ("MESH_TEST", "1")
        assert env["MESH_TEST"] == "1"
    else:
        assert isinstance(env, dict), f"dbt's invocation env is now a {type(env).__name__}: update _export"
    mapping = CaseInsensitiveMapping({"Mesh_Var": "v"})
    assert mapping._env == {"mesh_var": ("Mesh_Var", "v")}, \
        "dbt_common changed CaseInsensitiveMapping._env: update dbt_data_mesh.py _export"
    mapping._env["other"] = ("OTHER", "w")
    assert mapping["OTHER"] == "w" and "other" in list(mapping)


def test_the_duckdb_connection_managers_add_query_takes_the_sql_second_and_knows_its_connection() -> None:
    """mesh_cli/engines/duckdb_session.py install_statement_guard wraps it to judge every statement dbt-duckdb runs
    (hooks, `run_query`) before it runs, reading the connection's name from `get_if_exists()`."""
    from dbt.adapters.contracts.connection import Connection
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    update = "update mesh_cli/engines/duckdb_session.py install_statement_guard"
    assert _parameters(DuckDBConnectionManager.add_query)[:2] == ["self", "sql"], \
        f"dbt changed DuckDBConnectionManager.add_query: {update}"
    assert _parameters(DuckDBConnectionManager.get_if_exists) == ["self"], \
        f"dbt changed ConnectionManager.get_if_exists: {update}"
    assert "name" in {field for cls in Connection.__mro__ for field in getattr(cls, "__dataclass_fields__", {})}, \
        f"dbt's Connection lost `name`: {update}"
