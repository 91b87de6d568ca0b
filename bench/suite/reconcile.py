"""6. Reconciliation: statements a second provision / ingest / publish issues with nothing changed (target 0), and
`SHOW` queries per object kind when reading state (target: one per kind, not one per object).

The statements run on the embedded engine after a build: each command twice with `--json`, counting the statements
of its plans (and, for ingest, the files loaded and landing tables changed).

The `SHOW` queries are counted on the Snowflake path, in process: each feature's real plan code reads the state of an
account that already holds what the feature declares, through a reader that logs every SHOW by kind. fakesnow (an
in-process Snowflake stand-in) answers the kinds it knows (databases, schemas, tables, views, stages, file formats,
columns), after the plan's own statements created those objects in it; the other kinds (roles, warehouses, resource
monitors, grants, pipes, external tables, shares, database roles) come from recorded rows shaped like Snowflake's
output: for shares, the DuckDB share emulation after the first plan was applied to it. The count does not depend on
the rows, only on which objects exist. A provision plan covers the mesh; an ingest or publish plan covers one domain
(`mesh build` runs them domain by domain), so the figure is the most queries of one kind in one plan.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from bench.figures import Figure
from bench.measure import CommandFailed, clean_env
from bench.meshes import MESH, Context, generated_mesh, mesh
from mesh_cli.api import (
    Domain,
    MeshConfig,
    Plan,
    RecordedState,
    SnowflakeEngine,
    apply,
    discover_domains,
    load_config,
    load_target_manifest,
)
from testkit.mesh_copy import example_mesh
from testkit.show_log import ShowLog

NAME = "6. reconciliation"
FEATURES = ("provision", "ingest", "publish")
# What fakesnow answers; every other kind is read from recorded rows.
LIVE_KINDS = frozenset({"DATABASES", "SCHEMAS", "TABLES", "VIEWS", "STAGES", "FILE FORMATS", "COLUMNS"})
# The objects a plan's statements create in fakesnow before the state is read again.
FAKESNOW_OBJECTS = {"provision": {"database", "schema"}, "ingest": {"schema", "file format", "table"}}
COLUMNS = [{"name": "id", "data_type": "number(38,0)"}, {"name": "name", "data_type": "varchar"}]


def _plan_statements(item: dict[str, Any]) -> int:
    return len((item.get("plan") or {}).get("statements") or [])


def statements(feature: str, data: Any) -> int:
    """What one run of `mesh <feature> --json` did: statements of its plans (ingest: also the files loaded)."""
    if feature == "provision":
        return sum(len(plan["statements"]) for plan in data["plans"])
    if feature == "ingest":
        return sum(len(t["files_loaded"]) for r in data for t in r["tables"]) + sum(_plan_statements(r) for r in data)
    return sum(_plan_statements(result) for result in data)


def _apply(root: Any, feature: str) -> int:
    done = subprocess.run([str(MESH), "--mesh-dir", str(root), feature, "--json"], cwd=root, env=clean_env(),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise CommandFailed(f"mesh {feature} exited {done.returncode}: {done.stderr.strip()[-1500:]}")
    return statements(feature, json.loads(done.stdout))


def per_object(kind: str) -> bool:
    """Grants are shown per grantee, database roles per database (of the upstreams whose products are consumed):
    Snowflake has no form that lists them for many roles, shares or databases at once."""
    return kind.startswith(("GRANTS", "FUTURE GRANTS", "DATABASE ROLES"))


@contextlib.contextmanager
def fakesnow_engine(config: MeshConfig) -> Iterator[SnowflakeEngine]:
    """A Snowflake engine on a new, empty in-process fakesnow account."""
    import fakesnow
    import snowflake.connector

    quiet = logging.getLogger("sqlglot")      # fakesnow transpiles through sqlglot, which warns on COMMENT =
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    with fakesnow.patch():
        connection = snowflake.connector.connect()
        try:
            yield SnowflakeEngine(config, "prod", connection=connection)
        finally:
            connection.close()
            quiet.setLevel(level)


def _create(engine: SnowflakeEngine, plan: Plan, feature: str) -> None:
    """Run the plan's statements that create what fakesnow can hold."""
    kinds = FAKESNOW_OBJECTS[feature]
    failed = apply(Plan(plan.title, [s for s in plan.statements if s.action == "create" and s.object_kind in kinds]),
                   engine.execute).failed
    if failed is not None:
        raise CommandFailed(f"fakesnow refused {failed.statement.sql}: {failed.error}")


def provision_reads(config: MeshConfig, domains: dict[str, Domain]) -> list[ShowLog]:
    """The SHOW queries of the provision plan of every domain, against an account holding its footprint."""
    from mesh_cli.api import declared_footprint, flatten, plan_snowflake

    footprint = declared_footprint(config, domains)
    roles = RecordedState({"SHOW ROLES": [{"name": role, "comment": footprint.marker}
                                          for role in flatten(footprint).roles]})
    with fakesnow_engine(config) as engine:
        _create(engine, plan_snowflake(footprint, RecordedState(), offline=True), "provision")
        log = ShowLog(roles, engine.state_reader(), LIVE_KINDS)
        plan_snowflake(footprint, log)
    return [log]


def ingest_reads(config: MeshConfig, domains: dict[str, Domain]) -> list[ShowLog]:
    """The SHOW queries of each domain's ingestion plan, against an account holding its landing objects."""
    from mesh_cli.api import load_ingest_tables, target_database

    logs = []
    with fakesnow_engine(config) as engine:
        for domain in domains.values():
            tables = load_ingest_tables(domain)
            if not tables:
                continue
            database = target_database(domain, "prod")
            engine.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
            first = engine.plan_ingestion(domain, tables, ShowLog(RecordedState(), engine.state_reader(), LIVE_KINDS),
                                          full_refresh=False, offline=False)
            _create(engine, first, "ingest")
            logs.append(ShowLog(RecordedState(), engine.state_reader(), LIVE_KINDS))
            engine.plan_ingestion(domain, tables, logs[-1], full_refresh=False, offline=False)
    return logs


def publish_reads(config: MeshConfig, domains: dict[str, Domain]) -> list[ShowLog]:
    """The SHOW queries of each domain's share plan, against the share emulation after its first plan ran."""
    from mesh_cli.api import (
        EmulatedAccount,
        desired_shares,
        engine_class,
        mounts_of,
        plan_shares,
        read_current,
        share_settings,
    )

    share_sql = engine_class("duckdb").share_statements
    assert share_sql is not None

    settings = share_settings(config)
    logs = []
    with tempfile.TemporaryDirectory(prefix="mesh-shares-") as folder:
        for domain in domains.values():
            found = load_target_manifest(config, config.default_target, domain, "duckdb")
            if found is None:
                raise CommandFailed(f"{domain.name} has no manifest: build the mesh first")
            shares = desired_shares(domain, found[1], domains, settings)
            shares.mounts = mounts_of(domain, domains, settings)
            account = EmulatedAccount(Path(folder) / f"{domain.name}.json")
            first = plan_shares(shares, read_current(account.reader(), shares), "first", sql=share_sql)
            for statement in first.statements:
                account.execute(statement.sql)
            logs.append(ShowLog(account.reader()))
            if not plan_shares(shares, read_current(logs[-1], shares), "second", sql=share_sql).empty:
                raise CommandFailed(f"the shares of {domain.name} did not converge in the emulation")
    return logs


READS = {"provision": provision_reads, "ingest": ingest_reads, "publish": publish_reads}


def show_counts(root: Path) -> dict[str, dict[str, Any]]:
    """Per feature: the most SHOW queries of each kind in one plan (`per_plan`), their sum over the run (`run`),
    and the number of plans."""
    config = load_config(root)
    domains = discover_domains(config)
    counts = {}
    for feature, reads in READS.items():
        logs = reads(config, domains)
        kinds = sorted({kind for log in logs for kind in log.kinds})
        counts[feature] = {"plans": len(logs),
                           "per_plan": {k: max(log.kinds[k] for log in logs) for k in kinds},
                           "run": {k: sum(log.kinds[k] for log in logs) for k in kinds}}
    return counts


def add_products(domain: Path, count: int) -> None:
    """Make the domain's first product `count` products (the same models and consumers), each with an account."""
    path = domain / "domain.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = data["products"][0]
    consumers = {**(first.get("consumers") or {}), "accounts": ["BENCH.PARTNER"]}
    data["products"] = [{**first, "name": f"{first['name']}_{i}", "consumers": consumers} for i in range(count)]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def add_ingestion(domain: Path, tables: int) -> None:
    """Declare `tables` copy sources in LANDING, and a Kafka, a Snowpipe and an external-table source in
    LANDING_EVENTS."""
    events = {"name": "s3_events", "url": "s3://bench/events/", "storage_integration": "bench_s3"}
    modes = [{"mode": "kafka", "topic": "bench.events", "location": "events/"},
             {"mode": "snowpipe", "location": "clicks/", "file_format": {"type": "json"}, "stage": events},
             {"mode": "external_table", "location": "items/", "file_format": {"type": "parquet"}, "stage": events}]
    sources = [
        {"name": "bench_files", "schema": "landing",
         "config": {"meta": {"data_mesh": {"ingest": {"mode": "copy", "location": "files/",
                                                      "file_format": {"type": "csv", "skip_header": 1}}}}},
         "tables": [{"name": f"file_{i}", "columns": COLUMNS} for i in range(tables)]},
        {"name": "bench_events", "schema": "landing_events",
         "tables": [{"name": f"{block['mode']}_{i}", "columns": COLUMNS,
                     "config": {"meta": {"data_mesh": {"ingest": block}}}} for i, block in enumerate(modes)]},
    ]
    path = domain / "models" / "staging" / "_bench_ingest.yml"
    path.write_text(yaml.safe_dump({"sources": sources}, sort_keys=False), encoding="utf-8")


def _grown(root: Path, products: int, tables: int) -> None:
    """Give every domain of the built mesh at `root` more products, and ingested tables in two landing schemas."""
    for domain in sorted((root / "domains").iterdir()):
        add_products(domain, products)
        add_ingestion(domain, tables)


def _by_kind(counts: dict[str, Any], bulk: bool) -> dict[str, int]:
    """The per-plan counts of the kinds Snowflake can list in bulk (`bulk`), or of those it shows per object."""
    return {kind: n for kind, n in counts["per_plan"].items() if per_object(kind) != bulk}


def _listed(kinds: dict[str, dict[str, int]]) -> str:
    return "; ".join(f"{label} {', '.join(f'{k} {n}' for k, n in sorted(counted.items())) or 'none'}"
                     for label, counted in kinds.items())


def _show_figures(small: dict[str, Any], large: dict[str, Any], sizes: tuple[str, str]) -> list[Figure]:
    """Per feature, the most queries of one kind in one plan at the large size against the small one: the kinds
    Snowflake lists in bulk (target one), and grants, which it shows per grantee (reported)."""
    figures = []
    for feature in FEATURES:
        details = {"small": small[feature], "large": large[feature], "sizes": {"small": sizes[0], "large": sizes[1]}}
        plans = large[feature]["plans"]
        per_run = "" if plans == 1 else f"; a run over {plans} domains reads each kind {plans} times, once per plan"
        for bulk in (True, False):
            kinds = {"small": _by_kind(small[feature], bulk), "large": _by_kind(large[feature], bulk)}
            if not kinds["small"] and not kinds["large"]:
                continue
            value, baseline = (float(max(kinds[label].values(), default=0)) for label in ("large", "small"))
            where = f"{sizes[1]} against {sizes[0]}, most queries of one kind in one plan: {_listed(kinds)}"
            if bulk:
                figures.append(Figure(
                    NAME, f"`SHOW` queries per kind in one `mesh {feature}` plan", value, "queries", baseline,
                    sizes[0], "one per kind", target_value=1.0, details=details,
                    note=f"{where}{per_run}. {_PATH[feature]}"))
            else:
                figures.append(Figure(
                    NAME, f"`SHOW GRANTS` per grantee in one `mesh {feature}` plan", value, "queries", baseline,
                    sizes[0], "one per object (no bulk form)", details=details,
                    note=f"{where}. {_PER_OBJECT[feature]}"))
    return figures


_PATH = {
    "provision": "fakesnow answers SHOW DATABASES and SHOW SCHEMAS IN ACCOUNT (one for every domain database, "
                 "filtered by database_name) after the plan created them; roles, warehouses, resource monitors and "
                 "grants are recorded rows.",
    "ingest": "fakesnow answers schemas, tables, views, stages, file formats and columns (one SHOW per kind in the "
              "domain's database, or in its landing schema when it has one) after the plan created the schemas, file "
              "formats and landing tables; pipes and external tables are recorded rows.",
    "publish": "Against the DuckDB share emulation (recorded SHOW rows) after the first plan was applied to it: "
               "fakesnow has no shares. The consumer accounts of every share come with SHOW SHARES (its `to` column).",
}
_PER_OBJECT = {
    "provision": "SHOW GRANTS TO ROLE and SHOW FUTURE GRANTS TO ROLE name the role: Snowflake has no SHOW that lists "
                 "the grants of many roles (ACCOUNT_USAGE.GRANTS_TO_ROLES does, up to two hours late).",
    "publish": "SHOW GRANTS TO SHARE and SHOW GRANTS TO / OF DATABASE ROLE name the share or role: Snowflake has no "
               "SHOW that lists the grants of many shares or roles.",
}


def run(ctx: Context) -> list[Figure]:
    folder = ctx.folder("reconcile")
    root = generated_mesh(folder / "mesh", domains=2, models=2, public=1)[0] if ctx.smoke else \
        example_mesh(folder / "mesh")
    mesh(root, "build")
    figures = []
    for feature in FEATURES:
        first, second = _apply(root, feature), _apply(root, feature)
        # A first run with nothing to do (`mesh build` already ingested or published) is no baseline to divide by.
        figures.append(Figure(
            NAME, f"statements of a second `mesh {feature}`, nothing changed", float(second), "statements",
            float(first) if first else None, "first run after the build", "0", target_value=0.0,
            note="" if first else "the first run after `mesh build` issued none either: `mesh build` had done it"))
    small = show_counts(root)
    if ctx.smoke:
        large, products, tables = root, 2, 2
    else:
        large, products, tables = generated_mesh(folder / "large", domains=10, models=4, public=2)[0], 3, 4
        mesh(large, "build")
    _grown(large, products, tables)
    sizes = ("2 generated domains" if ctx.smoke else "the example mesh",
             f"{len(discover_domains(load_config(large)))} generated domains with {products} products and "
             f"{tables + 3} ingested tables in 2 landing schemas each")
    return figures + _show_figures(small, show_counts(large), sizes)
