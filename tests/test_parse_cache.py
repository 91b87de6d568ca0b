"""The parse cache of `mesh check`: what is parsed again, and what is not, after each kind of change; a git
baseline shares the parses of the domains a change did not touch; cached and uncached checks agree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import copy_mesh, run_cli
from test_check_scenarios import CUSTOMERS, drop_bound_column, on_model

from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.graph import DomainGraph
from mesh_cli.dbt import parse as parse_module
from mesh_cli.dbt.invoke import DbtJob, DbtOutcome
from mesh_cli.dbt.parse_cache import KEEP, ParseCache, parse_keys

AS_OF = ("--as-of", "2026-11-26")
EVERY_DOMAIN = ["customers", "finance", "orders"]




@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The domains dbt parses from now on, in the order their parses were asked for."""
    seen: list[str] = []
    real = parse_module.run_shared

    def recording(job: DbtJob) -> DbtOutcome:
        seen.extend(call.project_dir.name for call in job.calls if call.args[0] == "parse")
        return real(job)

    monkeypatch.setattr(parse_module, "run_shared", recording)
    return seen


def check(root: Path, *args: str) -> dict:
    result = run_cli(root, "check", "--baseline-ref", "main", "--format", "json", *AS_OF, *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def test_each_change_parses_only_what_it_reaches(git_mesh: Path, parsed: list[str]) -> None:
    check(git_mesh)
    assert sorted(parsed) == EVERY_DOMAIN            # once each: the baseline is the same, and shares the parse
    parsed.clear()
    check(git_mesh)
    assert parsed == []                              # nothing changed: nothing parsed
    append(git_mesh / "domains/finance/models/marts/customer_revenue.sql", "\n-- a leaf's edit\n")
    check(git_mesh)
    assert parsed == ["finance"]                     # its baseline is still cached
    parsed.clear()
    append(git_mesh / "domains/customers/models/marts/dim_customers_v2.sql", "\n-- a root's edit\n")
    check(git_mesh)
    assert sorted(parsed) == EVERY_DOMAIN            # customers and everything downstream of it
    parsed.clear()
    (git_mesh / "domains/orders/models/marts/new_model.sql").write_text("select 1 as id\n")   # untracked
    check(git_mesh)
    assert sorted(parsed) == ["finance", "orders"]
    parsed.clear()
    append(git_mesh / "macros/naming/generate_schema_name.sql", "\n{# the shared package #}\n")
    check(git_mesh)
    assert sorted(parsed) == EVERY_DOMAIN


def test_cached_and_uncached_checks_agree(git_mesh: Path, parsed: list[str]) -> None:
    on_model(CUSTOMERS, "dim_customers", lambda m: drop_bound_column(m, "region"))(git_mesh)
    cached = check(git_mesh)
    again = check(git_mesh)
    parsed.clear()
    uncached = check(git_mesh, "--no-cache", "--jobs", "1")
    assert sorted(parsed) == sorted(EVERY_DOMAIN * 2)   # the baseline and the working tree, each in full
    assert cached["summary"]["errors"] == 2
    for report in (again, uncached):
        assert report["findings"] == cached["findings"]
        assert report["summary"] == cached["summary"]


def test_a_broken_working_tree_is_never_cached(git_mesh: Path, parsed: list[str]) -> None:
    sql = git_mesh / "domains/orders/models/marts/fct_orders.sql"
    append(sql, "\n{{ ref('no_such_model') }}\n")
    for _ in range(2):
        parsed.clear()
        result = run_cli(git_mesh, "check", "--baseline-ref", "main", *AS_OF)
        assert result.exit_code == 2 and "no_such_model" in result.stderr
    assert parsed == ["orders", "orders"]   # parsed, then once more against the baseline's upstreams: both fail


# --- the cache itself ---------------------------------------------------------------------------------------------

def _keys(root: Path, **env: str) -> dict[str, str]:
    config = load_config(root)
    domains = discover_domains(config)
    ordered = [domains[name] for name in DomainGraph(domains).order(domains)]
    return parse_keys(config, ordered, "dev", "duckdb", {"MESH_TARGET": "dev", **env})


def test_where_records_are_kept_shapes_no_parse(mesh_copy: Path) -> None:
    """The deploy settings (the store, the lease term, the wait) leave the keys alone: a deploy with a store
    reuses the parses of a check without one. A variable a profile may read still keys them."""
    plain = _keys(mesh_copy)
    assert _keys(mesh_copy, MESH_STORE="s3://b/p", MESH_LEASE_SECONDS="60", MESH_LOCK_WAIT="0") == plain
    assert _keys(mesh_copy, MESH_SNOWFLAKE_DATABASE_PREFIX="DEV_") != plain


def test_identical_content_has_one_key_wherever_it_lives(mesh_copy: Path, tmp_path: Path) -> None:
    elsewhere = copy_mesh(tmp_path / "elsewhere", mesh_copy)
    assert _keys(mesh_copy) == _keys(elsewhere)
    append(elsewhere / "domains/customers/models/marts/dim_customers_v2.sql", "\n-- edited\n")
    before, after = _keys(mesh_copy), _keys(elsewhere)
    assert {name for name in before if before[name] != after[name]} == set(EVERY_DOMAIN)  # downstream too
    append(mesh_copy / "domains/finance/models/marts/customer_revenue.sql", "\n-- edited\n")
    assert {name for name, key in _keys(mesh_copy).items() if key != before[name]} == {"finance"}


def test_the_cache_keeps_a_few_entries_without_macros(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"metadata": {"project_name": "d", "adapter_type": "duckdb"}, "nodes": {},
                                    "macros": {"m": {}}, "child_map": {}, "disabled": {}}))
    cache = ParseCache(tmp_path / "cache")
    keys = [f"k{i}" for i in range(KEEP + 2)]
    for number, key in enumerate(keys):
        stored = cache.store("d", key, manifest)
        os.utime(stored.parent, (number, number))   # store order, whatever the clock's resolution
    assert [key for key in keys if cache.lookup("d", key)] == keys[-KEEP:]
    kept = json.loads(cache.lookup("d", keys[-1]).read_text())
    assert "macros" not in kept and "child_map" not in kept and kept["disabled"] == {}
    assert (cache.lookup("d", keys[-1]).parent / "models.jsonl").is_file()
    assert cache.lookup("d", "unknown") is None


def test_the_cache_key_covers_all_of_the_mesh_code():
    """Every module of mesh_cli (the resolver and the engines run inside a parse) and the dbt plugin module."""
    import mesh_cli
    from mesh_cli.dbt.parse_cache import tool_sources

    sources = {path.resolve() for path in tool_sources()}
    package = Path(mesh_cli.__file__).resolve().parent
    assert package / "plugin" / "resolver.py" in sources
    assert package / "core" / "types.py" in sources
    assert package.parent / "dbt_data_mesh.py" in sources
