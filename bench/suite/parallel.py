"""2. Parallelism: 12 domains in 3 independent chains, `mesh build --jobs 2` against `--jobs 1`."""

from __future__ import annotations

from bench.figures import Figure
from bench.measure import median
from bench.meshes import Context, generated_mesh, mesh, mesh_build_json

NAME = "2. parallelism"


def run(ctx: Context) -> list[Figure]:
    domains, models, public = (3, 2, 1) if ctx.smoke else (12, 8, 3)
    root, _ = generated_mesh(ctx.folder("parallel") / "mesh", domains=domains, models=models, public=public,
                             fan_in=1, chains=3, layers=domains // 3)
    ctx.warm_up(root, "--jobs", "2")
    one, two, critical = [], [], []
    for _ in range(ctx.repeat):
        one.append(mesh(root, "build", "--jobs", "1").seconds)
        done, report = mesh_build_json(root, "--jobs", "2")
        two.append(done.seconds)
        critical.append(report["critical_path"]["seconds"])
    return [Figure(
        NAME, f"`mesh build --jobs 2`, {domains} domains in 3 chains", median(two), "s", median(one),
        "`--jobs 1`", "≤ 0.6x on 2 cores", target_ratio=0.6,
        note=("Whole-process wall time, median of the runs, warm. Each chain is 4 domains deep, so 2 workers "
              f"always have independent work; the critical path (one chain) took {median(critical):.1f} s of "
              "domain build time."),
        details={"jobs1_runs": one, "jobs2_runs": two, "critical_path_seconds": critical})]
