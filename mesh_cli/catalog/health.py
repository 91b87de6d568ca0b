"""The health of a data product over its last builds: per build, whether its models built, its data tests' results,
and how long after the previous successful build a successful one came (its freshness against the SLA)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from mesh_cli.catalog.results import BuildResults
from mesh_cli.core.run_record import FAILED_STATUSES

PASSED = {"pass"}


def attached_model(test: dict[str, Any]) -> str | None:
    """The model a data test checks: the one it is attached to, else the one model a singular test reads."""
    parents = [p for p in (test.get("depends_on") or {}).get("nodes") or () if p.startswith("model.")]
    return test.get("attached_node") or (parents[0] if len(parents) == 1 else None)


def product_health(runs: list[BuildResults], model_ids: set[str], tests: dict[str, dict[str, Any]],
                   sla_hours: float | None) -> list[dict[str, Any]]:
    """One entry per build that ran any of the product's models or tests, oldest first; `tests` are the test
    nodes known from the domain's manifests, by id, to tell which results are the product's."""
    ours = {uid for uid, test in tests.items() if attached_model(test) in model_ids}
    entries: list[dict[str, Any]] = []
    previous: datetime | None = None
    for run in runs:
        models = [run.nodes[uid] for uid in sorted(model_ids) if uid in run.nodes]
        results = [run.nodes[uid] for uid in sorted(ours) if uid in run.nodes]
        if (not models and not results and not run.ran_nothing) or run.generated_at is None:
            continue   # a build of other models of the domain (`--changed`)
        built = bool(models) and all(str(m.get("status")) == "success" for m in models)
        counts = Counter(str(r.get("status")) for r in results)
        succeeded = built and not FAILED_STATUSES & set(counts)
        # the SLA is kept by successful builds only: one whose tests failed delivers nothing consumers should read
        gap = (run.generated_at - previous).total_seconds() / 3600 if succeeded and previous else None
        entries.append({
            "at": run.generated_at.isoformat(timespec="seconds"), "built": built,
            "status": "success" if succeeded else "failed",
            "tests": dict(sorted(counts.items())),
            "hours_since_previous": round(gap, 1) if gap is not None else None,
            "within_sla": None if gap is None or sla_hours is None else gap <= sla_hours,
            "reason": run.reason if run.ran_nothing else None,
            "commit": run.origin.commit[:10] if run.origin else None,
            "uncommitted": bool(run.origin and run.origin.uncommitted),
        })
        previous = run.generated_at if succeeded else previous
    return entries


def health_summary(entries: list[dict[str, Any]]) -> str:
    """One sentence: `4 of 5 builds succeeded; tests passed in 4; rebuilt within the SLA 3 of 4 times.`"""
    if not entries:
        return "No build of this product is recorded yet."
    good = sum(e["status"] == "success" for e in entries)
    clean = sum(bool(e["tests"]) and set(e["tests"]) <= PASSED for e in entries)
    timed = [e["within_sla"] for e in entries if e["within_sla"] is not None]
    words = [f"{good} of {len(entries)} recorded build{'s' if len(entries) != 1 else ''} succeeded",
             f"every test passed in {clean}"]
    if timed:
        words.append(f"rebuilt within the SLA {sum(timed)} of {len(timed)} time{'s' if len(timed) != 1 else ''}")
    return "; ".join(words) + "."


HEALTHY, WARNING, FAILING, NEVER_BUILT = "healthy", "warning", "failing", "never built"
TEST_OUTCOMES = (("passed", ("pass",)), ("warned", ("warn",)), ("failed", ("fail", "error", "runtime error")),
                 ("skipped", ("skipped",)), ("not run", ("not run",)))
_SOURCE_RANK = {"pass": 0, "warn": 1, "error": 2, "runtime error": 2}


def outcome_counts(counts: dict[str, int]) -> dict[str, int]:
    """dbt's test statuses counted as people read them: passed, warned, failed, skipped and not run apart."""
    return {word: sum(counts.get(status, 0) for status in statuses) for word, statuses in TEST_OUTCOMES}


def worst_source_status(sources: list[dict[str, Any]]) -> str | None:
    """The worst freshness status of the product's sources (`pass`, `warn`, `error`), None without a check."""
    statuses = [str(s.get("status")) for s in sources if s.get("status")]
    return max(statuses, key=lambda status: _SOURCE_RANK.get(status, 2)) if statuses else None


def rollup(build: dict[str, Any]) -> dict[str, Any]:
    """One health signal for a product from its last build, its tests, its sources' freshness and its SLA:
    `failing` (the build failed, a test failed, a source is past its error age, the SLA is missed), `warning`
    (a test warned or did not run, a source is past its warn age), `healthy`, or `never built`; with the reasons
    in words, worst first. The catalogue, `mesh product` and `mesh list` all show this one signal."""
    tests = outcome_counts(build["tests"])
    if build["status"] == NEVER_BUILT and not build.get("last_success"):
        return {"status": NEVER_BUILT, "reasons": ["no build of its models is recorded"], "tests": tests}
    failing: list[str] = []
    warning: list[str] = []
    if build["status"] == "failed":
        failing.append(f"last build failed ({build.get('reason') or 'see the build'})")
    if tests["failed"] and build["status"] != "failed":   # a failed build's reason names its failed tests
        failing.append(f"{tests['failed']} test{'s' if tests['failed'] != 1 else ''} failed")
    freshness = build["freshness"]
    if freshness["status"] == "stale":
        failing.append(f"SLA missed: last built {freshness['age_hours']} h ago, SLA {freshness['sla_hours']} h")
    stale = [s["source"] for s in build["sources"] if s.get("status") not in (None, "pass")]
    source_state = freshness.get("sources")
    if stale:
        (failing if source_state != "warn" else warning).append(
            f"source{'s' if len(stale) != 1 else ''} past {'their' if len(stale) != 1 else 'its'} freshness "
            f"{'error' if source_state != 'warn' else 'warning'} age: {', '.join(stale)}")
    for word in ("warned", "skipped", "not run"):
        if tests[word]:
            warning.append(f"{tests[word]} test{'s' if tests[word] != 1 else ''} {word}")
    status = FAILING if failing else WARNING if warning else HEALTHY
    return {"status": status, "reasons": failing + warning, "tests": tests}
