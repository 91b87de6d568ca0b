"""A one-domain mesh in a temporary folder whose sources declare ingestion, for the ingestion tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import yaml

from mesh_cli.core.config import load_config
from mesh_cli.ingest import DomainIngest, ingest

PROFILE = {"shop": {"target": "dev", "outputs": {
    "dev": {"type": "duckdb", "path": "unused.duckdb", "schema": "main"},
    "prod": {"type": "snowflake", "account": "x", "user": "u", "password": "p", "role": "r",
             "warehouse": "w", "database": "{{ env_var('MESH_SNOWFLAKE_DATABASE_PREFIX', '') }}SHOP",
             "schema": "MARTS"}}}}
COLUMNS = [{"name": "id", "data_type": "number(38,0)"}, {"name": "name", "data_type": "varchar"},
           {"name": "amount", "data_type": "number(10,2)"}]


def make_mesh(root: Path, sources: list[dict[str, Any]]) -> Path:
    """mesh.yml and one domain `shop` whose models/_sources.yml holds `sources`."""
    domain = root / "domains" / "shop"
    (domain / "models").mkdir(parents=True, exist_ok=True)
    (root / "mesh.yml").write_text(yaml.safe_dump({"mesh": {"name": "t"}}))
    (domain / "dbt_project.yml").write_text(yaml.safe_dump({"name": "shop", "profile": "shop",
                                                            "config-version": 2}))
    (domain / "profiles.yml").write_text(yaml.safe_dump(PROFILE))
    write_sources(root, sources)
    return domain


def write_sources(root: Path, sources: list[dict[str, Any]]) -> None:
    (root / "domains/shop/models/_sources.yml").write_text(yaml.safe_dump({"sources": sources}, sort_keys=False))


def source(ingest_block: dict[str, Any], columns: list[dict[str, Any]] | None = None, name: str = "raw",
           table: str = "orders", **extra: Any) -> dict[str, Any]:
    return {"name": name, "schema": "landing", **extra,
            "config": {"meta": {"data_mesh": {"ingest": ingest_block}}},
            "tables": [{"name": table, "columns": columns if columns is not None else COLUMNS}]}


def write_file(domain: Path, relative: str, text: str, mtime: int | None = None) -> Path:
    path = domain / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def run_ingest(root: Path, **options: Any) -> DomainIngest:
    [result] = ingest(load_config(root), **options)
    return result


def query(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / ".mesh/duckdb/shop.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


try:
    import fakesnow

    # fakesnow.server() imports its `fakesnow.server` module, which then replaces the function on the package:
    # keep the function from collection time, so that a second test in the same process can start a server.
    FAKESNOW_SERVER = fakesnow.server if callable(fakesnow.server) else None
except ImportError:  # pragma: no cover - fakesnow is a dev dependency
    FAKESNOW_SERVER = None


def land_on_fakesnow(domain: Path, engine: Any) -> int:
    """Create a domain's ingestion objects from its plan on a fakesnow server and load its `copy` files through
    the planned file format, from a `file://` stage over the domain folder. fakesnow cannot run the planned
    COPY (its `$1` / METADATA$ columns), so the declared columns are copied by name and the metadata columns
    stay empty. Returns the rows loaded."""
    from mesh_cli.core.domains import load_domain
    from mesh_cli.core.plan import Plan, apply
    from mesh_cli.engines.snowflake_ingest import names, plan_domain
    from mesh_cli.ingest import load_ingest_tables

    tables = load_ingest_tables(load_domain(domain))
    database = domain.name.upper()
    engine.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    plan = plan_domain(domain.name, tables, database, engine.state_reader())
    applied = apply(Plan("objects", [s for s in plan.statements if s.action != "load"]), engine.execute)
    assert applied.ok, applied.failed
    loaded = 0
    for table in tables:
        if table.mode != "copy":
            continue
        n = names(table, database)
        engine.execute(f"CREATE STAGE IF NOT EXISTS {n.schema}.FILES URL = 'file://{domain}/'")
        columns = ", ".join(c.name.upper() for c in table.columns)
        rows = engine.execute(f"COPY INTO {n.landing} ({columns}) FROM @{n.schema}.FILES/{table.location} "
                              f"FILE_FORMAT = (FORMAT_NAME = '{n.file_format}')")
        loaded += sum(int(row["rows_loaded"]) for row in rows)
    return loaded
