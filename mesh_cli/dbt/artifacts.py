"""dbt's JSON artifacts, written by the worker instead of by each dbt command.

A job parses its project once and its commands reuse that manifest (dbt's documented `dbtRunner(manifest=...)`),
each run with `--no-write-json`: left to itself, every command would parse again and write `manifest.json` twice
(after parsing and after running), about 0.15 s of CPU each time for a domain's manifest, which holds some 600
of dbt's macros. The worker writes the same files once, where dbt would: the manifest (from dbt's own serialisation of
it, encoded with orjson), the semantic manifest, and each command's results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

MANIFEST = "manifest.json"
RESULTS: dict[tuple[str, ...], str] = {("source", "freshness"): "sources.json"}   # others: run_results.json
RUN_RESULTS = "run_results.json"


def target_dir(args: tuple[str, ...], project_dir: Path) -> Path:
    """Where a dbt command writes its artifacts: its `--target-path`, else the project's `target/`.

    >>> target_dir(("parse", "--target-path", "/tmp/parsed"), Path("/mesh/domains/shop")).as_posix()
    '/tmp/parsed'
    >>> target_dir(("build", "--target", "dev"), Path("/mesh/domains/shop")).as_posix()
    '/mesh/domains/shop/target'
    """
    if "--target-path" in args:
        return project_dir / args[args.index("--target-path") + 1]
    return project_dir / "target"


def results_file(args: tuple[str, ...]) -> str:
    """The results artifact a command writes (`sources.json` for `source freshness`, else `run_results.json`).

    >>> results_file(("source", "freshness", "--target", "dev")), results_file(("build",))
    ('sources.json', 'run_results.json')
    """
    return RESULTS.get(tuple(args[:2]), RUN_RESULTS)


def write_manifest(manifest: Any, folder: Path) -> None:
    """Write a parsed (and possibly run) manifest as dbt's `write_manifest` does: `manifest.json` and
    `semantic_manifest.json`. Its metadata names the job's last command, as when that command writes it: the run
    results and the manifest of one build share an invocation id (the catalogue pairs them by it)."""
    from datetime import UTC, datetime

    from dbt.parser.manifest import write_semantic_manifest
    from dbt_common.invocation import get_invocation_id, get_invocation_started_at
    from dbt_common.utils.encoding import JSONEncoder

    manifest.metadata.invocation_id = get_invocation_id()
    manifest.metadata.invocation_started_at = get_invocation_started_at()
    manifest.metadata.generated_at = datetime.now(UTC).replace(tzinfo=None)
    folder.mkdir(parents=True, exist_ok=True)
    data = manifest.writable_manifest().to_dict(omit_none=False, context={"artifact": True})
    (folder / MANIFEST).write_bytes(orjson.dumps(data, default=JSONEncoder().default))
    write_semantic_manifest(manifest, str(folder))


def write_results(result: Any, folder: Path, name: str) -> None:
    """Write a command's results (run results, source freshness) with dbt's own writer, if it has any."""
    if hasattr(result, "write"):
        folder.mkdir(parents=True, exist_ok=True)
        result.write(str(folder / name))
