"""4. Ref resolution: what resolving cross-domain refs adds to the parse of a 10-model downstream, at 1,000 and
10,000 upstream public models, against dbt-loom on the same upstream manifest.

Each parse is a new `dbt parse --no-partial-parse` process; "added" is its time and peak RSS minus those of the
same downstream without cross-domain refs, parsed by the same dbt installation. The resolver runs in the main
virtualenv (the `dbt_data_mesh` plugin reading the upstream's saved state); dbt-loom runs in the bench
virtualenv (its plugin would otherwise be discovered in the main one), configured with DBT_LOOM_CONFIG.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml

from bench import measure
from bench.figures import Figure
from bench.generate import CrossRef, DomainSpec, write_mesh
from bench.measure import Run, median
from bench.meshes import DBT, Context, dbt, plain_env

NAME = "4. ref resolution"
DOWNSTREAM_MODELS = 10
CROSS_REFS = 5
SAVE_STATE = """import sys
from pathlib import Path
from mesh_cli.api import fingerprint, load_config, load_domain, save_build
config, domain = load_config(Path(sys.argv[1])), load_domain(Path(sys.argv[2]))
save_build(config, "dev", domain, fingerprint(config, domain))
"""


def _downstream(refs: int) -> DomainSpec:
    spec = DomainSpec("down", 1, DOWNSTREAM_MODELS - 1, rows=1)
    if refs:
        spec.upstreams = ["up"]
        spec.refs = [CrossRef("up", f"pub_{i * 7}", i) for i in range(refs)]
    return spec


def _upstream_mesh(folder: Path, public: int) -> Path:
    """A mesh of `up` (`public` contracted, tested public models) and `down`; `up` parsed into the state."""
    upstream = DomainSpec("up", 1, public, rows=1, downstreams=["down"])  # its product is shared with down
    root = write_mesh(folder, [upstream, _downstream(CROSS_REFS)])
    up = root / "domains" / "up"
    env = plain_env()
    dbt(up, "deps", env=env)
    dbt(up, "parse", "--no-partial-parse", env=env)
    # saved as `mesh build` saves it, in a process of its own: loading a large manifest here would inflate the
    # peak RSS the kernel reports for every later child of this process (it carries over across exec)
    measure.run([sys.executable, "-c", SAVE_STATE, str(root), str(up)], root)
    dbt(root / "domains" / "down", "deps", env=env)
    return root


def _loom_copy(root: Path, dest: Path) -> tuple[Path, Path]:
    """The mesh's downstream outside the mesh, configured for dbt-loom with the upstream's manifest."""
    shutil.copytree(root / "domains" / "down", dest, ignore=shutil.ignore_patterns("target", "dbt_packages"))
    (dest / "packages.yml").write_text(yaml.safe_dump({"packages": [{"local": str(root)}]}))
    config = dest.parent / f"{dest.name}.loom.yml"
    config.write_text(yaml.safe_dump({"manifests": [{
        "name": "up", "type": "file",
        "config": {"path": str(root / "domains" / "up" / "target" / "manifest.json")}}]}))
    return dest, config


def _parse(project: Path, dbt_bin: Path, env: dict[str, str]) -> Run:
    return dbt(project, "parse", "--no-partial-parse", dbt_bin=dbt_bin, env=env)


def _added(pairs: list[tuple[Run, Run]]) -> tuple[float, float]:
    """Median of the per-round differences (measured, minus its baseline of the same round)."""
    return (median([run.seconds - base.seconds for run, base in pairs]),
            median([run.max_rss_mib - base.max_rss_mib for run, base in pairs]))


def run(ctx: Context) -> list[Figure]:
    folder = ctx.folder("refs")
    sizes = (30,) if ctx.smoke else (1_000, 10_000)
    plain = write_mesh(folder / "plain", [_downstream(0)]) / "domains" / "down"
    env = plain_env()
    loom_bin = ctx.loom_python.parent / "dbt" if ctx.loom_python else None
    dbt(plain, "deps", env=env)
    figures = []
    for size in sizes:
        root = _upstream_mesh(folder / f"mesh_{size}", size)
        loom = _loom_copy(root, folder / f"loom_{size}" / "down") if loom_bin else None
        loom_env = {**env, "DBT_LOOM_CONFIG": str(loom[1])} if loom else {}
        if loom_bin and loom:
            dbt(loom[0], "deps", dbt_bin=loom_bin, env=loom_env)
        ours, theirs = [], []
        for _ in range(ctx.repeat):  # each round measures its own baselines, under the same machine load
            ours.append((_parse(root / "domains" / "down", DBT, env), _parse(plain, DBT, env)))
            if loom_bin and loom:
                theirs.append((_parse(loom[0], loom_bin, loom_env), _parse(plain, loom_bin, env)))
        mine = _added(ours)
        peer: tuple[float | None, float | None] = _added(theirs) if theirs else (None, None)
        last = size == sizes[-1]
        figures += [
            Figure(NAME, f"parse time added, {size:,} upstream public models", mine[0], "s", peer[0],
                   "dbt-loom" if loom_bin else "", "< 1 s at 10,000" if last else "(reported)",
                   target_value=1.0 if last else None,
                   note=_note(size, loom_bin is not None) if last else "",
                   details={"downstream_models": DOWNSTREAM_MODELS, "cross_domain_refs": CROSS_REFS,
                            "resolver_rounds": [[r.seconds, r.max_rss_mib, b.seconds, b.max_rss_mib]
                                                for r, b in ours],
                            "loom_rounds": [[r.seconds, r.max_rss_mib, b.seconds, b.max_rss_mib]
                                            for r, b in theirs]}),
            Figure(NAME, f"peak memory added, {size:,} upstream public models", mine[1], "MiB", peer[1],
                   "dbt-loom" if loom_bin else "", "< 30 MiB at 10,000" if last else "(reported)",
                   target_value=30.0 if last else None),
        ]
    return figures


def _note(size: int, loom: bool) -> str:
    peer = ("dbt-loom copies every public upstream node into the downstream manifest, so its cost follows the "
            "size of the upstream." if loom else "dbt-loom was not measured: no bench virtualenv (`make bench` "
            "creates it).")
    return (f"A {DOWNSTREAM_MODELS}-model downstream with {CROSS_REFS} cross-domain refs, `dbt parse "
            "--no-partial-parse` as a new process; the median over the rounds of its cost minus that of the "
            "same downstream without cross-domain refs on the same dbt, parsed right after it. The resolver "
            f"finds the refs statically and reads only the {CROSS_REFS} referenced models from the upstream's "
            f"model index. {peer}")
