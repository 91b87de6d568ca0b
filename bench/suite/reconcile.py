"""6. Reconciliation: statements a second provision / ingest / publish issues with nothing changed (target 0), and
`SHOW` queries per object kind when reading state (target: one per kind, not one per object).

Runs on the embedded engine after a build: each command twice with `--json`, counting the statements of its
plans (and, for ingest, the files loaded and landing tables changed). Counting `SHOW` queries needs the
Snowflake path with a query log, which this benchmark does not drive yet.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from bench.figures import Figure
from bench.measure import CommandFailed, clean_env
from bench.meshes import MESH, Context, example_mesh, generated_mesh, mesh

NAME = "6. reconciliation"
FEATURES = ("provision", "ingest", "publish")


def _plan_statements(item: dict[str, Any]) -> int:
    return len((item.get("plan") or {}).get("statements") or [])


def statements(feature: str, data: Any) -> int:
    """What one run of `mesh <feature> --json` did: statements of its plans (ingest: also files and changes)."""
    if feature == "provision":
        return sum(len(plan["statements"]) for plan in data["plans"])
    if feature == "ingest":
        return sum(len(t["files_loaded"]) + len(t["changes"]) for r in data for t in r["tables"]) + sum(
            _plan_statements(r) for r in data)
    return sum(_plan_statements(result) for result in data)


def _apply(root: Any, feature: str) -> int:
    done = subprocess.run([str(MESH), "--mesh-dir", str(root), feature, "--json"], cwd=root, env=clean_env(),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise CommandFailed(f"mesh {feature} exited {done.returncode}: {done.stderr.strip()[-1500:]}")
    return statements(feature, json.loads(done.stdout))


def run(ctx: Context) -> list[Figure]:
    folder = ctx.folder("reconcile")
    root = generated_mesh(folder / "mesh", domains=2, models=2, public=1)[0] if ctx.smoke else \
        example_mesh(folder / "mesh")
    mesh(root, "build")
    figures = []
    for feature in FEATURES:
        first, second = _apply(root, feature), _apply(root, feature)
        # A first run with nothing to do (`mesh build` already ingested or published) is no baseline to divide by.
        figures.append(Figure(
            NAME, f"statements of a second `mesh {feature}`, nothing changed", float(second), "statements",
            float(first) if first else None, "first run after the build", "0", target_value=0.0,
            note="" if first else "the first run after `mesh build` issued none either: `mesh build` had done it"))
    figures.append(Figure(
        NAME, "`SHOW` queries per object kind when reading state", None, "queries", None, "",
        "one per kind",
        note=("not measured: it needs the Snowflake path (e.g. fakesnow's server) with a log of the queries the "
              "plan engine issues, which this benchmark does not drive yet.")))
    return figures
