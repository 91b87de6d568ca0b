"""3. Change-aware builds: one model changed in a leaf domain of a 10-domain mesh, `--changed` against full."""

from __future__ import annotations

from bench.figures import Figure
from bench.measure import median
from bench.meshes import Context, generated_mesh, mesh, mesh_build_json

NAME = "3. change-aware"


def run(ctx: Context) -> list[Figure]:
    domains, models, public = (2, 3, 1) if ctx.smoke else (10, 40, 10)
    root, specs = generated_mesh(ctx.folder("changed") / "mesh", domains=domains, models=models, public=public)
    leaf = next(spec.name for spec in reversed(specs) if not spec.downstreams)
    model = root / "domains" / leaf / "models" / "marts" / "pub_0.sql"
    ctx.warm_up(root)
    full, changed, rebuilt = [], [], []
    for attempt in range(ctx.repeat):
        full.append(mesh(root, "build").seconds)
        model.write_text(model.read_text() + f"-- edit {attempt}\n")
        done, report = mesh_build_json(root, "--changed")
        changed.append(done.seconds)
        rebuilt.append({d["domain"]: d["counts"] for d in report["domains"]})
    return [Figure(
        NAME, f"`mesh build --changed`, 1 model of leaf {leaf} changed", median(changed), "s", median(full),
        f"full `mesh build` of {domains} domains", "≤ 0.2x", target_ratio=0.2,
        note=(f"{domains} domains of {models} models ({public} public), whole-process wall time, median. "
              "`--changed` picks the domains whose files changed since their last successful build (checksums "
              "in the state folder) plus their downstream, and inside them dbt's `state:modified+` against the "
              "saved manifest; what remains is a process start, one dbt import (in the fork server), the "
              "worker's first use of dbt's templates, and one parse."),
        details={"full_runs": full, "changed_runs": changed, "rebuilt": rebuilt[-1]})]
