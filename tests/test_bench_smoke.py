"""The generator and a tiny run of every benchmark, so that `make bench` cannot rot. No timing assertions."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import run_build

from bench import generate
from bench.figures import Figure
from bench.meshes import Context
from bench.run import BENCHMARKS, END, START, main, results_section, run_benchmarks, update_docs
from mesh_cli.build.run import SUCCESS
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.graph import DomainGraph


def _generate(out: Path, *args: str) -> object:
    return CliRunner().invoke(generate.main, [*args, str(out)])


def test_generated_mesh_is_layered_valid_and_builds(tmp_path: Path) -> None:
    result = _generate(tmp_path / "mesh", "--domains", "4", "--models", "3", "--public", "2", "--fan-in", "2",
                       "--seed", "5")
    assert result.exit_code == 0, result.output
    root = tmp_path / "mesh"
    domains = discover_domains(load_config(root))
    graph = DomainGraph(domains)
    graph.validate()  # every cross-domain ref declared, no cycle
    assert graph.order(domains) == ["d00", "d01", "d02", "d03"]
    assert [len(domains[n].upstreams) for n in ("d00", "d01", "d02", "d03")] == [0, 0, 2, 2]
    marts = yaml.safe_load((root / "domains/d02/models/marts/_marts.yml").read_text())["models"]
    assert all(m["config"]["contract"]["enforced"] and m["columns"][0]["data_tests"] for m in marts)
    assert domains["d00"].products[0]["consumers"]["domains"] == ["d02", "d03"]
    report = run_build(root, jobs=2)
    assert [(r.domain, r.status) for r in report.results] == [(n, SUCCESS) for n in ("d00", "d01", "d02", "d03")]
    for name in ("d00", "d01", "d02", "d03"):
        ran = json.loads((root / ".mesh/state/dev" / name / "run_results.json").read_text())["results"]
        own = [r["unique_id"].split(".")[0] for r in ran if r["unique_id"].split(".")[1] == name]
        assert (own.count("model"), own.count("test"), own.count("seed")) == (3, 5, 1)
        assert all(r["status"] in ("success", "pass") for r in ran)


def test_same_seed_same_mesh_and_chains_are_independent(tmp_path: Path) -> None:
    args = ("--domains", "12", "--models", "3", "--public", "1", "--fan-in", "1", "--chains", "3", "--layers", "4")
    for name in ("a", "b"):
        assert _generate(tmp_path / name, *args).exit_code == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    specs = generate.plan_mesh(12, 3, 1, 1, 0, chains=3, layers=4)
    graph = DomainGraph(discover_domains(load_config(tmp_path / "a")))
    import networkx as nx

    chains = list(nx.weakly_connected_components(graph.graph))
    assert sorted(len(c) for c in chains) == [4, 4, 4]
    assert all(nx.dag_longest_path_length(graph.graph.subgraph(c)) == 3 for c in chains)
    assert sum(len(s.upstreams) for s in specs) == 9


@pytest.mark.parametrize(("args", "message"), [
    (("--domains", "3", "--models", "2", "--public", "2"), "--public (2) must be at least 1 and below --models"),
    (("--domains", "2", "--models", "3", "--public", "1", "--chains", "3"), "need 1 <= --chains (3)"),
    (("--domains", "0", "--models", "3", "--public", "1"), "0 is not in the range x>=1"),
])
def test_generator_refuses_bad_sizes(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = _generate(tmp_path / "mesh", *args)
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "mesh" / "domains").exists()


def test_generator_refuses_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "mesh").mkdir()
    (tmp_path / "mesh" / "keep.txt").write_text("mine")
    result = _generate(tmp_path / "mesh", "--domains", "1", "--models", "2", "--public", "1")
    assert result.exit_code == 2 and "is not empty" in result.output
    assert [p.name for p in (tmp_path / "mesh").iterdir()] == ["keep.txt"]


def _well_formed(figure: dict[str, object]) -> None:
    assert figure["unit"] and figure["target"] and figure["benchmark"] and figure["name"]
    value, baseline, ratio = figure["value"], figure["baseline"], figure["ratio"]
    if value is None:
        assert str(figure["note"]).startswith("not measured: ") and figure["met"] is None
        return
    assert isinstance(value, float) and math.isfinite(value)
    if baseline:  # a zero baseline has no ratio (e.g. no statements at all)
        assert isinstance(ratio, float) and ratio == pytest.approx(value / baseline, rel=1e-2, abs=1e-3)
    assert figure["met"] in (True, False, None)


# orchestration's smoke run is the CLI's partial run below
@pytest.mark.parametrize("name", [name for name in BENCHMARKS if name != "orchestration"])
def test_benchmark_smoke_run(tmp_path: Path, name: str) -> None:
    payload = run_benchmarks(Context(tmp_path, smoke=True, repeat=1), (name,), echo=lambda _: None)
    assert payload["errors"] == {}
    [bench] = payload["benchmarks"].values()
    assert bench["figures"]
    for figure in bench["figures"]:
        _well_formed(figure)
    assert payload["machine"]["cores"] >= 1


def test_the_orchestrated_run_is_not_measured_on_an_unsupported_setup(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Benchmark 14's LocalExecutor needs PostgreSQL and its drivers in Airflow's virtualenv: without either, the
    figure says which in one line and nothing runs (never the LocalExecutor on SQLite, which Airflow does not
    support for tasks side by side)."""
    from bench.suite.airflow import _measured_run

    ctx = Context(tmp_path, smoke=True, repeat=1)
    without_drivers = _measured_run(ctx, Path(sys.executable))   # the mesh's own python: no psycopg2, no asyncpg
    assert without_drivers.value is None
    assert without_drivers.note == ("not measured: Airflow's virtualenv lacks the PostgreSQL drivers (make it "
                                    "again: `make .venv-airflow/.installed`)")
    drivers = tmp_path / "python"   # a python whose imports all succeed, on a PATH without PostgreSQL
    drivers.write_text("#!/bin/sh\nexit 0\n")
    drivers.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    without_server = _measured_run(ctx, drivers)
    assert without_server.value is None
    assert without_server.note == "not measured: no PostgreSQL on this machine (initdb not on PATH)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["python"]   # no mesh generated, no server started


def test_statements_are_counted_from_each_commands_json() -> None:
    from bench.suite.reconcile import statements

    plan = {"statements": [{"sql": "create schema raw"}, {"sql": "grant usage"}]}
    assert statements("provision", {"plans": [plan, {"statements": []}]}) == 2
    assert statements("publish", [{"plan": plan}, {"plan": None}]) == 2
    tables = [{"files_loaded": ["a.csv"]}, {"files_loaded": []}]   # DuckDB: its landing plan, then the files loaded
    assert statements("ingest", [{"tables": tables, "plan": plan}, {"tables": [], "plan": None}]) == 3


def test_plans_read_one_show_per_kind_on_fakesnow(tmp_path: Path) -> None:
    """Ten domains, each with seven ingested tables in two landing schemas: the provision plan reads each kind
    once (grants per role), and each domain's ingestion plan each kind once, columns included."""
    from bench.suite.reconcile import add_ingestion, ingest_reads, per_object, provision_reads
    from mesh_cli.core.governance_library import find_library, read_library

    root = generate.write_mesh(tmp_path / "mesh", generate.plan_mesh(10, 2, 1, 2, 3))
    for domain in (root / "domains").iterdir():
        add_ingestion(domain, tables=4)
    config = load_config(root)
    domains = discover_domains(config)
    [provision] = provision_reads(config, domains)
    assert {kind: n for kind, n in provision.kinds.items() if not per_object(kind)} == {
        "ROLES": 1, "DATABASES": 1, "WAREHOUSES": 1, "RESOURCE MONITORS": 1, "SCHEMAS": 1}
    # per role: READ, WRITE, OWNER, ENGINEER, READER and DEPLOYER of each domain, the mesh admin role, and each role
    # of the governance library (governance.yml) that is no domain's functional role
    library_roles = len(read_library(find_library(root)).get("roles") or {})
    assert provision.kinds["GRANTS TO ROLE"] == provision.kinds["FUTURE GRANTS TO ROLE"] == \
        len(domains) * 6 + 1 + library_roles
    ingest = ingest_reads(config, domains)
    kinds = ("SCHEMAS", "TABLES", "VIEWS", "STAGES", "FILE FORMATS", "PIPES", "EXTERNAL TABLES", "COLUMNS")
    assert len(ingest) == 10 and all(log.kinds == dict.fromkeys(kinds, 1) for log in ingest)


def test_results_table_and_docs_markers(tmp_path: Path) -> None:
    figure = Figure("1. x", "thing", 2.0, "s", 8.0, "loop", "<= 0.5x", target_ratio=0.5, note="why")
    missed = Figure("1. x", "other", 3.0, "s", 4.0, "loop", "<= 0.5x", target_ratio=0.5)
    payload = {"machine": {"cores": 2, "platform": "p", "python": "3", "dbt_core": "1", "dbt_duckdb": "1"},
               "started": "now", "repeat": 3, "seconds": 60.0,
               "benchmarks": {"x": {"figures": [figure.as_dict(), missed.as_dict()]}}}
    section = results_section(payload)
    assert "| 1. x | thing | 2 s | 8 s (loop) | 0.25x | <= 0.5x | yes |" in section
    assert "| 1. x | other | 3 s | 4 s (loop) | 0.75x | <= 0.5x | **no** |" in section
    assert "- **1. x / thing**: why" in section
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# intro\n{START}\nold\n{END}\nafter\n")
    update_docs(page, payload)
    text = page.read_text()
    assert text.startswith("# intro\n") and text.endswith(f"{END}\nafter\n") and "old" not in text
    page.write_text("# no markers\n")
    with pytest.raises(Exception, match="markers"):
        update_docs(page, payload)


def test_example_mesh_copy_has_no_build_leftovers(tmp_path: Path) -> None:
    from bench.meshes import domain_order
    from testkit.mesh_copy import example_mesh

    root = example_mesh(tmp_path / "new" / "mesh")
    assert domain_order(root) == ["customers", "orders", "finance"]
    assert not list(root.glob("domains/*/target")) and not list(root.glob("domains/*/dbt_packages"))


def test_cli_partial_run_replaces_only_its_benchmarks(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    earlier = {"benchmarks": {"memory": {"seconds": 5.0, "figures": []}, "orchestration": {"seconds": 9.0}},
               "errors": {"orchestration": "old failure"}}
    out.write_text(json.dumps(earlier))
    result = CliRunner().invoke(main, ["--smoke", "--only", "orchestration", "--out", str(out)])
    assert result.exit_code == 0, result.output
    merged = json.loads(out.read_text())
    assert list(merged["benchmarks"]) == ["orchestration", "memory"]  # in the benchmarks' order
    assert merged["benchmarks"]["memory"] == {"seconds": 5.0, "figures": []}
    assert merged["benchmarks"]["orchestration"]["figures"] and merged["errors"] == {}
    for figure in merged["benchmarks"]["orchestration"]["figures"]:
        _well_formed(figure)


def test_monolith_writes_the_meshs_models_as_one_project(tmp_path: Path) -> None:
    import re

    from bench.monolith import write_monolith

    specs = generate.plan_mesh(4, 3, 1, 2, 5)
    mesh_root = generate.write_mesh(tmp_path / "mesh", specs, seed=5)
    project = write_monolith(tmp_path / "one", generate.plan_mesh(4, 3, 1, 2, 5), seed=5)
    for spec in specs:   # the same seed rows, domain by domain
        assert ((project / "seeds" / f"raw_{spec.name}.csv").read_bytes()
                == (mesh_root / "domains" / spec.name / "seeds" / f"raw_{spec.name}.csv").read_bytes())
    models = {p.stem: p.read_text() for p in (project / "models").rglob("*.sql")}
    assert len(models) == 4 * 3 and "d03_pub_0" in models and "d00_stg_1" in models
    refs = {name for sql in models.values() for name in re.findall(r"ref\('([^']+)'\)", sql)}
    assert refs <= set(models) | {f"raw_{spec.name}" for spec in specs}
    assert not [sql for sql in models.values() if re.search(r"ref\('\w+', '\w+'\)", sql)]
    crossing = sum(len(spec.refs) for spec in specs)
    assert crossing and sum(len(re.findall(r"ref\('d\d+_pub_\d+'\)", sql)) for sql in models.values()) == crossing
    with pytest.raises(FileExistsError):
        write_monolith(tmp_path / "one", specs, seed=5)
