"""What an orchestrator reads without dbt: the graph file (`mesh orchestrate graph`), and the deployed records a
domain's first task pulls (`mesh state pull`, `mesh state list`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from mesh_cli.deployed.folder import FolderStore
from mesh_cli.deployed.sync import record_key
from testkit.mesh_copy import example_mesh


def test_the_graph_file_holds_the_domain_graph_and_the_products_as_assets(mesh_copy: Path, tmp_path: Path) -> None:
    result = run_cli(mesh_copy, "orchestrate", "graph", "--target", "prod", "--out", str(tmp_path / "graph.json"))
    assert result.exit_code == 0, result.output
    graph = json.loads((tmp_path / "graph.json").read_text())
    assert (graph["format"], graph["mesh"], graph["target"]) == (1, "retail", "prod")
    assert list(graph["domains"]) == ["customers", "orders", "finance"]     # build order
    assert graph["domains"]["finance"]["upstreams"] == ["customers", "orders"]
    assert graph["domains"]["orders"]["products"] == {"order_facts": "mesh://retail/prod/orders/order_facts"}
    assert graph["domains"]["finance"]["reads"] == ["mesh://retail/prod/customers/customer_master",
                                                    "mesh://retail/prod/orders/order_facts"]
    assert graph["domains"]["customers"]["reads"] == []


def test_a_cycle_writes_no_graph_file(mesh_copy: Path, tmp_path: Path) -> None:
    (mesh_copy / "domains/customers/dependencies.yml").write_text("projects:\n  - name: finance\n")
    result = run_cli(mesh_copy, "orchestrate", "graph", "--out", str(tmp_path / "graph.json"))
    assert result.exit_code == 2 and "cycle" in result.stderr
    assert not (tmp_path / "graph.json").exists()


def test_state_pull_and_list(built_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FolderStore(built_copy / ".mesh" / "store")
    monkeypatch.setenv("MESH_STORE", str(store.root))
    clone = example_mesh(tmp_path / "clone")     # the repository only: no state, no build
    result = run_cli(clone, "state", "pull", "finance")
    assert result.exit_code == 0, result.output + result.stderr
    assert "customers: pulled" in result.output and "orders: pulled" in result.output
    assert (clone / ".mesh/state/dev/orders/manifest.json").is_file()
    listed = run_cli(clone, "state", "list", "--format", "json")
    assert [row["domain"] for row in json.loads(listed.output)] == ["customers", "finance", "orders"]
    assert all(row["generation"] == store.get(record_key("dev", row["domain"])).generation  # type: ignore[union-attr]
               for row in json.loads(listed.output))
    monkeypatch.setenv("MESH_STORE", str(tmp_path / "empty"))
    missing = run_cli(clone, "state", "pull", "finance")
    assert missing.exit_code == 2 and "customers has no deployed record on" in missing.stderr
    assert run_cli(clone, "state", "pull", "billing").exit_code == 2
