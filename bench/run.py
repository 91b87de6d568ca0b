"""Run the benchmarks: `python -m bench.run` (what `make bench` does), `--smoke` for the tiny run of the tests.

Writes every figure with its baseline, ratio and target to a JSON file (bench/results/latest.json) and the table
between the markers of docs/benchmarks.md.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from bench.figures import Figure, machine, markdown_table, notes, write_json
from bench.generate import REPO
from bench.meshes import Context

BENCHMARKS = ("orchestration", "parallel", "changed", "refs", "check", "reconcile", "memory", "transpile",
              "governance", "monolith", "reads", "storage", "deploy", "airflow")
RESULTS = REPO / "bench" / "results" / "latest.json"
DOCS = REPO / "docs" / "benchmarks.md"
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"


def run_benchmarks(ctx: Context, names: tuple[str, ...], echo: Any = print) -> dict[str, Any]:
    """Run the named benchmarks; a broken one is recorded with its error and the others still run."""
    started = time.perf_counter()
    payload: dict[str, Any] = {"machine": machine(), "smoke": ctx.smoke, "repeat": ctx.repeat,
                               "started": datetime.now(UTC).isoformat(timespec="seconds"),
                               "benchmarks": {}, "errors": {}}
    for name in names:
        echo(f"running {name}…")
        begun = time.perf_counter()
        module = importlib.import_module(f"bench.suite.{name}")
        try:
            figures: list[Figure] = module.run(ctx)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            payload["errors"][name] = "".join(traceback.format_exception_only(exc)).strip()
            figures = [Figure(module.NAME, "failed", None, "", None, "", "-", note=payload["errors"][name])]
            echo(f"  failed: {payload['errors'][name]}")
        seconds = time.perf_counter() - begun
        payload["benchmarks"][name] = {"seconds": round(seconds, 1), "figures": [f.as_dict() for f in figures],
                                       "load_average": [round(x, 2) for x in os.getloadavg()]}
        for figure in figures:
            ratio = "" if figure.ratio is None else f" ({figure.ratio:.2f}x {figure.baseline_label})"
            value = "-" if figure.value is None else f"{figure.value:.2f} {figure.unit}"
            echo(f"  {figure.name}: {value}{ratio}")
        echo(f"  {name} took {seconds:.0f}s")
    payload["seconds"] = round(time.perf_counter() - started, 1)
    return payload


def merge(previous: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """The results of a partial run (`--only`) laid over those of an earlier run."""
    benchmarks = {**previous.get("benchmarks", {}), **payload["benchmarks"]}
    errors = {k: v for k, v in previous.get("errors", {}).items() if k not in payload["benchmarks"]}
    ordered = {name: benchmarks[name] for name in BENCHMARKS if name in benchmarks}
    return {**payload, "benchmarks": ordered, "errors": {**errors, **payload["errors"]},
            "seconds": round(sum(b["seconds"] for b in ordered.values()), 1)}


def figures_of(payload: dict[str, Any]) -> list[Figure]:
    """The figures of a results file, back as objects."""
    fields = set(Figure.__dataclass_fields__)
    return [Figure(**{k: v for k, v in figure.items() if k in fields})
            for bench in payload["benchmarks"].values() for figure in bench["figures"]]


def results_section(payload: dict[str, Any]) -> str:
    """The markdown that goes between the markers of docs/benchmarks.md."""
    info = payload["machine"]
    figures = figures_of(payload)
    return "\n".join([
        f"Measured on {info['cores']} cores ({info['platform']}), Python {info['python']}, dbt-core "
        f"{info['dbt_core']}, dbt-duckdb {info['dbt_duckdb']}, last run started {payload['started']}; each figure "
        f"is the median of {payload['repeat']} runs; the benchmarks took {payload['seconds'] / 60:.1f} minutes in "
        "all (benchmarks re-run with `--only` count with their latest run).",
        "", markdown_table(figures), "", notes(figures), "",
        "Load average of the machine (1, 5, 15 minutes) at the end of each benchmark, a sign of other work "
        "sharing its 2 cores while it ran: " + "; ".join(
            f"{name} {', '.join(str(x) for x in bench['load_average'])}"
            for name, bench in payload["benchmarks"].items() if bench.get("load_average")) + "."])


def update_docs(path: Path, payload: dict[str, Any]) -> None:
    """Replace the results between the markers of the benchmarks page."""
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise click.ClickException(f"{path}: the markers {START} and {END} are missing; restore them")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{START}\n{results_section(payload)}\n{END}{tail}", encoding="utf-8")


@click.command()
@click.option("--smoke", is_flag=True, help="Tiny meshes, one run each: proves every benchmark still works.")
@click.option("--only", multiple=True, type=click.Choice(BENCHMARKS), help="Run only these benchmarks.")
@click.option("--repeat", type=click.IntRange(min=1), default=None, help="Runs per measurement (default 2, "
              "which keeps `make bench` under 15 minutes on 2 cores; 1 with --smoke).")
@click.option("--loom-python", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="The python of the bench virtualenv that has dbt-loom (without it, dbt-loom is not measured).")
@click.option("--airflow-python", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="The python of Airflow's virtualenv (without it, the DAG file parse is not measured).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Results file (default: {RESULTS.relative_to(REPO)}; with --smoke, none). With --only, the "
              "new figures replace those of the same benchmarks in it.")
@click.option("--docs/--no-docs", "write_docs", default=None,
              help=f"Update the table in {DOCS.relative_to(REPO)} (default: yes, except with --smoke).")
@click.option("--large", is_flag=True, help="Also the largest sizes, kept out of `make bench`'s 15 minutes: "
              "10 million governed rows, 50 domains against one project.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the meshes are written (default: a temporary folder, removed afterwards).")
def main(smoke: bool, only: tuple[str, ...], repeat: int | None, loom_python: Path | None,
         airflow_python: Path | None, out: Path | None, write_docs: bool | None, large: bool,
         workdir: Path | None) -> None:
    """Run the benchmarks of the mesh and write their figures."""
    folder = workdir or Path(tempfile.mkdtemp(prefix="mesh-bench-"))
    loom = loom_python.absolute() if loom_python else None  # not resolved: a venv's python is a symlink
    ctx = Context(folder.resolve(), smoke, repeat or (1 if smoke else 2), loom, large=large,
                  airflow_python=airflow_python.absolute() if airflow_python else None)
    try:
        payload = run_benchmarks(ctx, only or BENCHMARKS, echo=click.echo)
    finally:
        if workdir is None:
            shutil.rmtree(folder, ignore_errors=True)
    target = out or (None if smoke else RESULTS)
    if target is not None and only and target.is_file():
        payload = merge(json.loads(target.read_text(encoding="utf-8")), payload)
    if target is not None:
        write_json(target, payload)
        click.echo(f"wrote {target}")
    if write_docs if write_docs is not None else not smoke:
        update_docs(DOCS, payload)
        click.echo(f"updated {DOCS}")
    if payload["errors"]:
        raise click.ClickException(f"benchmarks failed: {', '.join(payload['errors'])}")


if __name__ == "__main__":
    main()
