"""`mesh list`, `mesh graph` and `mesh product` on a built mesh read the saved manifests: no dbt (nor DuckDB or
sqlglot) is imported, in the command's process or in any worker it could start (they inherit
PYTHONPROFILEIMPORTTIME and its stderr)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mesh_cli.build.run import BuildReport

MESH = Path(sys.executable).parent / "mesh"
DBT_IMPORT = re.compile(r"^import time:.*\|\s+(dbt|dbt\.cli|dbt_common|dbt\.adapters\.duckdb|duckdb|sqlglot)$",
                        re.MULTILINE)   # dbt, and the engine and SQL libraries a read needs neither
COMMANDS = (("list", "--json"), ("graph",), ("product", "customers.customer_master", "--json"))


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MESH_", "DBT_"))}
    return subprocess.run([str(MESH), "--mesh-dir", str(root), *args], capture_output=True, text=True,
                          env={**env, "PYTHONPROFILEIMPORTTIME": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})


@pytest.mark.parametrize("args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_reads_of_a_built_mesh_import_no_dbt(built_mesh: tuple[Path, BuildReport], args: tuple[str, ...]) -> None:
    done = _run(built_mesh[0], *args)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert not DBT_IMPORT.findall(done.stderr)
    assert "import time:" in done.stderr   # the detector is on


def test_their_answers_come_from_the_saved_manifests(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    rows = {row["domain"]: row for row in json.loads(_run(root, "list", "--json").stdout)}
    assert list(rows) == ["customers", "orders", "finance"]
    assert sorted(rows["customers"]["public_models"]) == ["dim_customers.v1", "dim_customers.v2", "dim_regions"]
    assert set(rows["finance"]["upstreams"]) == {"orders", "customers"}
    graph = _run(root, "graph").stdout
    assert "customers" in graph and "orders" in graph and "finance" in graph
    product = json.loads(_run(root, "product", "customers.customer_master", "--json").stdout)
    assert product["id"] == "customers.customer_master" and product["models"]


def test_a_domain_with_no_manifest_is_parsed_and_the_detector_sees_dbt(built_mesh: tuple[Path, BuildReport],
                                                                        tmp_path: Path) -> None:
    """The failure the tests above guard against: a read that must parse starts dbt, and it shows."""
    root = tmp_path / "mesh"
    shutil.copytree(built_mesh[0], root, symlinks=True,
                    ignore=shutil.ignore_patterns("*.duckdb", "*.duckdb.wal", "logs"))
    shutil.rmtree(root / ".mesh" / "state" / "dev" / "finance")
    shutil.rmtree(root / "domains" / "finance" / "target", ignore_errors=True)
    done = _run(root, "list", "--json")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert DBT_IMPORT.findall(done.stderr)
    assert [row["domain"] for row in json.loads(done.stdout)] == ["customers", "orders", "finance"]
