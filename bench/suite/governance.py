"""9. Governance at data scale: `mesh build` of a domain whose one large table is governed (masked e-mail, rows
filtered by region) against the same domain ungoverned, at 1 million generated rows (10 million with --large)."""

from __future__ import annotations

import threading
from pathlib import Path

import yaml

from bench.figures import Figure
from bench.measure import Run, median
from bench.meshes import Context, generated_mesh, mesh

NAME = "9. governance"
SAMPLE_SECONDS = 0.05
MODEL_SQL = """-- {rows} generated rows: an e-mail to mask and a region to filter by.
select cast(i as bigint) as id,
       'user' || i || '@example.com' as email,
       (['EMEA', 'NA', 'APAC', 'LATAM'])[i % 4 + 1] as region,
       cast(i % 1000 as decimal(18, 2)) as amount
from range({rows}) as t(i)
"""


def _model_yml(governed: bool) -> dict:
    email: dict = {"name": "email", "data_type": "varchar"}
    config: dict = {"contract": {"enforced": True}}
    if governed:
        email["config"] = {"meta": {"data_mesh": {"masking": "mask_email"}}}
        config["meta"] = {"data_mesh": {"row_access": {"policy": "region_entitlement", "columns": ["region"]}}}
    return {"version": 2, "models": [{"name": "big", "config": config, "columns": [
        {"name": "id", "data_type": "bigint", "constraints": [{"type": "not_null"}]}, email,
        {"name": "region", "data_type": "varchar"}, {"name": "amount", "data_type": "decimal(18,2)"}]}]}


def domain_mesh(folder: Path, rows: int, governed: bool) -> Path:
    """A one-domain generated mesh with a private table `big` of `rows` rows, governed or not."""
    root, [spec] = generated_mesh(folder, domains=1, models=2, public=1)
    domain = root / "domains" / spec.name
    project = yaml.safe_load((domain / "dbt_project.yml").read_text())
    project["models"][spec.name]["big"] = {"+materialized": "table", "+access": "private"}
    if governed:
        project["on-run-start"] = ["{{ data_mesh.prepare_governance() }}"]
        project["models"][spec.name]["+post-hook"] = "{{ data_mesh.apply_governance() }}"
    (domain / "dbt_project.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    (domain / "models" / "big").mkdir()
    (domain / "models" / "big" / "big.sql").write_text(MODEL_SQL.format(rows=rows))
    (domain / "models" / "big" / "_big.yml").write_text(yaml.safe_dump(_model_yml(governed), sort_keys=False))
    return root


class _DiskSampler(threading.Thread):
    """The peak size of the DuckDB files of a folder (database and write-ahead log) while a command runs."""

    def __init__(self, folder: Path) -> None:
        super().__init__(daemon=True)
        self.folder, self.peak, self.done = folder, 0, threading.Event()

    def size(self) -> int:
        total = 0
        for path in self.folder.glob("*.duckdb*"):
            try:
                total += path.stat().st_size
            except OSError:
                continue
        return total

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.size())
            self.done.wait(SAMPLE_SECONDS)


def build(root: Path) -> tuple[Run, float]:
    """`mesh build` of the mesh (a rebuild when it was built before); its run and peak database size, MiB."""
    sampler = _DiskSampler(root / ".mesh" / "duckdb")
    sampler.start()
    try:
        done = mesh(root, "build", "--no-publish", tree_memory=True)
    finally:
        sampler.done.set()
        sampler.join()
    return done, max(sampler.peak, sampler.size()) / (1024 * 1024)


def measure(ctx: Context, rows: int) -> list[Figure]:
    folder = ctx.folder(f"governance-{rows}")
    roots = {governed: domain_mesh(folder / ("governed" if governed else "plain"), rows, governed)
             for governed in (False, True)}
    runs: dict[bool, list[tuple[Run, float]]] = {False: [], True: []}
    for governed in (False, True):
        ctx.warm_up(roots[governed], "--no-publish")  # deps installed, the table exists: a rebuild is measured
    for _ in range(ctx.repeat):
        for governed in (False, True):
            runs[governed].append(build(roots[governed]))
    label = f"{rows:,} rows" if rows < 1_000_000 else f"{rows // 1_000_000} million rows"
    wall = {g: median([r.seconds for r, _ in runs[g]]) for g in runs}
    disk = {g: max(size for _, size in runs[g]) for g in runs}
    memory = {g: max(r.tree_peak_mib for r, _ in runs[g]) for g in runs}
    baseline = "the same domain ungoverned"
    details = {"governed_runs": [r.seconds for r, _ in runs[True]],
               "ungoverned_runs": [r.seconds for r, _ in runs[False]]}
    return [
        Figure(NAME, f"`mesh build` of a governed table, {label}", wall[True], "s", wall[False], baseline,
               "≤ 1.15x", target_ratio=1.15, details=details,
               note=("Whole-process wall time of a rebuild, median of the runs: one domain with a private table "
                     "masking an e-mail column and filtering rows by region, against the same domain without "
                     "`meta.data_mesh` (no governance hooks). The governed table is built straight into "
                     "`mesh_protected` and exposed as a view: the rows are written once.")),
        Figure(NAME, f"peak database size, governed, {label}", disk[True], "MiB", disk[False], baseline,
               "≤ 1.15x (no second copy)", target_ratio=1.15,
               note="The DuckDB file and its write-ahead log, sampled every 50 ms during the rebuild."),
        Figure(NAME, f"peak RSS of the governed build, {label}", memory[True], "MiB", memory[False], baseline,
               "(reported)", note="Summed RSS of the `mesh build` process tree, sampled every 20 ms."),
    ]


def run(ctx: Context) -> list[Figure]:
    sizes = [2_000] if ctx.smoke else [1_000_000, 10_000_000] if ctx.large else [1_000_000]
    return [figure for rows in sizes for figure in measure(ctx, rows)]
