"""After a domain's successful build on an engine that counts built rows (`Engine.counts_built_rows`): count the
rows of each table its models built where dbt's adapter reported none, and keep the counts beside the kept run
results (core/row_counts.py)."""

from __future__ import annotations

import json
from pathlib import Path

from mesh_cli.core.domains import Domain
from mesh_cli.core.manifest import load_manifest
from mesh_cli.core.row_counts import STORING, record_row_counts, reported_rows
from mesh_cli.engines.base import Engine


def count_built_rows(engine: Engine, domain: Domain, folder: Path) -> None:
    """Count and record the rows of the tables the build saved in `folder` (its run results and manifest) built."""
    run = json.loads((folder / "run_results.json").read_text(encoding="utf-8"))
    nodes = load_manifest(folder / "manifest.json")["nodes"]
    relations: dict[str, str] = {}
    for result in run.get("results") or ():
        node = nodes.get(result.get("unique_id")) or {}
        if (node.get("resource_type") == "model" and result.get("status") == "success" and reported_rows(result) is None
                and (node.get("config") or {}).get("materialized") in STORING and node.get("relation_name")):
            relations[result["unique_id"]] = node["relation_name"]
    stamp = (run.get("metadata") or {}).get("generated_at")
    if not relations or not stamp:
        return
    counted = engine.stored_rows(domain.name, sorted(set(relations.values())))
    record_row_counts(folder, str(stamp), {uid: counted[relation] for uid, relation in relations.items()})
