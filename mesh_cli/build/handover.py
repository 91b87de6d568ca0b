"""A domain built one model a task (docs/orchestration.md, "Per-model tasks"): the deploy `mesh build DOMAIN` makes
in one process, split across the orchestrator's tasks.

`prepare` does everything `mesh build` does before its `dbt build` (takes the domain's lease, pulls the records,
runs every gate, lands the raw data, runs dbt's parse, source freshness and `seeds_first` seeds) and leaves the
lease held, with a handover file saying what it took. The orchestrator then runs each model (and its tests) as its
own dbt process, each copying its run results into the domain's state folder. `record` merges them and, when
every node of the domain's build succeeded, keeps the build and pushes the record on the generation prepare pulled,
as `mesh build` does; else it pushes nothing. Either way it releases the lease and removes the handover.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mesh_cli.build.run import (
    BuildOptions,
    DomainResult,
    before_build_calls,
    check_before_build,
    domain_job,
    ingest_first,
    save_success,
)
from mesh_cli.check.side_doors import side_door_error
from mesh_cli.core.config import TARGET_ENV, MeshConfig
from mesh_cli.core.domains import Domain, discover_domains, require_domains
from mesh_cli.core.errors import EXIT_BAD_INPUT, MeshError, RunFailed
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.safe_io import copy_atomic, write_text_atomic
from mesh_cli.core.state import domain_state_dir, fingerprint, keep_failed_build
from mesh_cli.dbt.invoke import DbtCall, run_shared
from mesh_cli.deployed.lease import Lease, release_lease, renew_lease, take_lease
from mesh_cli.deployed.location import target_store
from mesh_cli.deployed.record import now, writer_identity
from mesh_cli.deployed.sync import Deploy, lease_key, lease_subject, pulled_deploy
from mesh_cli.engines.registry import engine_for, target_args
from mesh_cli.orchestrate.airflow_dags import MESH_DIR

# Dot names: a record pushed from the state folder leaves them out (deployed/record.py `pack_record`).
HANDOVER_FILE = ".handover.json"
TASK_RESULTS_DIR = ".task_results"
HANDOVER_FORMAT = 1
# What `dbt build` runs and reports in run_results.json (an ephemeral model is compiled into its children).
BUILT_TYPES = ("model", "seed", "snapshot", "test", "operation")
# A node skipped in a task's dbt run did not build: its parent failed there.
NOT_BUILT = ("error", "fail", "runtime error", "skipped")


@dataclass(frozen=True)
class Handover:
    """What prepare took and found, for record: the lease, the record generation pulled, the fingerprint."""

    domain: str
    target: str
    run_id: str
    holder: str
    lease_key: str
    lease_token: str
    lease_generation: str
    lease_seconds: float
    record_generation: str | None
    fingerprint: str
    prepared_at: str
    loaded_sources: list[str]
    stale_sources: list[str]

    @property
    def lease(self) -> Lease:
        return Lease(self.lease_key, self.lease_token, self.lease_generation)


@dataclass(frozen=True)
class Recorded:
    """A per-model build that record deployed."""

    handover: Handover
    generation: str
    nodes: int
    unrunnable_tests: list[str]


def handover_path(config: MeshConfig, target: str, domain: str) -> Path:
    return domain_state_dir(config, target, domain) / HANDOVER_FILE


def task_results_dir(config: MeshConfig, target: str, domain: str) -> Path:
    """Where each per-model task leaves its run_results.json (one file a task) for record."""
    return domain_state_dir(config, target, domain) / TASK_RESULTS_DIR


def _domain(config: MeshConfig, name: str, doing: str) -> tuple[Domain, DomainGraph]:
    domains = require_domains(config, discover_domains(config), doing)
    graph = DomainGraph(domains)
    graph.select((name,))   # an unknown name: one line with the domains there are
    return domains[name], graph


def prepare(config: MeshConfig, name: str, target: str, *, run_id: str, lease_seconds: float) -> Handover:
    """Everything `mesh build NAME` does before `dbt build`, under the domain's lease, which stays held for
    `lease_seconds` after this returns; any failure releases it and leaves no handover."""
    domain, graph = _domain(config, name, "prepare")
    located = target_store(config, target)
    command = f"mesh orchestrate prepare {name}"
    holder = writer_identity(command)
    lease = take_lease(located.store, lease_key(target, name), lease_subject(target, name), holder, lease_seconds)
    try:
        _discard(config, target, name)   # a handover left by a run whose lease expired is not this run's
        reads = [up for up in domain.upstreams if up in graph.domains]
        deploy = pulled_deploy(config, located.store, target, [name], reads, command, strict=not located.default)
        options = BuildOptions(selectors=(name,), target=target, publish=False)
        check_before_build(config, graph, target, options, {name})
        side_door = side_door_error(domain, graph.domains, target)
        if side_door is not None:
            raise RunFailed(f"{name}: {side_door}")
        engine = engine_for(config, [domain], target)
        engine.prepare()
        ingested = ingest_first(config, domain, engine, options)
        if isinstance(ingested, DomainResult):
            raise _failure(ingested)
        outcome = run_shared(domain_job(domain, target, engine, before_build_calls(domain, target), verbose=False))
        if not outcome.ok:
            raise RunFailed(f"{name}: dbt failed before its models ran: "
                            f"{outcome.error or '; '.join(outcome.failures)}")
        task_results_dir(config, target, name).mkdir(parents=True)
        handover = Handover(name, target, run_id, holder, lease.key, lease.token, lease.generation, lease_seconds,
                            deploy.generations.get(name), fingerprint(config, domain), now(),
                            ingested.loaded_sources, outcome.stale)
        write_text_atomic(handover_path(config, target, name),
                          json.dumps({"format": HANDOVER_FORMAT, **asdict(handover)}, indent=1))
        return handover
    except BaseException:
        _discard(config, target, name)
        with suppress(MeshError):   # unreachable now: the lease expires on its own
            release_lease(located.store, lease)
        raise


def _failure(result: DomainResult) -> MeshError:
    """Prepare's error for a domain refused before dbt (bad input: exit 2, a failed load: exit 1)."""
    kind = MeshError if result.failed_with == EXIT_BAD_INPUT else RunFailed
    return kind(f"{result.domain}: {result.reason}")


def _discard(config: MeshConfig, target: str, name: str) -> None:
    handover_path(config, target, name).unlink(missing_ok=True)
    shutil.rmtree(task_results_dir(config, target, name), ignore_errors=True)


def read_handover(config: MeshConfig, name: str, target: str, run_id: str) -> Handover:
    """The handover prepare left for this run; none, an unreadable one or another run's is bad input."""
    path = handover_path(config, target, name)
    fix = f"run `mesh orchestrate prepare {name} --target {target}` first (the DAG's prepare task)"
    if not path.is_file():
        raise MeshError(f"no handover of {name} on {target}: prepare did not run, or its run ended; {fix}",
                        path=path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.pop("format") != HANDOVER_FORMAT:
            raise ValueError("format")
        handover = Handover(**data)
    except (ValueError, TypeError, KeyError) as exc:
        raise MeshError(f"not a handover this mesh reads ({exc}): {fix}", path=path) from exc
    if run_id and handover.run_id and handover.run_id != run_id:
        raise MeshError(f"the handover of {name} is run {handover.run_id}'s, not {run_id}'s: {fix}", path=path)
    return handover


def merged_run_results(folder: Path) -> dict[str, Any]:
    """The per-model tasks' run results as one run_results.json: each node's latest result (a retried task's last
    attempt), the newest run's metadata, the tasks' dbt seconds summed."""
    runs = sorted((json.loads(path.read_text(encoding="utf-8")) for path in folder.glob("*.json")),
                  key=lambda run: str((run.get("metadata") or {}).get("generated_at")))
    if not runs:
        return {"results": [], "elapsed_time": 0.0}
    latest = {result["unique_id"]: result for run in runs for result in run.get("results") or ()}
    return {**runs[-1], "results": list(latest.values()),
            "elapsed_time": sum(float(run.get("elapsed_time") or 0.0) for run in runs)}


def unfinished_nodes(manifest: dict[str, Any], run_results: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The nodes of the domain's build that failed, and those with no result (a task that never ran)."""
    expected = {uid for uid, node in manifest["nodes"].items() if node.get("resource_type") in BUILT_TYPES
                and (node.get("config") or {}).get("materialized") != "ephemeral"}
    statuses = {result["unique_id"]: result.get("status") for result in run_results["results"]}
    failed = sorted(uid for uid, status in statuses.items() if status in NOT_BUILT)
    return failed, sorted(expected - set(statuses))


def _listed(nodes: list[str], shown: int = 5) -> str:
    """
    >>> _listed(["a", "b", "c"], shown=2)
    'a, b and 1 more'
    """
    return ", ".join(nodes[:shown]) + (f" and {len(nodes) - shown} more" if len(nodes) > shown else "")


def record(config: MeshConfig, name: str, target: str, *, run_id: str) -> Recorded:
    """Merge the per-model tasks' results; when every node succeeded keep the build and push the record on the
    generation prepare pulled (what `mesh build` does after its dbt build). The lease is released and the handover
    removed whatever happens: a failed or missing node pushes nothing (exit 1, naming them)."""
    handover = read_handover(config, name, target, run_id)
    domain, _ = _domain(config, name, "record")
    store = target_store(config, target).store
    lease = handover.lease
    try:
        run_results = merged_run_results(task_results_dir(config, target, name))
        write_text_atomic(domain.path / "target" / "run_results.json", json.dumps(run_results, indent=1))
        manifest = json.loads((domain.path / "target" / "manifest.json").read_text(encoding="utf-8"))
        failed, missing = unfinished_nodes(manifest, run_results)
        if failed or missing:
            reason = "; ".join(
                [*([f"failed: {_listed(failed)}"] if failed else []),
                 *([f"did not run: {_listed(missing)}" + ("" if failed else " (nodes the graph file's manifest "
                    "lacks: write it again with `mesh orchestrate graph --per-model`)")] if missing else [])])
            # kept in the run history, as `mesh build` keeps a failed build: the catalogue's health shows it
            keep_failed_build(config, target, domain, datetime.fromisoformat(handover.prepared_at), reason,
                              (run_results, manifest) if run_results["results"] else None)
            raise RunFailed(f"{name} not deployed: {reason}")
        try:   # the lease still held: no other deploy of the domain started since prepare
            lease = renew_lease(store, lease, handover.holder, handover.lease_seconds)
        except MeshError as exc:
            raise RunFailed(f"{name} not deployed: its lease expired after {handover.lease_seconds:.0f} s, before "
                            "record ran; give prepare a longer --lease-minutes") from exc
        engine = engine_for(config, [domain], target)
        unrunnable = save_success(config, target, domain, handover.fingerprint, engine)
        deploy = Deploy(config, store, target, f"mesh orchestrate record {name}",
                        {name: handover.record_generation})
        generation = deploy.push(name)
        return Recorded(handover, generation, len(run_results["results"]), unrunnable)
    finally:
        _discard(config, target, name)
        with suppress(MeshError):
            release_lease(store, lease)


def per_model_entry(config: MeshConfig, name: str, target: str, manifest_file: Path) -> dict[str, Any]:
    """The graph file's entry of a domain rendered one task a model: parse the domain (its upstreams' records must
    be in the working state folder, as for `mesh build`), write its manifest to `manifest_file` (named relative to
    the graph file beside it), and name its project, profile, the folder its tasks leave their run results in and
    the environment its dbt needs, paths under the mesh relative to it (`{mesh_dir}` in a variable's value: the
    mesh's folder on the workers)."""
    domain, _ = _domain(config, name, "render per model")
    if not (domain.path / "profiles.yml").is_file():
        raise MeshError(f"no profiles.yml in domain {domain.name}'s folder: per-model tasks read the domain's "
                        "connection from it (dbt's `--profiles-dir` is the project)", path=domain.path)
    engine = engine_for(config, [domain], target)
    outcome = run_shared(domain_job(domain, target, engine, [DbtCall(("parse", *target_args(domain, target)),
                                                                     domain.path)], verbose=False))
    if not outcome.ok:
        raise RunFailed(f"{domain.name}: dbt parse failed, so its models cannot be rendered: {outcome.error}")
    copy_atomic(domain.path / "target" / "manifest.json", manifest_file)
    return {"manifest": manifest_file.name, "project": _under_mesh(config, domain.path),
            "profile": domain.profile, "results": _under_mesh(config, task_results_dir(config, target, domain.name)),
            "env": {name: _portable(config, value) for name, value in
                    {**engine.dbt_env(), TARGET_ENV: target}.items()}}


def _under_mesh(config: MeshConfig, path: Path) -> str:
    """`path` relative to the mesh's folder where it lies under it (the workers' copy holds it there)."""
    return Path(os.path.relpath(path, config.root)).as_posix() if path.is_relative_to(config.root) else str(path)


def _portable(config: MeshConfig, value: str) -> str:
    """An environment value; a path under the mesh's folder written from `{mesh_dir}`."""
    return f"{MESH_DIR}/{_under_mesh(config, Path(value))}" if Path(value).is_absolute() and \
        Path(value).is_relative_to(config.root) else value
