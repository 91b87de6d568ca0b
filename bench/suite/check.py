"""5. `mesh check` on 50 domains of 200 public models: its seconds, and how they grow from 10 to 50 domains.

The baseline the check compares with is the same mesh parsed beforehand (two workers), so every public model
is compared and nothing is reported as changed. One run per size: a check at 50 domains takes minutes.
"""

from __future__ import annotations

import shutil
from concurrent.futures import Future
from pathlib import Path

from bench import measure
from bench.figures import Figure
from bench.generate import DomainSpec
from bench.measure import CommandFailed, Run
from bench.meshes import MESH, Context, generated_mesh
from mesh_cli.core.config import STATE_DIR_ENV, load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.dbt_invoke import DbtCall, DbtJob, DbtOutcome, DbtWorkers
from mesh_cli.engines import engine_for

NAME = "5. mesh check"


def parse_baseline(root: Path, dest: Path, jobs: int = 2) -> Path:
    """Parse every domain of the mesh at `root` into `dest/state/dev/<domain>/manifest.json`, upstreams first."""
    config = load_config(root)
    domains = discover_domains(config)
    engine = engine_for(config, list(domains.values()), "dev")
    env = {**engine.dbt_env(), "MESH_TARGET": "dev", STATE_DIR_ENV: str(dest)}
    done: set[str] = set()
    running: dict[str, Future[DbtOutcome]] = {}
    with DbtWorkers(jobs) as workers:
        while len(done) < len(domains):
            for name, domain in domains.items():
                if name not in done and name not in running and set(domain.upstreams) <= done:
                    args = ("parse", "--target", "dev", "--no-partial-parse",
                            "--target-path", str(dest / "state" / "dev" / name))
                    job = DbtJob((DbtCall(("deps",), domain.path), DbtCall(args, domain.path)), env, "duckdb")
                    running[name] = workers.submit(job)
            name = next(iter(running))
            outcome = running.pop(name).result()
            if not outcome.ok:
                raise CommandFailed(f"dbt parse of {name} failed: {outcome.error}")
            done.add(name)
    return dest / "state" / "dev"


def _submesh(root: Path, specs: list[DomainSpec], dest: Path, baseline: Path, count: int) -> tuple[Path, Path]:
    """The first `count` domains (closed under upstreams: a domain only refs earlier ones) and their baseline."""
    keep = {spec.name for spec in specs[:count]}
    def ignore(folder: str, names: list[str]) -> list[str]:
        skipped = [n for n in names if Path(folder).name == "domains" and n not in keep]
        return skipped + [n for n in names if n in ("dbt_packages", "target", "logs", "package-lock.yml")]

    shutil.copytree(root, dest, ignore=ignore)
    subset = dest.parent / f"{dest.name}-baseline"
    for name in keep:
        shutil.copytree(baseline / name, subset / name)
    return dest, subset


def _check(root: Path, baseline: Path) -> Run:
    done = measure.run([MESH, "--mesh-dir", root, "check", "--baseline", baseline, "--format", "json",
                "--output", root / "check.json"], root, check=False)
    if not (root / "check.json").is_file():
        raise CommandFailed(f"mesh check wrote no report:\n{done.output[-2000:]}")
    return done


def run(ctx: Context) -> list[Figure]:
    sizes, public = ((1, 2), 2) if ctx.smoke else ((10, 50), 200)
    folder = ctx.folder("check")
    root, specs = generated_mesh(folder / "mesh", domains=sizes[-1], models=public + 1, public=public, rows=1)
    baseline = parse_baseline(root, folder / "baseline")
    seconds = []
    for count in sizes:
        mesh_root, subset = _submesh(root, specs, folder / f"mesh_{count}", baseline, count)
        seconds.append(_check(mesh_root, subset).seconds)
    return figures(sizes, public, seconds)


def figures(sizes: tuple[int, int], public: int, seconds: list[float]) -> list[Figure]:
    """The check's seconds at the larger size, and its growth from the smaller one against linear growth."""
    (small, large), linear = sizes, sizes[1] / sizes[0]
    details = {"domains": list(sizes), "seconds": seconds, "public_models_per_domain": public}
    return [
        Figure(NAME, f"`mesh check`, {large} domains x {public} public models", seconds[1], "s", seconds[0],
               f"{small} domains", "< 5 s", target_value=5.0, details=details,
               note=("Whole-process wall time, one run per size, against a baseline of the same mesh (nothing "
                     "changed). `mesh check` runs `dbt parse --no-partial-parse` of every domain, one after the "
                     "other in one worker; that parse is nearly all of its time.")),
        Figure(NAME, f"growth from {small} to {large} domains", seconds[1] / seconds[0], "x", linear,
               f"linear: {linear:.0f}x", "linear (<= 1.1x of linear)", target_ratio=1.1,
               note=f"The check's time at {large} domains over its time at {small}, against {linear:.0f}x."),
    ]
