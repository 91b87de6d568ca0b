"""Ingestion: a domain's raw inputs, declared as dbt sources, landed by the target's engine."""

from mesh_cli.ingest.run import DomainIngest, has_freshness, has_ingestion, ingest, ingest_domain
from mesh_cli.ingest.spec import load_ingest_tables

__all__ = ["DomainIngest", "has_freshness", "has_ingestion", "ingest", "ingest_domain", "load_ingest_tables"]
