"""13. Deploying one domain alone through the state store (docs/deploying.md): what pulling an upstream's record
and pushing the domain's own adds to a deploy, with a 1,000-model upstream manifest on the local folder store;
and the deploy of one leaf domain of a generated mesh from a fresh clone against a plain `dbt build` of it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench.figures import Figure
from bench.measure import clean_env, median
from bench.meshes import Context, dbt, domain_order, generated_mesh, mesh
from mesh_cli.api import Deploy, FolderStore, discover_domains, fingerprint, load_config, pull_records, save_build
from testkit.mesh_copy import example_mesh

NAME = "13. deploy alone"


def _large_upstream(ctx: Context) -> tuple[Path, str, int]:
    """A parsed domain of 1,000 models (the smoke run reuses the first domain of the fresh-clone mesh)."""
    if ctx.smoke:
        root = ctx.workdir / "deploy-clone" / "mesh"
        return root, domain_order(root)[0], 2
    root, specs = generated_mesh(ctx.folder("deploy-record") / "mesh", domains=1, models=1000, public=250)
    dbt(root / "domains" / specs[0].name, "deps")
    dbt(root / "domains" / specs[0].name, "parse")
    return root, specs[0].name, 1000


def _pull_and_push(ctx: Context) -> Figure:
    """A record with a large upstream manifest: its push (pack and conditional write) and its pull (read,
    unpack) into a new working folder, in this process, against saving the build into the state folder."""
    root, upstream, models = _large_upstream(ctx)
    project = root / "domains" / upstream
    config = load_config(root)
    domain = discover_domains(config)[upstream]
    saves, pushes, pulls = [], [], []
    store = FolderStore(root / ".mesh" / "shared-store")
    deploy = Deploy(config, store, "dev", "bench push")
    for attempt in range(ctx.repeat):
        started = time.perf_counter()
        save_build(config, "dev", domain, fingerprint(config, domain))
        saves.append(time.perf_counter() - started)
        started = time.perf_counter()
        deploy.push(upstream)
        pushes.append(time.perf_counter() - started)
        started = time.perf_counter()
        pull_records(store, "dev", [upstream], root / f"fresh-{attempt}", required=[upstream])
        pulls.append(time.perf_counter() - started)
    size = (project / "target" / "manifest.json").stat().st_size / 1024 / 1024
    added = [(push + pull) * 1000 for push, pull in zip(pushes, pulls, strict=True)]   # ms: tenths of a second
    return Figure(
        NAME, f"pull + push of a record with a {models}-model manifest ({size:.1f} MiB), local folder store",
        median(added), "ms", median(saves) * 1000, "saving the build into the state folder", "≤ 500 ms",
        target_value=500,
        note=("In-process wall time, median. Push: the domain's working folder packed as one gzipped tar and "
              "written with the store's compare-and-swap (flock, compare, rename); pull: the record read, checked "
              "and unpacked into an empty working folder, as on a fresh clone. The baseline is what every build "
              "already paid before stores: copying the artifacts into the state folder, the model index and the "
              "contract history."),
        details={"push_runs": pushes, "pull_runs": pulls, "save_runs": saves, "manifest_mib": round(size, 2)})


def _fresh_clone_deploy(ctx: Context) -> Figure:
    """The leaf of a built generated mesh, deployed from new copies of the repository (no state, no build)
    against the shared store and warehouse; the baseline is a cold plain `dbt deps && dbt build` of the leaf
    in the built mesh (its target/ and dbt_packages/ removed first, as a fresh clone has neither)."""
    domains, models, public = (1, 2, 1) if ctx.smoke else (50, 6, 2)
    folder = ctx.folder("deploy-clone")
    root, specs = generated_mesh(folder / "mesh", domains=domains, models=models, public=public)
    mesh(root, "build")
    leaf = domain_order(root)[-1]
    env = clean_env(MESH_STORE=str(root / ".mesh" / "store"), MESH_DUCKDB_DIR=str(root / ".mesh" / "duckdb"))
    deploys, plain = [], []
    for attempt in range(ctx.repeat):
        clone = example_mesh(folder / f"clone-{attempt}", root=root)
        deploys.append(mesh(clone, "build", leaf, env=env).seconds)
        project = root / "domains" / leaf
        for leftover in ("target", "dbt_packages"):
            shutil.rmtree(project / leftover, ignore_errors=True)
        plain.append(dbt(project, "deps").seconds + dbt(project, "build").seconds)
    upstreams = len(next(spec for spec in specs if spec.name == leaf).upstreams)
    return Figure(
        NAME, f"`mesh build {leaf}` from a fresh clone with the store, {domains}-domain mesh", median(deploys), "s",
        median(plain), f"plain `dbt deps && dbt build` of {leaf}, cold", "≤ 1.2x", target_ratio=1.2,
        note=(f"Whole-process wall time, median. {leaf} reads {upstreams} upstream domain(s); the clone holds "
              "the repository only, and `mesh build` takes the lease, pulls the records of the leaf and its "
              "upstreams from the store (a folder), validates, builds the leaf alone, publishes it and pushes "
              "its record. Both sides install the package (`dbt deps`) and parse from scratch."),
        details={"deploy_runs": deploys, "plain_runs": plain})


def run(ctx: Context) -> list[Figure]:
    return [_fresh_clone_deploy(ctx), _pull_and_push(ctx)]
