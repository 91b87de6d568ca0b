"""14. Airflow: parsing the DAG file of a generated mesh (whole-mesh and per-team modes) in Airflow's own
virtualenv (`--airflow-python`, which `make bench` passes), against the same DAG file for a one-domain mesh;
the graph file is written beforehand (`mesh orchestrate graph`), so the parse runs no dbt."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bench.figures import Figure
from bench.measure import median
from bench.meshes import Context, generated_mesh, mesh
from testkit.mesh_copy import REPO

NAME = "14. airflow"
# In Airflow's python: import Airflow first (what any DAG file pays), then time the DAG file alone.
_PARSE = """
import runpy, sys, time
import airflow.sdk, airflow.providers.standard.operators.bash
started = time.perf_counter()
dags = runpy.run_path(sys.argv[1])
print(time.perf_counter() - started)
"""
_DAG_FILE = """from mesh_cli.orchestrate.airflow_dags import mesh_dags
globals().update(mesh_dags({graph!r}, mesh_dir="/opt/mesh", mode={mode!r}))
"""


def _graph(ctx: Context, domains: int) -> Path:
    root, _ = generated_mesh(ctx.folder(f"airflow-{domains}") / "mesh", domains=domains, models=2, public=1)
    mesh(root, "orchestrate", "graph", "--out", str(root / "graph.json"))
    return root / "graph.json"


def _parse_seconds(python: Path, graph: Path, mode: str, repeat: int) -> float:
    dag_file = graph.with_name(f"dags_{mode}.py")
    dag_file.write_text(_DAG_FILE.format(graph=str(graph), mode=mode))
    runs = [float(subprocess.run([str(python), "-c", _PARSE, str(dag_file)], check=True, capture_output=True,
                                 text=True, env={"PYTHONPATH": str(REPO), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"},
                                 ).stdout.strip().splitlines()[-1]) for _ in range(repeat)]
    return median(runs)


def run(ctx: Context) -> list[Figure]:
    sizes = (3,) if ctx.smoke else (50, 500)
    if ctx.airflow_python is None:
        return [Figure(NAME, f"DAG file parse, {size} domains", None, "s", None, "", "< 1 s",
                       note="not measured: no Airflow virtualenv (`make bench` makes one; or --airflow-python)")
                for size in sizes]
    one = _graph(ctx, 1)
    figures = []
    for size in sizes:
        graph = _graph(ctx, size)
        for mode in ("mesh", "team"):
            baseline = _parse_seconds(ctx.airflow_python, one, mode, ctx.repeat)
            value = _parse_seconds(ctx.airflow_python, graph, mode, ctx.repeat)
            dags = len(json.loads(graph.read_text())["domains"]) if mode == "team" else 1
            figures.append(Figure(
                NAME, f"DAG file parse, {size} domains, {mode} mode ({dags} DAG{'s' if dags > 1 else ''})",
                value, "s", baseline, "the same DAG file for a 1-domain mesh", "< 1 s", target_value=1.0,
                note=("Seconds to run the DAG file in Airflow 3's own virtualenv after Airflow is imported, "
                      "median: the graph file read and every DAG, task group and task built (three BashOperator "
                      "tasks a domain). No dbt is imported: the graph was written beforehand.")))
    return figures
