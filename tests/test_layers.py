"""The import rules of docs/architecture.md ("Layers"), read from the code's own imports with `ast`: a package
imports only the layers below its own, a feature never imports another feature, only the engines import a
warehouse's driver, and nothing below the CLI imports click or rich; outside the package, bench/ imports only the
public API ("Public API") and no test. Each test fails naming the file, the import and the rule it breaks.

Imports anywhere in a module count (a function's lazy import too), and so does `importlib.import_module` (or
`__import__`) of a literal name."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mesh_cli"

# docs/architecture.md "Layers", top to bottom: a package may import every package of the layers below, and of its
# own layer only those the layer names for it (`dbt/` may import `deployed/` and `engines/`, `deployed/` may import
# `engines/`; `contracts/` imports no other service and no other service imports it).
LAYERS: list[tuple[str, tuple[str, ...], dict[str, tuple[str, ...]]]] = [
    ("cli", ("cli", "commands"), {"cli": ("commands",)}),
    ("api", ("api",), {}),
    ("workflow", ("build",), {}),
    ("features", ("catalog", "check", "governance", "ingest", "orchestrate", "plugin", "provision", "scaffold",
                  "shares"), {}),
    ("services", ("dbt", "deployed", "engines", "contracts"), {"dbt": ("deployed", "engines"),
                                                               "deployed": ("engines",)}),
    ("core", ("core", "__init__"), {}),
]
DRIVER_PREFIXES = ("duckdb", "snowflake")   # modules named duckdb*, snowflake* (the connector, Snowpark): engines/ only
DRIVER_ADAPTERS = ("dbt.adapters.duckdb", "dbt.adapters.snowflake")   # dbt's adapters of them: engines/ only
CLI_ONLY = ("click", "rich")                                         # only cli.py and commands/ import them


def _package(module: str) -> str:
    """`mesh_cli.check.run` -> `check`; the package's own `__init__` is `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(package: str) -> tuple[int, dict[str, tuple[str, ...]]]:
    for index, (_, packages, within) in enumerate(LAYERS):
        if package in packages:
            return index, within
    raise AssertionError(f"mesh_cli/{package} is in no layer of tests/test_layers.py: add it to docs/architecture.md "
                         "and LAYERS")


def allowed(importer: str, imported: str) -> bool:
    """Whether module `importer` may import module `imported` (both `mesh_cli.…`) by the layer rules.

    >>> allowed("mesh_cli.commands.build", "mesh_cli.build.run"), allowed("mesh_cli.core.plan", "mesh_cli.engines")
    (True, False)
    >>> allowed("mesh_cli.shares.publish", "mesh_cli.check.run"), allowed("mesh_cli.dbt.parse", "mesh_cli.engines")
    (False, True)
    >>> allowed("mesh_cli.engines.duckdb", "mesh_cli.contracts"), allowed("mesh_cli.check.run", "mesh_cli.contracts")
    (False, True)
    """
    source, target = _package(importer), _package(imported)
    if source == target or target == "__init__":
        return True
    (source_layer, within), (target_layer, _) = _layer(source), _layer(target)
    if source_layer == target_layer:
        return target in within.get(source, ())
    return source_layer < target_layer


def is_driver(module: str) -> bool:
    """Whether `module` is a warehouse's driver or dbt's adapter of one (only engines/ may import it).

    >>> is_driver("snowflake"), is_driver("duckdb_engine"), is_driver("dbt.adapters.duckdb.plugins")
    (True, True, True)
    >>> is_driver("dbt.adapters.factory"), is_driver("mesh_cli.engines.duckdb")
    (False, False)
    """
    return (module.split(".")[0].startswith(DRIVER_PREFIXES)
            or any(module == adapter or module.startswith(f"{adapter}.") for adapter in DRIVER_ADAPTERS))


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every module the file imports (absolute names), with its line."""
    yield from imports_in(path.read_text(), ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]))


_IMPORTERS = ("import_module", "__import__")   # importlib.import_module(name), __import__(name)


def imports_in(source: str, package: str) -> Iterator[tuple[str, int]]:
    """Every module Python `source` of a module in `package` imports (absolute names), with its line."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:   # `from ..core import x` in mesh_cli/check/run.py: mesh_cli.core
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            yield base, node.lineno
            # `from mesh_cli.contracts import rules` imports the module (or package) mesh_cli.contracts.rules, and
            # `from dbt.adapters import duckdb` dbt.adapters.duckdb (outside mesh_cli, any name may be a module)
            yield from ((f"{base}.{alias.name}", node.lineno) for alias in node.names
                        if not base.startswith("mesh_cli") or _is_module(base, alias.name))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) in _IMPORTERS):
            yield node.args[0].value, node.lineno


def _is_module(package: str, name: str) -> bool:
    where = PACKAGE.parent.joinpath(*package.split("."), name)
    return where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()


@functools.cache
def departures() -> list[tuple[str, str, str]]:
    """(importer module, imported module, `file:line: rule`) for every import the rules refuse."""
    return list(_departures())


def _departures() -> Iterator[tuple[str, str, str]]:
    for module, path in modules():
        yield from rule_breaks(module, path.relative_to(PACKAGE.parent), imports(path))


def rule_breaks(module: str, where: Path, found: Iterable[tuple[str, int]]) -> Iterator[tuple[str, str, str]]:
    """(module, imported, `file:line: rule`) for each of the imports `found` in `module` that the rules refuse."""
    for imported, line in found:
        if imported.startswith("mesh_cli.") and not allowed(module, imported):
            yield module, imported, (f"{where}:{line}: {module} imports {imported}: "
                                     f"{_package(module)} may not import {_package(imported)}")
        elif imported.split(".")[0] in CLI_ONLY and _package(module) not in LAYERS[0][1]:
            yield module, imported, f"{where}:{line}: {imported} below the CLI (only cli.py and commands/)"
        elif is_driver(imported) and _package(module) != "engines":
            yield module, imported, f"{where}:{line}: {imported} outside engines/"


def test_every_import_follows_the_layers() -> None:
    found = [message for _, _, message in departures()]
    assert not found, "\n".join(["imports against docs/architecture.md (Layers):", *found])



@pytest.mark.parametrize(("importer", "imported"), [
    ("mesh_cli.engines.duckdb", "mesh_cli.shares.spec"),        # an engine importing a feature
    ("mesh_cli.core.plan", "mesh_cli.dbt.invoke"),              # core importing a service
    ("mesh_cli.ingest.run", "mesh_cli.provision.spec"),         # a feature importing another
    ("mesh_cli.check.run", "mesh_cli.build.run"),               # a feature importing the workflow above it
    ("mesh_cli.engines.registry", "mesh_cli.deployed.store"),   # a service importing one above it
    ("mesh_cli.contracts.policy", "mesh_cli.dbt.parse"),        # the pure contract comparison running dbt
])
def test_the_rules_refuse_an_import_against_the_layers(importer: str, imported: str) -> None:
    assert not allowed(importer, imported)


def _breaks(module: str, source: str) -> list[str]:
    found = imports_in(source, module.rsplit(".", 1)[0])
    return [message for _, _, message in rule_breaks(module, Path("x.py"), found)]


@pytest.mark.parametrize(("module", "source", "broken"), [
    ("mesh_cli.shares.publish", "from snowflake import connector", "snowflake outside engines/"),
    ("mesh_cli.shares.publish", "def f():\n    import snowflake", "x.py:2: snowflake outside engines/"),
    ("mesh_cli.check.run", "import duckdb_engine", "duckdb_engine outside engines/"),
    ("mesh_cli.ingest.run", "from dbt.adapters.duckdb import DuckDBAdapter", "dbt.adapters.duckdb outside engines/"),
    ("mesh_cli.ingest.run", "from dbt.adapters import snowflake", "dbt.adapters.snowflake outside engines/"),
    ("mesh_cli.shares.publish", "import importlib\nimportlib.import_module('duckdb')", "x.py:2: duckdb outside"),
    ("mesh_cli.core.plan", "from importlib import import_module\nimport_module('mesh_cli.dbt.invoke')",
     "core may not import dbt"),
    ("mesh_cli.provision.run", "__import__('mesh_cli.shares.spec')", "provision may not import shares"),
    ("mesh_cli.engines.duckdb", "from mesh_cli.contracts import rules", "engines may not import contracts"),
    ("mesh_cli.deployed.folder", "from mesh_cli.contracts.rules import RULES", "deployed may not import contracts"),
    ("mesh_cli.dbt.parse", "import mesh_cli.contracts.snapshot", "dbt may not import contracts"),
    ("mesh_cli.contracts.rules", "from mesh_cli.engines import registry", "contracts may not import engines"),
])
def test_each_hole_a_departure_could_pass_through_is_closed(module: str, source: str, broken: str) -> None:
    found = _breaks(module, source)
    assert any(broken in message for message in found), found


@pytest.mark.parametrize(("module", "source"), [
    ("mesh_cli.engines.duckdb", "import duckdb\nfrom dbt.adapters.duckdb.plugins import BasePlugin"),
    ("mesh_cli.engines.snowflake", "import snowflake.connector\nimportlib.import_module('snowflake.snowpark')"),
    ("mesh_cli.plugin.dialect", "from dbt.adapters.factory import get_adapter"),
    ("mesh_cli.dbt.invoke", "from mesh_cli.engines import registry\nfrom mesh_cli.deployed import folder"),
    ("mesh_cli.check.run", "from mesh_cli.contracts import rules"),
    ("mesh_cli.cli", "importlib.import_module(f'{commands.__name__}.{module}')"),   # not a literal: not read
])
def test_the_rules_accept_what_the_layers_allow(module: str, source: str) -> None:
    assert _breaks(module, source) == []


def test_every_package_of_mesh_cli_is_in_a_layer() -> None:
    packages = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}
    packages |= {path.stem for path in PACKAGE.glob("*.py")}
    placed = {name for _, names, _ in LAYERS for name in names}
    assert packages == placed, f"in no layer: {sorted(packages - placed)}; in none: {sorted(placed - packages)}"


def test_the_python_type_families_answer_as_the_package_does_at_build_time() -> None:
    """One rule source: core/type_families.py reads the package macro's literal, and gives for each case of the
    package's integration tests the family dbt computed there (integration_tests/seeds/cases/expected_library.csv)."""
    import csv

    from mesh_cli.core.type_families import type_family

    expected = PACKAGE.parent / "integration_tests/seeds/cases/expected_library.csv"
    cases = {row[0].removeprefix("type_family "): row[1] for row in csv.reader(expected.open())
             if row[0].startswith("type_family ")}
    assert len(cases) >= 5
    assert {data_type: type_family(data_type) for data_type in cases} == cases


def test_a_type_family_macro_without_its_literal_is_refused() -> None:
    from mesh_cli.core.type_families import _returned_literal

    with pytest.raises(ValueError, match="type_families returns no literal"):
        _returned_literal("{% macro type_families() %}{{ return(families) }}{% endmacro %}", "type_families")


def test_bench_never_imports_the_tests_and_only_the_bench_smoke_test_imports_bench() -> None:
    """tests/ and bench/ share testkit/; the suite reaches the benchmarks through tests/test_bench_smoke.py only."""
    root = PACKAGE.parent
    found = [f"{path.relative_to(root)}:{line}: {name}" for path in sorted((root / "bench").rglob("*.py"))
             for name, line in imports(path) if name.split(".")[0] in ("tests", "conftest")]
    found += [f"{path.relative_to(root)}:{line}: {name}" for path in sorted((root / "tests").glob("*.py"))
              if path.name != "test_bench_smoke.py" for name, line in imports(path) if name.split(".")[0] == "bench"]
    assert not found, "\n".join(found)


# The package's public Python API (docs/architecture.md "Public API"): what bench/ may import of mesh_cli, beside the
# `mesh` command it runs. `mesh_cli.api` re-exports the functions; the Airflow DAG factory is the module a DAG file
# imports in Airflow's own environment (docs/orchestration.md).
PUBLIC_MODULES = ("mesh_cli.api", "mesh_cli.orchestrate.airflow_dags")


def mesh_imports(source: str) -> Iterator[tuple[str, list[str], int]]:
    """(module, names, line) of every import of mesh_cli in Python `source`: its statements, a function's lazy
    import, and the lines of a string constant that import it (the code a benchmark runs in a new interpreter)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "mesh_cli":   # `from mesh_cli import api`
            yield from ((f"mesh_cli.{alias.name}", [], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("mesh_cli."):
            yield node.module or "", [alias.name for alias in node.names], node.lineno
        elif isinstance(node, ast.Import):
            yield from ((a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "mesh_cli")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for offset, line in enumerate(node.value.splitlines()):
                if line.lstrip().startswith(("from mesh_cli", "import mesh_cli")):
                    yield from ((m, names, node.lineno + offset) for m, names, _ in mesh_imports(line.strip()))


def api_departures(source: str, where: str) -> Iterator[tuple[str, str]]:
    """(module, `where:line: ...`) for every import of mesh_cli in `source` beyond the public API."""
    import mesh_cli.api

    for module, names, line in mesh_imports(source):
        if module not in PUBLIC_MODULES:
            yield module, f"{where}:{line}: {module} is internal: import it from mesh_cli.api (docs/architecture.md)"
        elif unknown := [n for n in names if n.startswith("_") or (module == "mesh_cli.api" and
                                                                    n not in mesh_cli.api.__all__)]:
            yield module, f"{where}:{line}: {module} has no public {', '.join(unknown)}"


@functools.cache
def bench_departures() -> list[tuple[str, str, str]]:
    """(file, module, message) for every import of mesh_cli in bench/ beyond the public API."""
    found = []
    for path in sorted((PACKAGE.parent / "bench").rglob("*.py")):
        where = path.relative_to(PACKAGE.parent).as_posix()
        found += [(where, module, message) for module, message in api_departures(path.read_text(), where)]
    return found


def test_bench_imports_only_the_public_api() -> None:
    """The benchmarks measure what users call: the `mesh` command and the public API, never an internal module."""
    found = [message for _, _, message in bench_departures()]
    assert not found, "\n".join(found)



@pytest.mark.parametrize(("source", "refused"), [
    ("from mesh_cli.core.config import load_config", "mesh_cli.core.config is internal"),
    ("import mesh_cli.core.plan", "mesh_cli.core.plan is internal"),
    ("def f():\n    from mesh_cli.engines.duckdb import STORAGE_VERSION", "mesh_cli.engines.duckdb is internal"),
    ('SCRIPT = """import sys\nfrom mesh_cli.dbt.parse import parse_domains\n"""', "x.py:2: mesh_cli.dbt.parse is"),
    ("from mesh_cli.api import load_config, _MODULE_OF, nothing", "mesh_cli.api has no public _MODULE_OF, nothing"),
    ("from mesh_cli.orchestrate.airflow_dags import _graph", "airflow_dags has no public _graph"),
    ("from mesh_cli import core", "mesh_cli.core is internal"),
])
def test_the_api_rule_refuses_internal_imports(source: str, refused: str) -> None:
    [(_, message)] = api_departures(source, "x.py")
    assert refused in message


def test_the_api_rule_accepts_the_public_api() -> None:
    source = ("from mesh_cli.api import load_config, transpile\nfrom mesh_cli import api\n"
              "from mesh_cli.orchestrate.airflow_dags import mesh_dags")
    assert list(api_departures(source, "x.py")) == []
