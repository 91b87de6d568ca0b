"""`mesh build`: build the selected domains in dependency order, independent ones in parallel."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field

from mesh_cli.core.config import TARGET_ENV, MeshConfig
from mesh_cli.core.domains import Domain, discover_domains
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.state import domain_state_dir, fingerprint, save_build, saved_fingerprint, saved_unrunnable_tests
from mesh_cli.dbt.invoke import DbtCall, DbtJob, DbtOutcome, DbtWorkers, with_deps
from mesh_cli.engines.registry import Engine, engine_for, target_args
from mesh_cli.core.errors import MeshError
from mesh_cli.ingest import DomainIngest, has_freshness, ingest_domain
from mesh_cli.shares.publish import DomainPublish, publish_after_build

SUCCESS, FAILED, SKIPPED = "success", "failed", "skipped"


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
    unrunnable_tests: list[str] = field(default_factory=list)   # disabled by dbt: a ref they make is not found

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


Listener = Callable[[str, str, DomainResult | None], None]


def _job(domain: Domain, options: BuildOptions, target: str, engine: Engine, selection: list[str]) -> DbtJob:
    chosen = target_args(domain, target)
    calls = []
    if has_freshness(domain):  # sources just landed; before `build`, whose run_results.json the state keeps
        calls.append(DbtCall(("source", "freshness", *chosen), domain.path, may_fail=True))
    if domain.seeds_first:  # sources that read the project's own seeds (an adopted project): seeds land first
        calls.append(DbtCall(("seed", *chosen), domain.path))
    build_args = ["build", *chosen] + (["--full-refresh"] if options.full_refresh else []) + selection
    # each command parses (partially) on its own: the saved manifest is the build's, which its run results name
    calls.append(DbtCall(tuple(build_args), domain.path))
    return DbtJob(with_deps(domain.path, *calls), {**engine.domain_env(domain), TARGET_ENV: target},
                  engine.adapter_type, options.verbose)


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
    Without a saved manifest the whole domain builds."""
    state = domain_state_dir(config, target, domain.name)
    if not (state / "manifest.json").is_file():
        return []
    methods = (["state:modified+"] if own_change else []) + [f"package:{up}+" for up in rebuilt_upstreams]
    methods += [f"source:{source}+" for source in fed_sources]  # sources that just received new rows
    if not methods:
        return []
    return ["--select", " ".join(methods), "--state", str(state)]


def critical_path(results: Iterable[DomainResult], domains: dict[str, Domain]) -> list[str]:
    """The chain of built domains, each an upstream of the next, with the longest total build time."""
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
    notify = listener or (lambda *_: None)
    target = options.target or config.default_target
    domains = discover_domains(config)
    if not domains:
        raise MeshError(f"no domains in {config.domains_dir}: a domain is a folder there with a dbt_project.yml")
    graph = DomainGraph(domains)
    graph.validate()
    order, unchanged = select_domains(config, graph, options, target)
    engine = engine_for(config, [domains[name] for name in order], target)
    with DbtWorkers(options.jobs) as workers:
        # Workers import dbt (about 2 s) while this process lands the first domains' files.
        workers.prewarm(sum(1 for name in order if not set(domains[name].upstreams) & set(order)))
        engine.prepare()
        results: dict[str, DomainResult] = {}
        checksums = {name: fingerprint(config, domains[name]) for name in order}
        selected = set(order)
        pending = list(order)
        running: dict[Future[DbtOutcome], str] = {}
        ingests: dict[str, DomainIngest] = {}
        published: list[DomainPublish] = []
        while pending or running:
            for name in list(pending):
                blockers = [up for up in domains[name].upstreams if up in selected]
                failed = [up for up in blockers if up in results and results[up].status != SUCCESS]
                if failed:
                    pending.remove(name)
                    results[name] = DomainResult(name, SKIPPED, reason=f"upstream {failed[0]} "
                                                 f"{results[failed[0]].status}")
                    notify("skipped", name, results[name])
                elif all(up in results for up in blockers):
                    pending.remove(name)
                    ingested = _ingest_first(config, domains[name], engine, options)
                    if isinstance(ingested, DomainResult):
                        results[name] = ingested
                        notify(FAILED, name, ingested)
                        continue
                    ingests[name] = ingested
                    selection = (changed_selection(config, target, domains[name],
                                                   checksums[name] != saved_fingerprint(config, target, name),
                                                   blockers, ingested.loaded_sources) if options.changed else [])
                    job = _job(domains[name], options, target, engine, selection)
                    running[workers.submit(job)] = name
                    notify("started", name, None)
            if not running:
                continue
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                results[name] = _result(name, future.result())
                results[name].ingested = ingests.get(name)
                if results[name].status == SUCCESS:
                    saved = save_build(config, target, domains[name], checksums[name])
                    results[name].unrunnable_tests = saved_unrunnable_tests(saved)
                    if options.publish:
                        published.append(publish_after_build(config, target, domains[name]))
                notify(results[name].status, name, results[name])
    ordered = [results[name] for name in order]
    return BuildReport(target, ordered, time.perf_counter() - started, unchanged, critical_path(ordered, domains),
                       published)


def _ingest_first(config: MeshConfig, domain: Domain, engine: Engine,
                  options: BuildOptions) -> DomainIngest | DomainResult:
    """Land the domain's new raw data before its models build; a failed load fails the domain."""
    started = time.perf_counter()
    try:
        return ingest_domain(config, domain, engine, full_refresh=options.full_refresh)
    except Exception as exc:  # a bad declaration or a failed load: the domain fails with the reason
        return DomainResult(domain.name, FAILED, time.perf_counter() - started,
                            reason=f"ingestion failed: {str(exc).splitlines()[0] if str(exc) else exc!r}")


def _result(name: str, outcome: DbtOutcome) -> DomainResult:
    return DomainResult(
        domain=name,
        status=SUCCESS if outcome.ok else FAILED,
        seconds=outcome.seconds,
        counts=outcome.counts,
        failures=outcome.failures,
        reason=outcome.error,
        stale_sources=outcome.stale,
    )
