"""`mesh ingest`: land each selected domain's raw data on the target's engine, before its models build."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain, discover_domains
from mesh_cli.core.errors import worst
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.ingest_spec import IngestOptions, TableLoad
from mesh_cli.core.lock import state_lock
from mesh_cli.core.plan import ApplyResult, Plan
from mesh_cli.engines.registry import Engine, engine_for
from mesh_cli.ingest.spec import load_ingest_tables


@dataclass
class DomainIngest:
    """What ingestion did (or, with `plan_only`, would do) for one domain."""

    domain: str
    adapter: str
    tables: list[TableLoad] = field(default_factory=list)
    plan: Plan | None = None
    applied: ApplyResult | None = None

    @property
    def ok(self) -> bool:
        """False when a statement of the applied plan failed (`error` says which)."""
        return self.applied is None or self.applied.ok

    @property
    def exit_code(self) -> int:
        """Bad input raises `MeshError` before anything is applied: a result that is not ok is a failed apply."""
        return worst([self.applied.exit_code] if self.applied is not None else [])

    @property
    def error(self) -> str | None:
        failed = self.applied.failed if self.applied is not None else None
        if failed is None:
            return None
        return (f"ingestion of {self.domain}: {failed.statement.action} {failed.statement.object_kind} "
                f"{failed.statement.object_name} failed: {failed.error}")

    @property
    def files(self) -> int:
        return sum(len(t.files_loaded) for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.rows_loaded for t in self.tables)

    @property
    def rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables)

    @property
    def skipped(self) -> list[str]:
        return [skip for t in self.tables for skip in t.files_skipped]

    @property
    def loaded_sources(self) -> list[str]:
        """`source:<name>` of every source that received rows (dbt selectors)."""
        return sorted({t.table.split(".")[1] for t in self.tables if t.rows_loaded})

    def summary(self) -> str:
        if not self.tables:
            statements = len(self.plan.statements) if self.plan is not None else 0
            return f"{statements} statement(s)" + (" applied" if self.applied else " planned")
        text = f"{self.files} file(s), {self.rows} row(s)"
        if self.rejected:
            text += f", {self.rejected} rejected"
        if self.skipped:
            text += f", {len(self.skipped)} file(s) skipped"
        return text


def has_ingestion(domain: Domain) -> bool:
    return bool(load_ingest_tables(domain))


def has_freshness(domain: Domain) -> bool:
    """Whether any ingested source declares freshness (so `dbt source freshness` has something to check)."""
    return any(table.freshness for table in load_ingest_tables(domain))


def ingest_domain(config: MeshConfig, domain: Domain, engine: Engine, *, full_refresh: bool = False,
                  plan_only: bool = False, allow_destroy: bool = False) -> DomainIngest:
    """Land one domain's raw data on `engine`, which builds and runs its own statements from the declarations
    (`Engine.ingest`). Bad input raises `MeshError`; a failed statement ends in the result (`ok`)."""
    tables = load_ingest_tables(domain)
    result = DomainIngest(domain.name, engine.adapter_type)
    if not tables:
        return result
    done = engine.ingest(domain, tables, IngestOptions(full_refresh=full_refresh, plan_only=plan_only,
                                                       allow_destroy=allow_destroy))
    result.tables, result.plan, result.applied = done.tables, done.plan, done.applied
    return result


def ingest(config: MeshConfig, selectors: Iterable[str] = (), target: str | None = None, *,
           full_refresh: bool = False, plan_only: bool = False, allow_destroy: bool = False) -> list[DomainIngest]:
    """Ingest every selected domain with ingestion declarations, upstreams first, up to the first that fails
    (the last result returned); under the state folder's lock unless it only plans."""
    with nullcontext() if plan_only else state_lock(config.state_dir, "mesh ingest " + " ".join(selectors)):
        return _ingest(config, selectors, target, full_refresh=full_refresh, plan_only=plan_only,
                       allow_destroy=allow_destroy)


def _ingest(config: MeshConfig, selectors: Iterable[str], target: str | None, *, full_refresh: bool,
            plan_only: bool, allow_destroy: bool) -> list[DomainIngest]:
    target = target or config.default_target
    domains = discover_domains(config)
    graph = DomainGraph(domains)
    chosen = [domains[name] for name in graph.order(graph.select(list(selectors)))]
    chosen = [domain for domain in chosen if load_ingest_tables(domain)]
    if not chosen:
        return []
    engine = engine_for(config, chosen, target)
    engine.prepare()
    results = []
    for domain in chosen:
        results.append(ingest_domain(config, domain, engine, full_refresh=full_refresh, plan_only=plan_only,
                                     allow_destroy=allow_destroy))
        if not results[-1].ok:
            break
    return results
