"""What `datacontract test` reads where contract tests read copies (`Engine.contract_tests_read_copies`: DuckDB):
per contract version and reader (readers.py), a database file written by the engine (`write_copy`; DuckDB's in a
format DuckDB 1.x opens) holding the model's rows as that reader sees them, plus the relations its relationship
rules reference.

The domain databases cannot serve it directly: a governed model's name is a view that shows a session its roles'
rows (none to a session without roles, as datacontract-cli's is), and its stored rows lie under another name.
"""

from __future__ import annotations

from pathlib import Path

from mesh_cli.catalog.export.odcs import find_model
from mesh_cli.catalog.export.readers import PRODUCER, copy_name, copy_path, readers
from mesh_cli.catalog.index import Catalog
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.engines.registry import engine_for


def write_test_copies(config: MeshConfig, catalog: Catalog, reference: str) -> dict[Path, dict[str, int]]:
    """Write the copies of one contract version for each reader; the rows of each relation in each copy."""
    product, _, version = find_model(catalog, reference)
    target = catalog.index["target"]
    domain = discover_domains(config)[product["domain"]]
    engine = engine_for(config, [domain], target)
    if not engine.contract_tests_read_copies:
        raise MeshError(f"target {target!r} runs on {engine.adapter_type}: `datacontract test` reads it in place "
                        "(the contract's server); test copies are for the local engine")
    own = version["relation"]
    referenced = sorted({test["referenced"] for column in version["columns"] for test in column["tests"]
                         if test.get("referenced")} - {own})
    relations = {copy_name(relation, domain.name): relation for relation in [own, *referenced]}
    written = {}
    for reader, roles in readers(config, product, target).items():
        path = copy_path(engine, version["id"], reader)
        # the producer reads its own model's stored rows; what else it reads, it reads as its build roles do
        stored = {copy_name(own, domain.name)} if reader == PRODUCER else set()
        written[path] = engine.write_copy(domain, roles, relations, stored, path)
    return written
