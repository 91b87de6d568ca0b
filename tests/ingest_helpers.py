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
