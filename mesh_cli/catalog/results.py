"""What a domain's last build and source freshness check said, read from dbt's run_results.json and sources.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mesh_cli.catalog.kept import read_kept
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.manifest import load_manifest
from mesh_cli.core.row_counts import recorded_row_counts, reported_rows
from mesh_cli.core.state import RUN_HISTORY, domain_state_dir, kept_files
from mesh_cli.engines.registry import default_target

FAILED_STATUSES = {"error", "fail", "runtime error"}


@dataclass
class BuildResults:
    """The results of one domain's last `dbt build` on a target, by node id, and its source freshness."""

    status: str                      # success | failed | never built
    generated_at: datetime | None = None
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    tests: dict[str, dict[str, Any]] = field(default_factory=dict)   # test id -> its node in that build's manifest
    counted_rows: dict[str, int] = field(default_factory=dict)   # model id -> rows after the build, where counted

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


def _newest(candidates: list[dict[str, Any]]) -> dict[str, Any] | None:
    dated = [(stamp, data) for data in candidates if (stamp := _generated_at(data)) is not None]
    return max(dated, key=lambda pair: pair[0])[1] if dated else None


def _is_build(data: dict[str, Any], domain: Domain, target: str | None = None) -> bool:
    """A `dbt build`'s results (and, when `target` is given, one run on `target`: with `--target target`, or
    without `--target` when that is the domain's default)."""
    args = data.get("args") or {}
    if args.get("which") != "build":
        return False
    return target is None or (args.get("target") or default_target(domain)) == target


def last_build(config: MeshConfig, target: str, domain: Domain) -> BuildResults:
    """The domain's newest build on `target`: the one saved after its last successful `mesh build`, or a later
    failed one that dbt left in the domain's target/ folder; plus its newest source freshness results."""
    state = domain_state_dir(config, target, domain.name)
    saved = _read(state / "run_results.json")
    latest = _read(domain.path / "target" / "run_results.json")
    runs = [data for data in (saved, latest)
            if data is not None and _is_build(data, domain, None if data is saved else target)]
    freshness = _newest([data for data in (_read(state / "sources.json"),
                                           _read(domain.path / "target" / "sources.json")) if data is not None])
    sources = {r["unique_id"]: r for r in (freshness or {}).get("results", []) if "unique_id" in r}
    run = _newest(runs)
    if run is None:
        return BuildResults("never built", sources=sources)
    manifest = _manifest_of(run, [state / "manifest.json", domain.path / "target" / "manifest.json"])
    tests = {uid: node for uid, node in (manifest or {}).get("nodes", {}).items()
             if node.get("resource_type") == "test"}
    results = _results(run, recorded_row_counts(state))
    results.sources, results.tests = sources, tests
    return results


def _results(run: dict[str, Any], counted: dict[str, dict[str, int]]) -> BuildResults:
    """One build's results, with the rows counted after it (`counted`: by the build's `generated_at`)."""
    nodes = {r["unique_id"]: r for r in run["results"] if isinstance(r, dict) and "unique_id" in r}
    failed = any(str(r.get("status")) in FAILED_STATUSES for r in nodes.values())
    stamp = str((run.get("metadata") or {}).get("generated_at"))
    return BuildResults("failed" if failed else "success", _generated_at(run), nodes,
                        counted_rows=counted.get(stamp, {}))


def build_history(config: MeshConfig, target: str, domain: Domain) -> list[BuildResults]:
    """The domain's last builds on `target`, oldest first: those the state keeps (`history/runs/`, written by
    `mesh build`), and a later failed one that dbt left in the domain's target/ folder."""
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
    latest = _read(domain.path / "target" / "run_results.json")
    if (latest is not None and _is_build(latest, domain, target) and (stamp := _generated_at(latest)) is not None
            and (not runs or stamp > runs[-1][0])):
        runs.append((stamp, _results(latest, counted)))
    return [results for _, results in sorted(runs, key=lambda pair: pair[0])]


def _manifest_of(run: dict[str, Any], candidates: list[Path]) -> dict[str, Any] | None:
    """The manifest the run was made from (same dbt invocation), so its tests can be told apart."""
    invocation = (run.get("metadata") or {}).get("invocation_id")
    for path in candidates:
        if path.is_file():
            manifest = load_manifest(path)
            if (manifest.get("metadata") or {}).get("invocation_id") == invocation:
                return manifest
    return None
