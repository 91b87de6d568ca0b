"""The slim model index saved with each build, and the resolver reading only the models a domain refs from it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mesh_cli.build.run import BuildReport
from mesh_cli.core.errors import MeshError
from mesh_cli.core.manifest import models_of
from mesh_cli.core.model_index import MODEL_INDEX, read_model_index
from mesh_cli.plugin.resolver import resolve
from mesh_cli.shares.access import shared_relations


def _state(root: Path, domain: str) -> Path:
    return root / ".mesh/state/dev" / domain


def test_index_holds_every_model_of_the_domain_as_the_manifest_has_it(built_mesh: tuple[Path, BuildReport]) -> None:
    folder = _state(built_mesh[0], "customers")
    manifest = json.loads((folder / "manifest.json").read_text())
    expected = {m.unique_id: m for m in models_of(manifest, "customers")}
    indexed = read_model_index(folder, "duckdb")
    assert indexed is not None and {m.unique_id for m in indexed} == set(expected)
    for model in indexed:
        full = expected[model.unique_id]
        assert (model.relation_name, model.access, model.version, model.latest_version, model.deprecation_date,
                model.contract_enforced) == (full.relation_name, full.access, full.version, full.latest_version,
                                             full.deprecation_date, full.contract_enforced)
        assert model.columns == {} and model.depends_on == ()
    wanted = read_model_index(folder, "duckdb", {"dim_customers"})
    assert wanted is not None and sorted(m.version or "" for m in wanted) == ["1", "2"]
    assert read_model_index(folder, "duckdb", {"no_such_model"}) == []


def test_an_unusable_index_is_ignored(built_copy: Path) -> None:
    folder = _state(built_copy, "customers")
    assert read_model_index(folder, "snowflake") is None  # built on another adapter
    index = folder / MODEL_INDEX
    stamp = index.stat().st_mtime
    os.utime(folder / "manifest.json", (stamp + 10, stamp + 10))
    assert read_model_index(folder, "duckdb") is None  # older than the manifest beside it
    os.utime(index, (stamp + 20, stamp + 20))
    assert read_model_index(folder, "duckdb") is not None
    index.write_text("{not json\n")
    assert read_model_index(folder, "duckdb") is None
    index.unlink()
    assert read_model_index(folder, "duckdb") is None


def test_resolver_reads_the_index_not_the_manifest(built_copy: Path) -> None:
    folder = _state(built_copy, "customers")
    (folder / "manifest.json").write_text("not a manifest")  # were it read, resolution would fail
    stamp = (folder / "manifest.json").stat().st_mtime
    os.utime(folder / MODEL_INDEX, (stamp + 10, stamp + 10))
    injected = resolve(built_copy / "domains" / "finance", share_lookup=shared_relations)
    assert sorted(m.label for m in injected) == ["customers.dim_customers.v1", "customers.dim_customers.v2",
                                                 "orders.fct_orders"]
    model = built_copy / "domains/finance/models/marts/customer_revenue.sql"
    model.write_text(model.read_text() + "\n-- {{ ref('customers', 'dim_customer') }}\n")
    with pytest.raises(MeshError, match=r"customers has no model 'dim_customer' \(its public models: "
                                        r"dim_customers, dim_regions\)"):
        resolve(built_copy / "domains" / "finance", share_lookup=shared_relations)


def test_without_an_index_the_resolver_falls_back_to_the_manifest(built_copy: Path) -> None:
    (_state(built_copy, "customers") / MODEL_INDEX).unlink()
    injected = resolve(built_copy / "domains" / "orders", share_lookup=shared_relations)
    assert [m.label for m in injected] == ["customers.dim_customers.v1", "customers.dim_customers.v2"]
