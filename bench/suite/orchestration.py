"""1. Orchestration: `mesh build` of the example mesh against a shell loop of plain `dbt build` per domain."""

from __future__ import annotations

from bench.figures import Figure
from bench.measure import median
from bench.meshes import Context, domain_order, generated_mesh, mesh, shell_loop
from testkit.mesh_copy import example_mesh

NAME = "1. orchestration"


def run(ctx: Context) -> list[Figure]:
    folder = ctx.folder("orchestration")
    if ctx.smoke:
        root, _ = generated_mesh(folder / "mesh", domains=1, models=2, public=1)
    else:
        root = example_mesh(folder / "mesh")
    order = domain_order(root)
    ctx.warm_up(root)  # dbt deps, databases and manifests exist for both sides
    wrapper, loop = [], []
    for _ in range(ctx.repeat):
        wrapper.append(mesh(root, "build").seconds)
        loop.append(shell_loop(root, order).seconds)
    return [Figure(
        NAME, f"`mesh build`, {len(order)} domains (warm)", median(wrapper), "s", median(loop),
        "shell loop of `dbt build`", "≤ 0.5x", target_ratio=0.5,
        note=("Whole-process wall time, median of the runs, both sides warm (deps installed, databases and "
              "manifests present). The wrapper imports dbt once (in the fork server its workers are "
              "forked from) and invokes it in-process, one parse per domain; the loop pays a new Python process "
              "and dbt import per domain."),
        details={"domains": order, "mesh_runs": wrapper, "loop_runs": loop})]
