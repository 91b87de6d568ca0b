"""5. `mesh check` on 50 domains of 200 public models: its seconds, and how they grow from 10 to 50 domains.

Each mesh is a git repository and the baseline is its last commit (`--baseline-ref HEAD`, what CI runs against
the base branch). Three checks per size, each a new process: the first of a fresh clone (nothing cached: every
domain is parsed once, both sides sharing each parse), one with nothing changed, and — the figure the target is
for — one after a model of a leaf domain was edited, the everyday check of a pull request or a pre-commit hook.
At the larger size, a fourth: the first check of a fresh clone (no cache) with the same edit, against a folder of
the deployed state (`--baseline DIR`), whose saved builds stand for the parse of every domain that is the same.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from bench import measure
from bench.figures import Figure
from bench.generate import DomainSpec
from bench.measure import CommandFailed, Run, median
from bench.meshes import MESH, Context, domain_order, generated_mesh
from mesh_cli.api import (
    DomainGraph,
    ParseCache,
    discover_domains,
    domain_state_dir,
    fingerprint,
    load_config,
    missing_parses,
    parse_domains,
    parsed_manifest_path,
    save_build,
)

NAME = "5. mesh check"


def _git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def _submesh(root: Path, specs: list[DomainSpec], dest: Path, count: int) -> Path:
    """The first `count` domains (closed under upstreams: a domain only refs earlier ones), committed to git."""
    keep = {spec.name for spec in specs[:count]}

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if Path(folder).name == "domains" and n not in keep]

    shutil.copytree(root, dest, ignore=ignore)
    for name in keep:   # consumers outside the submesh are not domains of it (mesh check refuses them)
        path = dest / "domains" / name / "domain.yml"
        data = yaml.safe_load(path.read_text())
        for product in data.get("products") or []:
            consumers = product.get("consumers") or {}
            consumers["domains"] = [d for d in consumers.get("domains") or [] if d in keep]
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", ".")
    _git(dest, "commit", "-q", "-m", "deployed")
    return dest


def _check(root: Path, *baseline: str) -> Run:
    report = root / "check.json"
    report.unlink(missing_ok=True)
    done = measure.run([MESH, "--mesh-dir", root, "check", *(baseline or ("--baseline-ref", "HEAD")),
                        "--format", "json", "--output", report], root, check=False)
    if not report.is_file():   # exit 0 or 1 writes the report; 2 (bad input) does not
        raise CommandFailed(f"mesh check failed:\n{done.output[-2000:]}")
    return done


def _edit_leaf(root: Path, number: int) -> None:
    """Change the SQL of one public model of the last domain (nothing refs it): a new expression each time."""
    leaf = domain_order(root)[-1]
    model = sorted((root / "domains" / leaf / "models" / "marts").glob("pub_*.sql"))[0]
    text = model.read_text().rstrip("\n").split("\n-- edit ")[0]
    model.write_text(f"{text}\n-- edit {number}\n")


def _deploy(root: Path) -> Path:
    """The state folder a deployment of the mesh's commit leaves (each domain's manifest and fingerprint, as
    `mesh build` saves them), written from the parses the first check cached: a build of 50 x 200 models takes
    over ten minutes here, and `mesh check` reads only the manifest and the fingerprint of a saved build."""
    config = load_config(root)
    domains = discover_domains(config)
    ordered = [domains[name] for name in DomainGraph(domains).order(set(domains))]
    target = config.default_target
    cache = ParseCache.of(config, target)
    if missing := missing_parses(config, ordered, target, cache):
        raise CommandFailed(f"the first check left no cached parse of {', '.join(missing)}")
    parsed = root / ".mesh" / "deploying"
    parse_domains(config, ordered, target, state_dir=parsed, cache=cache, load=())
    for domain in ordered:
        built = domain.path / "target" / "manifest.json"
        built.parent.mkdir(exist_ok=True)
        shutil.copyfile(parsed_manifest_path(parsed, target, domain.name), built)
        save_build(config, target, domain, fingerprint(config, domain))
    return domain_state_dir(config, target, ordered[0].name).parent


def _fresh_clone_check(root: Path, deployed: Path, dest: Path, number: int) -> Run:
    """The first check of a new clone of the mesh's commit, with one leaf model edited, against `deployed`."""
    shutil.rmtree(dest, ignore_errors=True)
    _git(root, "clone", "-q", str(root), str(dest))
    _edit_leaf(dest, number)
    done = _check(dest, "--baseline", str(deployed))
    parsed = sorted(path.name for path in (dest / ".mesh" / "cache" / "parse").glob("*/*"))
    if parsed != [domain_order(dest)[-1]]:   # what the figure claims: the deployed builds stood for the rest
        raise CommandFailed(f"the fresh clone's check parsed {parsed}, not only the edited leaf domain")
    return done


def measure_size(root: Path, repeat: int, *, deployed: bool = False) -> dict[str, Any]:
    """Cold, unchanged and after-an-edit seconds of `mesh check` on one mesh; with `deployed`, also the first
    check of a fresh clone against the deployed state."""
    cold = _check(root).seconds
    result: dict[str, Any] = {"cold": cold}
    if deployed:
        state = _deploy(root)
        clones = [_fresh_clone_check(root, state, root.parent / f"{root.name}_clone", n).seconds
                  for n in range(repeat)]
        result.update(fresh_clone=median(clones), fresh_clone_runs=clones)
    result["unchanged"] = median([_check(root).seconds for _ in range(repeat)])
    edited = []
    for number in range(repeat):
        _edit_leaf(root, number)
        edited.append(_check(root).seconds)
    result.update(edited=median(edited), edited_runs=edited)
    return result


def run(ctx: Context) -> list[Figure]:
    sizes, public = ((1, 2), 2) if ctx.smoke else ((10, 50), 200)
    folder = ctx.folder("check")
    root, specs = generated_mesh(folder / "mesh", domains=sizes[-1], models=public + 1, public=public, rows=1)
    results = [measure_size(_submesh(root, specs, folder / f"mesh_{n}", n), ctx.repeat, deployed=n == sizes[-1])
               for n in sizes]
    return figures(sizes, public, results)


def figures(sizes: tuple[int, int], public: int, results: list[dict[str, Any]]) -> list[Figure]:
    """The edited check at the larger size (against the cold one), its growth, and the other two for the record."""
    (small, large), linear = sizes, sizes[1] / sizes[0]
    at_small, at_large = results
    details = {"domains": list(sizes), "public_models_per_domain": public, "results": results}
    return [
        Figure(NAME, f"`mesh check` after one model of a leaf domain changed, {large} domains x {public} public "
               "models", at_large["edited"], "s", at_large["cold"], "the first check, every domain parsed",
               "< 5 s", target_value=5.0, details=details,
               note=("Whole-process wall time, median, `--baseline-ref HEAD`, after a first check. The edited "
                     "domain is the only one parsed (dbt's partial parsing re-reads the edited file); every "
                     "other domain, on both sides, comes from the parse cache, keyed by its content and its "
                     "upstreams'. What remains is the fork server importing dbt, one parse, and reading 50 "
                     "manifests.")),
        Figure(NAME, f"growth of that check from {small} to {large} domains", at_large["edited"] / at_small["edited"],
               "x", linear, f"linear: {linear:.0f}x", "linear (<= 1.1x of linear)", target_ratio=1.1,
               note=f"Its time at {large} domains over its time at {small}, against {linear:.0f}x."),
        Figure(NAME, f"`mesh check` with nothing changed, {large} domains", at_large["unchanged"], "s",
               at_large["cold"], "the first check, every domain parsed", "(reported)",
               note="No domain is parsed: both sides are the cached parses of the same content."),
        Figure(NAME, f"the first `mesh check` of a fresh clone, {large} domains", at_large["cold"], "s",
               at_small["cold"], f"the same at {small} domains", "(reported)",
               note=("Nothing cached: every domain parsed once (`dbt parse`, two at a time on two cores), its "
                     "parse serving the baseline and the working tree. CI keeps `.mesh/cache` between runs "
                     "(docs/ci.md) so that it pays this once.")),
        Figure(NAME, f"the first `mesh check` of a fresh clone against the deployed state, one leaf model edited, "
               f"{large} domains", at_large["fresh_clone"], "s", at_large["cold"],
               "the first check against a git ref, every domain parsed", "< 10 s", target_value=10.0,
               note=("A new `git clone` (no parse cache, no dbt_packages), one model of the leaf domain edited, "
                     "`--baseline DIR` naming the deployed state folder: a domain whose files, upstreams and "
                     "mesh.yml are those of its saved build reads that build's manifest as its parse, so only the "
                     "edited domain is parsed (after `dbt deps`). The deployed folder is what `mesh build` saves "
                     "(manifest, fingerprint), written here from the first check's parses.")),
    ]
