"""The dbt package's own integration tests (integration_tests/, as dbt-utils has them), run with the real dbt on
DuckDB: every public macro rendered on inputs and compared with its expected seed, plus the failure paths."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from governance_recorder import RECORD_ENV, install_recorder

REPO = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).parent / "dbt"
PACKAGE = ("dbt_project.yml", "macros", "models")
LEFTOVERS = shutil.ignore_patterns("target", "dbt_packages", "logs", "package-lock.yml")
# 10 `equal_rows` tests (8 macro models, 2 governed reads), 2 singular tests, 3 not_null of mesh_entitlements
DATA_TESTS = 15


def _dbt(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`dbt ARGS` in `project`, with its own profiles.yml and none of the caller's dbt or mesh settings (`env`
    adds some)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MESH_", "DBT_"))}
    return subprocess.run([str(DBT), *args, "--profiles-dir", str(project)], cwd=project, capture_output=True,
                          text=True, env={**clean, **(env or {}), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package and of its integration_tests project (which installs it with `local: ..`), built."""
    root = tmp_path_factory.mktemp("package")
    for name in (*PACKAGE, "integration_tests"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=LEFTOVERS)
        else:
            shutil.copy(source, root / name)
    project = root / "integration_tests"
    deps = _dbt(project, "deps")
    assert deps.returncode == 0, deps.stdout + deps.stderr
    return project


@pytest.fixture(scope="module")
def built(project: Path) -> subprocess.CompletedProcess[str]:
    return _dbt(project, "build")


def test_every_macro_test_passes(project: Path, built: subprocess.CompletedProcess[str]) -> None:
    assert built.returncode == 0, built.stdout + built.stderr
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    kinds = Counter(r["unique_id"].split(".")[0] for r in results)
    assert kinds == {"test": DATA_TESTS, "model": 13, "seed": 11, "operation": 1}
    assert {r["status"] for r in results if r["unique_id"].startswith("test.")} == {"pass"}
    assert (project / "target" / "integration_tests.duckdb").is_file()


def test_a_macro_without_a_generic_implementation_names_the_adapter(project: Path,
                                                                     built: subprocess.CompletedProcess[str]) -> None:
    done = _dbt(project, "run-operation", "call_unsupported")
    assert done.returncode == 1
    assert ("data_mesh.governance_statements has no implementation for the duckdb adapter (target 'duckdb'): "
            "add duckdb__governance_statements beside default__governance_statements") in done.stdout


def test_the_shipped_package_has_no_switch_that_turns_governance_off(
        project: Path, built: subprocess.CompletedProcess[str]) -> None:
    """Issue #26 item 11: neither the old variable nor the old environment variable records instead of running
    (the statement runs, and fails on nonsense); only the tests' recorder, installed into a project, records."""
    statement = ("run-operation", "data_mesh.run_governance", "--args", "{sql: 'select nonsense from nowhere'}")
    ran = _dbt(project, *statement, "--vars", "{data_mesh_record_governance: true}")
    assert ran.returncode == 1 and "nowhere" in ran.stdout
    ran = _dbt(project, *statement, env={RECORD_ENV: "true"})
    assert ran.returncode == 1 and "nowhere" in ran.stdout
    recorder = install_recorder(project)
    profiles = project / "profiles.yml"
    original = profiles.read_text()
    profiles.write_text(original + _REAL_ACCOUNT)
    try:
        done = _dbt(project, *statement, env={RECORD_ENV: "true"})
        real = _dbt(project, "compile", "--inline", "select {{ data_mesh.recording() }}", "--target", "real",
                    env={RECORD_ENV: "true"})
    finally:
        recorder.unlink()
        profiles.write_text(original)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "data_mesh:governance select nonsense from nowhere" in done.stdout
    # On a real Snowflake account the recorder is refused before anything connects: policies always run there.
    assert real.returncode != 0
    assert ("overrides data_mesh's recording() for account xy12345: governance statements are recorded instead of "
            "run only against fakesnow, in tests") in real.stdout


_REAL_ACCOUNT = """    real:
      type: snowflake
      account: xy12345
      user: nobody
      password: none
      database: X
      schema: MAIN
      warehouse: WH
      threads: 1
"""


def test_a_changed_macro_fails_its_test(project: Path, built: subprocess.CompletedProcess[str]) -> None:
    macro = project.parent / "macros" / "sql" / "sql_values.sql"
    text = macro.read_text()
    macro.write_text(text.replace("'null'", "'NULL'"))
    try:
        done = _dbt(project, "build", "--select", "test_sql_literals")
    finally:
        macro.write_text(text)
    assert done.returncode == 1
    assert "Failure in test equal_rows_test_sql_literals" in done.stdout and "Got 2 results" in done.stdout


def test_governance_plan_logs_the_statements_of_a_build(project: Path, built: subprocess.CompletedProcess[str]) -> None:
    done = _dbt(project, "run-operation", "data_mesh.governance_plan")
    assert done.returncode == 0, done.stdout + done.stderr
    plan = [line.split("data_mesh:plan ", 1)[1] for line in done.stdout.splitlines() if "data_mesh:plan " in line]
    assert plan[0] == "create schema if not exists governance"
    assert ('create or replace view "integration_tests"."main"."customers" as select "customer_id", '
            'governance.mask_email(email) as "email", "region", "name" from mesh_protected."main__customers" '
            "where governance.region_entitlement(region)") in plan
    assert not [s for s in plan if "customers_input" in s or "test_library" in s]  # ungoverned models: nothing
