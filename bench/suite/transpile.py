"""8. Local transpile: the share of a Snowflake-flavoured domain's DuckDB build spent transpiling its SQL."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from bench.figures import Figure
from bench.generate import REPO
from bench.measure import clean_env, median
from bench.meshes import Context, dbt, mesh_build_json
from testkit.mesh_copy import fixture_mesh

NAME = "8. local transpile"
FIXTURE = REPO / "tests" / "fixtures" / "snowflake_mesh"
DOMAIN = "events"
# A fresh interpreter: sqlglot's import and DuckDB's function list are part of what a dbt worker pays once.
TIMER = """
import json, sys, time
started = time.perf_counter()
from mesh_cli.api import transpile
imported = time.perf_counter()
for name, sql in json.load(sys.stdin).items():
    transpile(sql, name)
print(json.dumps({"import": imported - started, "models": time.perf_counter() - imported}))
"""


def _snowflake_sql(project: Path) -> dict[str, str]:
    """The Snowflake SQL each Snowflake-dialect model compiles to, before transpiling (`dbt compile` with the
    dialect set to DuckDB for the run)."""
    dbt(project, "compile", "--vars", "{data_mesh_sql_dialect: duckdb}", env=clean_env())
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    return {node["name"]: node["compiled_code"] for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["package_name"] == DOMAIN
            and node["config"].get("meta", {}).get("sql_dialect") != "duckdb"}


def run(ctx: Context) -> list[Figure]:
    root = fixture_mesh(ctx.folder("transpile") / "mesh", FIXTURE)
    project = root / "domains" / DOMAIN
    builds = []
    for _ in range(ctx.repeat):
        shutil.rmtree(project / "target" / "data_mesh_transpiled", ignore_errors=True)   # every model transpiled
        _, report = mesh_build_json(root, "--no-publish")
        builds.append(next(d["seconds"] for d in report["domains"] if d["domain"] == DOMAIN))
    sources = _snowflake_sql(project)
    transpiles, parts = [], []
    for _ in range(ctx.repeat):
        timed = subprocess.run([sys.executable, "-c", TIMER], input=json.dumps(sources), capture_output=True,
                               text=True, check=True, cwd=REPO)
        timed_parts = json.loads(timed.stdout)
        parts.append(timed_parts)
        transpiles.append(timed_parts["import"] + timed_parts["models"])
    return [Figure(
        NAME, f"transpiling {len(sources)} Snowflake models of {DOMAIN} (cold)", median(transpiles), "s",
        median(builds), f"`mesh build` of {DOMAIN} on DuckDB", "≤ 0.1x", target_ratio=0.1,
        note=("tests/fixtures/snowflake_mesh: models using IFF, NVL, QUALIFY, LATERAL FLATTEN, `:` paths, "
              "OBJECT_CONSTRUCT, LISTAGG, ... The transpile is timed in a fresh interpreter (sqlglot's import "
              "and DuckDB's function list included), as a dbt worker pays it once; the baseline is the domain's "
              "dbt time in `mesh build` with an empty transpile cache. A cached model costs one file read."),
        details={"build_runs": builds, "transpile_runs": transpiles, "import_and_models": parts,
                 "models": sorted(sources)})]
