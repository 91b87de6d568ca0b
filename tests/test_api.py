"""The public Python API (`mesh_cli/api.py`, docs/architecture.md "Public API"): each name is its module's own
object, the names type checkers see are the names served, and importing the API imports nothing of the mesh."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import mesh_cli.api as api

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", api.__all__)
def test_every_public_name_is_its_modules_own_object(name: str) -> None:
    module = importlib.import_module(api._MODULE_OF[name])
    assert getattr(api, name) is getattr(module, name)


def test_type_checkers_see_the_names_the_api_serves() -> None:
    """The `if TYPE_CHECKING:` re-exports and `_EXPORTS` list the same (module, name) pairs, each `name as name`."""
    tree = ast.parse((REPO / "mesh_cli/api.py").read_text())
    [block] = [node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"]
    imported = [(node.module, alias.name, alias.asname) for node in block.body if isinstance(node, ast.ImportFrom)
                for alias in node.names]
    assert all(name == asname for _, name, asname in imported)
    assert sorted((module, name) for module, name, _ in imported) == sorted(
        (module, name) for module, names in api._EXPORTS.items() for name in names)


def _loaded_after(statement: str) -> list[str]:
    """The modules of mesh_cli, dbt and DuckDB a new interpreter holds after running `statement`."""
    code = (f"import json, sys\n{statement}\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('mesh_cli', 'dbt', 'duckdb'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return list(json.loads(done.stdout))


def test_importing_the_api_imports_nothing_of_the_mesh_and_a_name_only_its_module() -> None:
    assert _loaded_after("import mesh_cli.api") == ["mesh_cli", "mesh_cli.api"]
    loaded = _loaded_after("from mesh_cli.api import load_config")
    assert "mesh_cli.core.config" in loaded and not [m for m in loaded if m.split(".")[0] in ("dbt", "duckdb")]
    loaded = _loaded_after("from mesh_cli.api import transpile")
    assert "mesh_cli.engines.duckdb_transpile" in loaded and not [m for m in loaded if m.split(".")[0] == "dbt"]


def test_dir_lists_every_public_name_before_it_is_loaded() -> None:
    assert set(api.__all__) <= set(dir(api))


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'plan_everything'"):
        api.plan_everything  # noqa: B018
    with pytest.raises(ImportError, match="cannot import name '_MODULE_OF_X'"):
        exec("from mesh_cli.api import _MODULE_OF_X", {})
