"""What an orchestrator reads without dbt: the graph file (`mesh orchestrate graph`), and the deployed records a
domain's first task pulls (`mesh state pull`, `mesh state list`); the prepare and record steps around a domain built
one task a model, which tests/test_airflow.py runs through Airflow and Cosmos."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_cli

from mesh_cli.catalog.index import build_catalog, find_product
from mesh_cli.core.config import load_config
from mesh_cli.core.state import RUN_HISTORY
from mesh_cli.deployed.folder import FolderStore
from mesh_cli.deployed.sync import record_key
from mesh_cli.orchestrate.airflow_dags import mesh_dags
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


def test_record_without_a_handover_is_refused(mesh_copy: Path) -> None:
    """`mesh orchestrate record` runs after prepare's handover only (docs/orchestration.md, "Per-model tasks")."""
    result = run_cli(mesh_copy, "orchestrate", "record", "customers")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and ".handover.json: no handover of customers on dev" in result.stderr
    assert "run `mesh orchestrate prepare customers --target dev` first" in result.stderr
    assert not (mesh_copy / ".mesh/store/dev/customers").exists()   # no lease was taken, nothing deployed


def test_per_model_rendering_needs_a_graph_file_to_write_manifests_beside(mesh_copy: Path, tmp_path: Path) -> None:
    result = run_cli(mesh_copy, "orchestrate", "graph", "--per-model", "customers")
    assert result.exit_code == 2 and "give --out FILE" in result.stderr
    unknown = run_cli(mesh_copy, "orchestrate", "graph", "--per-model", "billing", "--out", str(tmp_path / "g.json"))
    assert unknown.exit_code == 2 and "selector 'billing' names no domain" in unknown.stderr
    assert not (tmp_path / "g.json").exists()
    plain = tmp_path / "plain.json"
    assert run_cli(mesh_copy, "orchestrate", "graph", "--out", str(plain)).exit_code == 0
    with pytest.raises(ValueError, match=r"renders no domain per model: write it again with `mesh orchestrate graph "
                                         r"--per-model DOMAIN --out FILE`"):
        mesh_dags(plain, mesh_dir=mesh_copy, per_model=True)


def test_prepare_holds_the_lease_for_record_which_deploys_nothing_when_no_model_ran(mesh_copy: Path) -> None:
    """Prepare leaves the lease held and a handover naming its run; record refuses another run's handover, and with
    no model task's results it pushes no record, names the nodes that did not run and frees the domain."""
    store = mesh_copy / ".mesh/store/dev/customers"
    prepared = run_cli(mesh_copy, "orchestrate", "prepare", "customers", "--run-id", "run-1", "--lease-minutes", "30")
    assert prepared.exit_code == 0, prepared.stderr
    lease = json.loads((store / "lease.json").read_text())
    assert "mesh orchestrate prepare customers" in lease["holder"]
    held = datetime.fromisoformat(lease["expires_at"]) - datetime.fromisoformat(lease["since"])
    assert timedelta(minutes=30) <= held <= timedelta(minutes=30, seconds=1)   # --lease-minutes (to the second)
    assert (mesh_copy / "domains/customers/target/manifest.json").is_file()    # parsed
    assert (mesh_copy / ".mesh/duckdb/customers.duckdb").is_file()              # raw data landed
    other = run_cli(mesh_copy, "orchestrate", "record", "customers", "--run-id", "run-2")
    assert other.exit_code == 2 and "is run run-1's, not run-2's" in other.stderr
    assert (store / "lease.json").read_text() == json.dumps(lease)             # still held, untouched
    recorded = run_cli(mesh_copy, "orchestrate", "record", "customers", "--run-id", "run-1")
    assert recorded.exit_code == 1
    assert "customers not deployed: did not run: model.customers.dim_customers.v1, " in recorded.stderr
    assert "write it again with `mesh orchestrate graph --per-model`" in recorded.stderr
    assert sorted(path.name for path in store.iterdir()) == []                 # no record, the lease released
    assert not [path.name for path in (mesh_copy / ".mesh/state/dev/customers").glob(".*")]
    [kept] = (mesh_copy / ".mesh/state/dev/customers" / RUN_HISTORY).iterdir()   # the failed build, for the catalogue
    health = find_product(build_catalog(load_config(mesh_copy), "dev"), "customers.customer_master")["build"]
    assert kept.is_file() and health["status"] == "failed" and "did not run: model.customers." in health["reason"]
    assert run_cli(mesh_copy, "orchestrate", "record", "customers", "--run-id", "run-1").exit_code == 2


def test_a_prepare_that_fails_frees_the_domain_and_leaves_no_handover(mesh_copy: Path) -> None:
    model = mesh_copy / "domains/customers/models/staging/stg_customers.sql"
    model.write_text(model.read_text() + "\n{{ ref( }}\n")      # dbt's parse fails
    result = run_cli(mesh_copy, "orchestrate", "prepare", "customers", "--run-id", "run-1")
    assert result.exit_code == 1 and "customers: dbt failed before its models ran: " in result.stderr
    assert not [path.name for path in (mesh_copy / ".mesh/store/dev/customers").iterdir()]   # the lease released
    assert not (mesh_copy / ".mesh/state/dev/customers" / ".handover.json").exists()
    assert run_cli(mesh_copy, "orchestrate", "record", "customers", "--run-id", "run-1").exit_code == 2
