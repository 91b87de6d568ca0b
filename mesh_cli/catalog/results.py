"""What a domain's builds and source freshness check said, read from the run history `mesh build` keeps (dbt's run
results of every build, failed ones included, with their outcome) and the sources.json it saved; never from the
domain's target/ folder, which any dbt command overwrites."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from mesh_cli.catalog.kept import read_kept
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.manifest import load_manifest
from mesh_cli.core.row_counts import recorded_row_counts, reported_rows
from mesh_cli.core.run_record import FAILED_STATUSES, RECORD, BuiltFrom
from mesh_cli.core.state import RUN_HISTORY, SOURCES, domain_state_dir, kept_files


@dataclass
class BuildResults:
    """The results of one `mesh build` of a domain on a target, by node id, and its source freshness."""

    status: str                      # success | failed | never built
    generated_at: datetime | None = None
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    tests: dict[str, dict[str, Any]] = field(default_factory=dict)   # test id -> its node in that build's manifest
    counted_rows: dict[str, int] = field(default_factory=dict)   # model id -> rows after the build, where counted
    reason: str | None = None        # why the build failed, as `mesh build` said it (None: read its nodes)
    origin: BuiltFrom | None = None  # the commit it was built from, when recorded
    invocation: str | None = None    # dbt's invocation id, which the manifest of the same build shares

    @property
    def ran_nothing(self) -> bool:
        """A failed build in which dbt built nothing (ingestion, parsing or a refusal stopped it)."""
        return self.status == "failed" and not self.nodes

    def rows(self, unique_id: str) -> tuple[int | None, bool]:
        """The rows a model wrote as dbt's adapter reports them, else as counted after the build (None when
        neither), and whether they were counted."""
        reported = reported_rows(self.nodes.get(unique_id) or {})
        if reported is not None:
            return reported, False
        counted = self.counted_rows.get(unique_id)
        return counted, counted is not None

    def tests_of(self, model_ids: set[str]) -> list[dict[str, Any]]:
        """The data tests of this build attached to any of `model_ids` (a singular test to the one model it reads)."""
        found = []
        for test in self.tests.values():
            parents = [p for p in (test.get("depends_on") or {}).get("nodes") or () if p.startswith("model.")]
            attached = test.get("attached_node") or (parents[0] if len(parents) == 1 else None)
            if attached in model_ids:
                found.append(test)
        return sorted(found, key=lambda test: test["unique_id"])

    def built_at(self, unique_id: str) -> datetime | None:
        """When a model last finished building successfully in this build."""
        result = self.nodes.get(unique_id)
        if not result or result.get("status") != "success":
            return None
        ends = [t.get("completed_at") for t in result.get("timing") or () if t.get("name") == "execute"]
        return _timestamp(ends[0]) if ends and ends[0] else self.generated_at


def _timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _read(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise MeshError(f"cannot read dbt's results ({exc}); rebuild the domain to rewrite it", path=path) from exc
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise MeshError("not a dbt results file (no `results` list); rebuild the domain to rewrite it", path=path)
    return data


def _generated_at(data: dict[str, Any]) -> datetime | None:
    stamp = (data.get("metadata") or {}).get("generated_at")
    return _timestamp(stamp) if stamp else None


def _is_build(data: dict[str, Any]) -> bool:
    return (data.get("args") or {}).get("which") == "build"


def last_build(config: MeshConfig, target: str, domain: Domain, history: list[BuildResults]) -> BuildResults:
    """The domain's newest build on `target` (the last of its `history`, else the run results saved by a
    successful `mesh build` before the history was kept), with its newest source freshness results."""
    state = domain_state_dir(config, target, domain.name)
    freshness = _read(state / SOURCES)
    sources = {r["unique_id"]: r for r in (freshness or {}).get("results", []) if "unique_id" in r}
    if history:
        newest = replace(history[-1])
    elif (saved := _read(state / "run_results.json")) is not None and _is_build(saved):
        newest = _results(saved, recorded_row_counts(state))
    else:
        return BuildResults("never built", sources=sources)
    if not newest.tests:   # a build kept before its record held its tests: the saved manifest of the same build
        manifest = _manifest_of(newest, state / "manifest.json")
        newest.tests = {uid: node for uid, node in (manifest or {}).get("nodes", {}).items()
                        if node.get("resource_type") == "test"}
    newest.sources = sources
    return newest


def _results(run: dict[str, Any], counted: dict[str, dict[str, int]]) -> BuildResults:
    """One build's results, with the rows counted after it (`counted`: by the build's `generated_at`) and what
    `mesh build` recorded of it (its outcome and reason, the tests it knew, its commit)."""
    nodes = {r["unique_id"]: r for r in run["results"] if isinstance(r, dict) and "unique_id" in r}
    kept = run.get(RECORD)
    record: dict[str, Any] = kept if isinstance(kept, dict) else {}
    failed = record.get("outcome") == "failed" or any(str(r.get("status")) in FAILED_STATUSES
                                                       for r in nodes.values())
    stamp = str((run.get("metadata") or {}).get("generated_at"))
    commit = record.get("commit")
    return BuildResults("failed" if failed else "success", _generated_at(run), nodes,
                        tests=dict(record.get("tests") or {}), counted_rows=counted.get(stamp, {}),
                        reason=record.get("reason"),
                        origin=BuiltFrom(commit, bool(record.get("uncommitted"))) if commit else None,
                        invocation=(run.get("metadata") or {}).get("invocation_id"))


def build_history(config: MeshConfig, target: str, domain: Domain) -> list[BuildResults]:
    """The domain's builds on `target` that the state keeps (`history/runs/`, written by `mesh build` after every
    build, failed or not), oldest first."""
    runs: list[tuple[datetime, BuildResults]] = []   # (when, the build): only dated builds
    state = domain_state_dir(config, target, domain.name)
    counted = recorded_row_counts(state)
    for path in kept_files(state / RUN_HISTORY):
        run = read_kept(path, "dbt run results file", "results")
        if not isinstance(run["results"], list):
            raise MeshError("not a dbt run results file (`results` is not a list); delete the file, the history "
                            "goes on with the next build", path=path)
        if (stamp := _generated_at(run)) is not None:
            runs.append((stamp, _results(run, counted)))
    return [results for _, results in sorted(runs, key=lambda pair: pair[0])]


def _manifest_of(run: BuildResults, path: Path) -> dict[str, Any] | None:
    """The saved manifest, when it was made with the run (same dbt invocation), so its tests can be told apart."""
    if not path.is_file():
        return None
    manifest = load_manifest(path)
    return manifest if (manifest.get("metadata") or {}).get("invocation_id") == run.invocation else None
