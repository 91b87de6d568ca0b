"""7. Peak memory of `mesh build --jobs 2` on 20 domains against one plain `dbt build` of the largest domain."""

from __future__ import annotations

from bench.figures import Figure
from bench.meshes import Context, dbt, generated_mesh, mesh, plain_env

NAME = "7. memory"


def run(ctx: Context) -> list[Figure]:
    domains, models, public = (2, 2, 1) if ctx.smoke else (20, 10, 3)
    root, specs = generated_mesh(ctx.folder("memory") / "mesh", domains=domains, models=models, public=public)
    largest = max(specs, key=lambda spec: (spec.staging + spec.public, len(spec.upstreams))).name
    wrapper, plain = [], []   # the first build is cold (deps, full parses), the later ones warm
    for _ in range(ctx.repeat):
        wrapper.append(mesh(root, "build", "--jobs", "2", tree_memory=True).tree_peak_mib)
        plain.append(dbt(root / "domains" / largest, "build", env=plain_env(), tree_memory=True).tree_peak_mib)
    return [Figure(
        NAME, f"peak RSS of `mesh build --jobs 2`, {domains} domains", max(wrapper), "MiB", max(plain),
        f"plain `dbt build` of {largest}", "≤ 3x (2 workers + coordinator)", target_ratio=3.0,
        note=("Summed RSS of the whole process tree, sampled every 20 ms, the highest of the runs (the first "
              "one cold). The issue sets no "
              "target; 3x is what two dbt workers and the coordinating process cost at most if each is one dbt. "
              f"{largest} is the domain with the most models and upstream attachments. The fork server the workers "
              "are forked from (dbt imported) counts in full, and so do the pages it shares with them."),
        details={"mesh_runs_mib": wrapper, "dbt_runs_mib": plain})]
