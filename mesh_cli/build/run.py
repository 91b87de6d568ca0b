"""`mesh build`: build the selected domains in dependency order, independent ones in parallel."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mesh_cli.build.row_counts import count_built_rows
from mesh_cli.build.validate import validate_mesh
from mesh_cli.check.deploy_gate import refuse_breaking
from mesh_cli.check.side_doors import side_door_error
from mesh_cli.core.config import TARGET_ENV, MeshConfig
from mesh_cli.core.domains import Domain, discover_domains, require_domains
from mesh_cli.core.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, EngineError, MeshError
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.run_record import FAILED_STATUSES
from mesh_cli.core.scheduler import FAILED, SKIPPED, SUCCESS, Tasks, run_tasks
from mesh_cli.core.selectors import parse_selector
from mesh_cli.core.state import (
    access_digest,
    domain_state_dir,
    fingerprint,
    keep_failed_build,
    package_digest,
    save_build,
    saved_access_digest,
    saved_fingerprint,
    saved_package_digest,
    saved_unrunnable_tests,
)
from mesh_cli.dbt.invoke import DbtCall, DbtJob, DbtOutcome, build_workers, with_deps
from mesh_cli.deployed.location import lease_term, target_store
from mesh_cli.deployed.sync import Deploy, deploying
from mesh_cli.engines.registry import Engine, engine_for, target_args
from mesh_cli.ingest import DomainIngest, has_freshness, ingest_domain
from mesh_cli.shares.publish import DomainPublish, publish_after_build


@dataclass
class DomainResult:
    """How one domain's build ended."""

    domain: str
    status: str
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    reason: str | None = None
    ingested: DomainIngest | None = None
    stale_sources: list[str] = field(default_factory=list)
    failed_with: int = EXIT_FAILED  # a failure's exit code: the exception's when one ended it (2: bad input)
    unrunnable_tests: list[str] = field(default_factory=list)   # disabled by dbt: a ref they make is not found

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else self.failed_with

    def count(self, resource_type: str, *statuses: str) -> int:
        return sum(n for key, n in self.counts.items()
                   if key.split(":")[0] == resource_type and (not statuses or key.split(":")[1] in statuses))


@dataclass
class BuildReport:
    """The outcome of a `mesh build`, in build order."""

    target: str
    results: list[DomainResult]
    seconds: float
    unchanged: list[str] = field(default_factory=list)
    critical_path: list[str] = field(default_factory=list)
    published: list[DomainPublish] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (all(result.status == SUCCESS for result in self.results)
                and all(publish.ok for publish in self.published))

    @property
    def outcomes(self) -> list[DomainResult | DomainPublish]:
        """Every domain's build and publish, for the exit code (`core.plan.exit_code`)."""
        return [*self.results, *self.published]

    @property
    def critical_seconds(self) -> float:
        """The build time of the critical path: what the build would take with unlimited --jobs."""
        return sum(result.seconds for result in self.results if result.domain in self.critical_path)


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how."""

    selectors: tuple[str, ...] = ()
    target: str | None = None
    jobs: int = 1
    full_refresh: bool = False
    changed: bool = False
    verbose: bool = False
    publish: bool = True
    allow_destroy: bool = False    # apply publish and ingestion plans that drop or revoke (core/destroy.py)
    allow_breaking: tuple[str, ...] = ()   # models whose breaking change deploys all the same (check/deploy_gate.py)


Listener = Callable[[str, str, DomainResult | None], None]
"""Told `(PLANNED, "a b c", None)` once with the domains to build (space-separated, in build order), then
`("started", name, None)`, `(BUILDING, name, so_far)` each time dbt finishes one of its nodes (`so_far.counts`: the
nodes finished until then; it may come late, after the end) and `(status, name, result)` for each domain; one call
at a time."""
PLANNED, BUILDING = "planned", "building"


def before_build_calls(domain: Domain, target: str) -> list[DbtCall]:
    """The dbt commands that run before the domain's `dbt build`: one parse, its manifest reused by every command
    after it (dbt/artifacts.py), then source freshness and `seeds_first` seeds where the domain has them."""
    chosen = target_args(domain, target)
    calls = [DbtCall(("parse", *chosen), domain.path)]
    if has_freshness(domain):  # sources just landed; before `build`, whose run_results.json the state keeps
        calls.append(DbtCall(("source", "freshness", *chosen), domain.path, may_fail=True))
    if domain.seeds_first:  # sources that read the project's own seeds (an adopted project): seeds land first
        calls.append(DbtCall(("seed", *chosen), domain.path))
    return calls


def domain_job(domain: Domain, target: str, engine: Engine, calls: list[DbtCall], verbose: bool,
               label: str | None = None) -> DbtJob:
    """The domain's dbt commands (after `dbt deps` where it needs it) in its engine's environment."""
    return DbtJob(with_deps(domain.path, *calls), {**engine.domain_env(domain), TARGET_ENV: target},
                  engine.adapter_type, verbose, label)


def _job(domain: Domain, options: BuildOptions, target: str, engine: Engine, selection: list[str],
         label: str) -> DbtJob:
    build_args = ["build", *target_args(domain, target)] + (["--full-refresh"] if options.full_refresh else [])
    calls = [*before_build_calls(domain, target), DbtCall(tuple(build_args + selection), domain.path)]
    return domain_job(domain, target, engine, calls, options.verbose, label)


def select_domains(config: MeshConfig, graph: DomainGraph, options: BuildOptions,
                   target: str) -> tuple[list[str], list[str]]:
    """The domains to build in order, and (with --changed) those left alone as unchanged."""
    chosen = graph.select(options.selectors)
    unchanged: list[str] = []
    if options.changed:
        changed = {name for name in graph.domains
                   if fingerprint(config, graph.domains[name]) != saved_fingerprint(config, target, name)}
        affected = set(changed)
        for name in changed:
            affected |= graph.downstream_of(name)
        unchanged = graph.order(chosen - affected)
        chosen &= affected
    return graph.order(chosen), unchanged


def changed_selection(config: MeshConfig, target: str, domain: Domain, own_change: bool,
                      rebuilt_upstreams: Iterable[str], fed_sources: Iterable[str] = ()) -> list[str]:
    """dbt selection arguments for a domain under `--changed`: its models modified since the saved manifest
    of its last successful build, and the models reading rebuilt upstream domains, each with its children.
    Without a saved manifest, or when the shared package, the governance library or what decides access (products
    and consumers, share settings) changed since (a policy, an entitlement or a consumer reaches models whose own
    code did not change, which dbt's `state:modified` cannot see), the whole domain builds."""
    state = domain_state_dir(config, target, domain.name)
    if not (state / "manifest.json").is_file() or \
            saved_package_digest(config, target, domain.name) != package_digest(config.root) or \
            saved_access_digest(config, target, domain.name) != access_digest(config.root, domain):
        return []
    methods = (["state:modified+"] if own_change else []) + [f"package:{up}+" for up in rebuilt_upstreams]
    methods += [f"source:{source}+" for source in fed_sources]  # sources that just received new rows
    if not methods:
        return []
    return ["--select", " ".join(methods), "--state", str(state)]


def critical_path(results: Iterable[DomainResult], domains: dict[str, Domain]) -> list[str]:
    """The chain of built domains, each an upstream of the next, with the longest total build time.

    >>> from pathlib import Path
    >>> domains = {n: Domain(n, Path(n), u, n, ()) for n, u in (("a", ()), ("b", ()), ("c", ("a", "b")))}
    >>> critical_path([DomainResult("a", SUCCESS, 1.0), DomainResult("b", SUCCESS, 3.0),
    ...                DomainResult("c", SUCCESS, 2.0)], domains)
    ['b', 'c']
    """
    paths: dict[str, tuple[float, list[str]]] = {}
    for result in results:
        if result.status == SKIPPED:
            continue
        before = max((paths[up] for up in domains[result.domain].upstreams if up in paths),
                     key=lambda path: path[0], default=(0.0, []))
        paths[result.domain] = (before[0] + result.seconds, [*before[1], result.domain])
    return max(paths.values(), key=lambda path: path[0], default=(0.0, []))[1]


def build(config: MeshConfig, options: BuildOptions, listener: Listener | None = None) -> BuildReport:
    """Build the selected domains; a failed domain's downstream is skipped with the reason."""
    started = time.perf_counter()
    notify = _one_at_a_time(listener or (lambda *_: None))
    target = options.target or config.default_target
    domains = require_domains(config, discover_domains(config), "build")
    graph = DomainGraph(domains)
    candidates = graph.select(options.selectors) if all(name in domains for name in _names(options)) else set()
    reads = {up for name in candidates for up in domains[name].upstreams if up in domains} - candidates
    located = target_store(config, target)
    # the leases of the domains this build may deploy, and the records of those and of the upstreams it reads
    with deploying(config, located.store, target, sorted(candidates), sorted(reads), _command(options),
                   strict=not located.default, lease_seconds=lease_term(config)) as deploy:
        check_before_build(config, graph, target, options, candidates)
        return _build_selected(config, options, graph, target, deploy, started, notify)


def check_before_build(config: MeshConfig, graph: DomainGraph, target: str, options: BuildOptions,
                       candidates: set[str]) -> None:
    """The gates before any domain builds: the mesh's every problem first, then the breaking-change gate of the
    domains `candidates` may deploy."""
    validate_mesh(config, graph, target, options.selectors, changed=options.changed,
                  allow_destroy=options.allow_destroy, publish=options.publish)
    graph.validate()
    refuse_breaking(config, graph, target, candidates, options.allow_breaking, jobs=options.jobs)


def _one_at_a_time(listener: Listener) -> Listener:
    """`listener`, called by one thread at a time (the build's, and the one telling finished nodes)."""
    lock = threading.Lock()

    def told(event: str, name: str, result: DomainResult | None) -> None:
        with lock:
            listener(event, name, result)
    return told


def _names(options: BuildOptions) -> list[str]:
    """The domain names the selectors mention (`customers+` names customers)."""
    return [atom.name for selector in options.selectors for term in parse_selector(selector) for atom in term]


def _command(options: BuildOptions) -> str:
    return " ".join(["mesh build", *options.selectors, *(["--changed"] if options.changed else [])])


def _build_selected(config: MeshConfig, options: BuildOptions, graph: DomainGraph, target: str, deploy: Deploy,
                    started: float, notify: Listener) -> BuildReport:
    domains = graph.domains
    order, unchanged = select_domains(config, graph, options, target)
    notify(PLANNED, " ".join(order), None)
    engine = engine_for(config, [domains[name] for name in order], target)
    build_id = uuid.uuid4().hex   # a kept pool's late nodes of an earlier build are not this one's
    so_far: dict[str, dict[str, int]] = {}

    def node_finished(label: str, key: str) -> None:
        build, _, name = label.partition(" ")
        if build == build_id:
            counts = so_far.setdefault(name, {})
            counts[key] = counts.get(key, 0) + 1
            notify(BUILDING, name, DomainResult(name, BUILDING, counts=dict(counts)))

    with build_workers(options.jobs) as workers, workers.listening(node_finished):
        # Workers import dbt (about 2 s) while this process lands the first domains' files.
        workers.prewarm(sum(1 for name in order if not set(domains[name].upstreams) & set(order)))
        engine.prepare()
        results: dict[str, DomainResult] = {}
        checksums = {name: fingerprint(config, domains[name]) for name in order}
        selected = set(order)
        ingests: dict[str, DomainIngest] = {}
        published: list[DomainPublish] = []
        began: dict[str, datetime] = {}   # when each domain's build began: a failure keeps what dbt wrote since

        def start(name: str) -> Future[DbtOutcome] | DomainResult:
            began[name] = datetime.now(UTC)
            side_door = side_door_error(domains[name], domains, target)
            if side_door is not None:     # read another domain only through ref(): refused, unbuilt
                return DomainResult(name, FAILED, reason=side_door)
            ingested = ingest_first(config, domains[name], engine, options)
            if isinstance(ingested, DomainResult):
                return ingested
            ingests[name] = ingested
            blockers = [up for up in domains[name].upstreams if up in selected]
            selection = (changed_selection(config, target, domains[name],
                                           checksums[name] != saved_fingerprint(config, target, name),
                                           blockers, ingested.loaded_sources) if options.changed else [])
            future = workers.submit(_job(domains[name], options, target, engine, selection, f"{build_id} {name}"))
            notify("started", name, None)
            return future

        def finish(name: str, ended: DbtOutcome | DomainResult) -> bool:
            if isinstance(ended, DomainResult):  # refused, or its ingestion failed: dbt did not run
                results[name] = ended
                if ended.failed_with != EXIT_BAD_INPUT:   # bad input changes nothing, the history included
                    keep_failed_build(config, target, domains[name], began[name], ended.reason)
                notify(FAILED, name, ended)
                return False
            results[name] = _result(name, ended)
            results[name].ingested = ingests.get(name)
            if results[name].status == SUCCESS:
                results[name].unrunnable_tests = save_success(config, target, domains[name], checksums[name], engine)
                if options.publish:
                    published.append(publish_after_build(config, target, domains[name],
                                                         allow_destroy=options.allow_destroy))
                try:   # the record (with the publish state just written) goes to the store
                    deploy.push(name)
                except MeshError as exc:   # a newer record, or the store is unreachable: not deployed
                    results[name].status, results[name].reason = FAILED, str(exc)
                    results[name].failed_with = exc.exit_code
            else:   # kept in the history too, marked failed: a later dbt command cannot make it disappear
                keep_failed_build(config, target, domains[name], began[name], results[name].reason)
            notify(results[name].status, name, results[name])
            return results[name].status == SUCCESS

        def skip(name: str, reason: str) -> None:
            results[name] = DomainResult(name, SKIPPED, reason=reason)
            notify(SKIPPED, name, results[name])

        tasks: Tasks[DbtOutcome, DomainResult] = Tasks(order, {n: domains[n].upstreams for n in order},
                                                      start, finish, skip)
        run_tasks(tasks, options.jobs)
    ordered = [results[name] for name in order]
    return BuildReport(target, ordered, time.perf_counter() - started, unchanged, critical_path(ordered, domains),
                       published)


def save_success(config: MeshConfig, target: str, domain: Domain, checksum: str, engine: Engine) -> list[str]:
    """Keep a successful build of the domain (dbt's artifacts in its `target/`) in its state folder, with the rows
    its tables hold; returns the tests dbt disabled (a ref they make is not found)."""
    saved = save_build(config, target, domain, checksum)
    if engine.counts_built_rows:   # the rows its tables hold, which its adapter does not report
        with suppress(EngineError):   # the file held elsewhere: this build's rows stay uncounted
            count_built_rows(engine, domain, saved)
    return saved_unrunnable_tests(saved)


def ingest_first(config: MeshConfig, domain: Domain, engine: Engine,
                 options: BuildOptions) -> DomainIngest | DomainResult:
    """Land the domain's new raw data before its models build; bad input or a failed load fails the domain.
    Any other exception is a bug and propagates."""
    started = time.perf_counter()
    try:
        ingested = ingest_domain(config, domain, engine, full_refresh=options.full_refresh,
                                 allow_destroy=options.allow_destroy)
    except MeshError as exc:  # a bad declaration (2), the warehouse failed (1: a locked file, a lost connection)
        return DomainResult(domain.name, FAILED, time.perf_counter() - started,
                            reason=f"ingestion failed: {_first_line(exc)}", failed_with=exc.exit_code)
    if not ingested.ok:
        return DomainResult(domain.name, FAILED, time.perf_counter() - started,
                            reason=f"ingestion failed: {ingested.error}", ingested=ingested)
    return ingested


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else repr(exc)


def _result(name: str, outcome: DbtOutcome) -> DomainResult:
    return DomainResult(
        domain=name,
        status=SUCCESS if outcome.ok else FAILED,
        seconds=outcome.seconds,
        counts=outcome.counts,
        failures=outcome.failures,
        reason=None if outcome.ok else outcome.error or failed_nodes(outcome),
        stale_sources=outcome.stale,
    )


_FAILED_WORDS = {"fail": "failed", "error": "in error", "runtime error": "in error"}


def failed_nodes(outcome: DbtOutcome) -> str:
    """Why a dbt build that raised no error failed (its nodes did): the failed nodes counted, and the first of them.

    >>> failed_nodes(DbtOutcome(False, {"model:success": 3, "test:fail": 2, "model:error": 1},
    ...                         ["model.shop.orders: Division by zero", "test.shop.unique_id: Got 2 results"]))
    '2 tests failed, 1 model in error; first: model.shop.orders: Division by zero'
    >>> failed_nodes(DbtOutcome(False))
    'dbt build failed'
    """
    counted = [f"{n} {kind}{'s' if n > 1 else ''} {_FAILED_WORDS.get(status, status)}"
               for key, n in sorted(outcome.counts.items(), key=lambda item: (-item[1], item[0]))
               for kind, status in [key.split(":", 1)] if status in FAILED_STATUSES]
    if not counted and not outcome.failures:
        return "dbt build failed"
    first = f"first: {outcome.failures[0].splitlines()[0]}" if outcome.failures else ""
    return "; ".join(part for part in (", ".join(counted), first) if part)
