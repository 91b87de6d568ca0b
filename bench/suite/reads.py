"""11. Reads that need no dbt: `mesh list`, `mesh graph` and `mesh product` on a built mesh of 12 generated domains,
each a new process, against the floor of any `mesh` process (`mesh --version`)."""

from __future__ import annotations

from bench.figures import Figure
from bench.measure import median
from bench.meshes import Context, domain_order, generated_mesh, mesh

NAME = "11. reads"


def run(ctx: Context) -> list[Figure]:
    domains, models, public = (2, 2, 1) if ctx.smoke else (12, 20, 5)
    root, _ = generated_mesh(ctx.folder("reads") / "mesh", domains=domains, models=models, public=public)
    mesh(root, "build", "--no-publish")
    product = f"{domain_order(root)[-1]}.{domain_order(root)[-1]}_products"
    commands = {"`mesh list`": ("list",), "`mesh graph`": ("graph",), "`mesh product`": ("product", product)}
    floor = median([mesh(root, "--version").seconds for _ in range(ctx.repeat)])
    figures = []
    for label, args in commands.items():
        runs = [mesh(root, *args).seconds for _ in range(ctx.repeat)]
        figures.append(Figure(
            NAME, f"{label}, {domains} built domains", median(runs), "s", floor, "`mesh --version` (process start)",
            "< 1 s", target_value=1.0, details={"runs": runs},
            note=("Whole-process wall time, median of the runs, on a built mesh: the answer comes from the saved "
                  "manifests and state, with neither dbt nor DuckDB nor sqlglot imported (tested in "
                  "tests/test_reads_without_dbt.py). What remains over the process start is reading the "
                  "manifests and importing networkx and rich.")))
    return figures
