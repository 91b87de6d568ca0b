"""10. The cost of a mesh against one dbt project: `mesh build` of 12 generated domains (50 with --large) against
one `dbt build` of the same models written as a single project (bench.monolith), warm (cold too with --large),
wall and CPU."""

from __future__ import annotations

import resource
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench.figures import Figure
from bench.measure import Run, median
from bench.meshes import Context, dbt, generated_mesh, mesh, plain_env
from bench.monolith import write_monolith

NAME = "10. mesh vs one project"
MODELS, PUBLIC, FAN_IN, SEED = 20, 5, 2, 7


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: Callable[[], Run]) -> tuple[float, float]:
    """Wall and CPU seconds of a command: user + system time of its whole process tree (reaped children)."""
    before = _cpu_seconds()
    done = command()
    return done.seconds, _cpu_seconds() - before


def cool_mesh(root: Path) -> None:
    """No target/ folders, database files, saved state or parse cache: a fresh clone with its deps installed."""
    for folder in root.glob("domains/*/target"):
        shutil.rmtree(folder)
    for name in ("state", "cache"):
        shutil.rmtree(root / ".mesh" / name, ignore_errors=True)
    for path in (root / ".mesh" / "duckdb").glob("*.duckdb*"):
        path.unlink()


def cool_project(project: Path) -> None:
    shutil.rmtree(project / "target", ignore_errors=True)
    for path in project.glob("*.duckdb*"):
        path.unlink()


def measure(ctx: Context, domains: int, models: int = MODELS, public: int = PUBLIC) -> list[Figure]:
    folder = ctx.folder(f"monolith-{domains}")
    root, specs = generated_mesh(folder / "mesh", domains=domains, models=models, public=public, fan_in=FAN_IN,
                                 seed=SEED)
    project = write_monolith(folder / "one", specs, seed=SEED)
    build_mesh = partial(mesh, root, "build", "--no-publish")
    build_one = partial(dbt, project, "build", "--profiles-dir", ".", env=plain_env())
    dbt(project, "deps", "--profiles-dir", ".", env=plain_env())
    if not ctx.smoke:   # the smoke run proves the benchmark works: its "warm" builds are the first ones
        build_mesh(), build_one()  # deps of every domain, first parses: what a working copy has
    results: dict[str, dict[str, list[tuple[float, float]]]] = {"warm": {"mesh": [], "one": []}}
    for _ in range(ctx.repeat):
        results["warm"]["mesh"].append(timed(build_mesh))
        results["warm"]["one"].append(timed(build_one))
    if ctx.large:   # cold builds: half of this benchmark's time, kept out of `make bench` and the smoke run
        results["cold"] = {"mesh": [], "one": []}
    for _ in range(ctx.repeat if "cold" in results else 0):
        cool_mesh(root)
        results["cold"]["mesh"].append(timed(build_mesh))
        cool_project(project)
        results["cold"]["one"].append(timed(build_one))
    figures = []
    size = f"{domains} domains, {domains * models} models"
    for state, runs in results.items():
        wall = {side: median([w for w, _ in runs[side]]) for side in runs}
        cpu = {side: median([c for _, c in runs[side]]) for side in runs}
        details = {f"{side}_runs": runs[side] for side in runs}
        figures += [
            Figure(NAME, f"`mesh build` wall, {size} ({state})", wall["mesh"], "s", wall["one"],
                   "one `dbt build` of the same models", "≤ 0.6x on 2 cores", target_ratio=0.6, details=details,
                   note=(f"Whole-process wall time, median of the runs, {state}"
                         + (" (deps installed, databases and manifests present)" if state == "warm" else
                            " (no target/, databases, saved state or parse cache; deps installed)")
                         + ". The mesh builds each domain in its own database with `--jobs` = cores; the single "
                         "project is the same models, seeds, tests and contracts in one dbt project and one "
                         "database, with the same 4 threads.")),
            Figure(NAME, f"`mesh build` CPU, {size} ({state})", cpu["mesh"], "s", cpu["one"],
                   "one `dbt build` of the same models", "≤ 1.05x", target_ratio=1.05,
                   note="User + system CPU time of the whole process tree, median of the runs."),
        ]
    return figures


def run(ctx: Context) -> list[Figure]:
    if ctx.smoke:
        return measure(ctx, 2, 3, 1)
    return [figure for domains in ([12, 50] if ctx.large else [12]) for figure in measure(ctx, domains)]
