"""Issue 28: column-level lineage across domains, the contract gate of `mesh build`, and the faults around it
(Ctrl-C, a symlinked domains folder, an unreadable publish state, `mesh query` during a build).

The bad inputs themselves are cases of the matrix (tests/test_reliability.py); these are the paths that succeed
or that a one-command case cannot show.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mesh_cli.check.deploy_gate import breaking_findings
from mesh_cli.contracts.changes import classify
from mesh_cli.contracts.policy import Policy
from mesh_cli.contracts.rules import configured_rules
from mesh_cli.contracts.snapshot import snapshot
from mesh_cli.core.column_reads import node_reads, sql_reads
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.lock import LOCK_FILE
from tests.conftest import copy_built_mesh, run_cli
from tests.test_reliability import MARTS_YML, PUBLISHED, REGION_NOT_NULL, REGION_NULLABLE, replace
from tests.test_reliability import snapshot as state

DIM = "ref('customers', 'dim_customers')"


# Column reads of one consumer's SQL

@pytest.mark.parametrize(("sql", "reads", "into"), [
    (f"select c.region, o.id from {{{{ {DIM} }}}} c join o on o.c = c.customer_id", True, ("region",)),
    (f"select c.region as home_region from {{{{ {DIM} }}}} as c", True, ("home_region",)),
    (f"select region from {{{{ {DIM} }}}}", True, ("region",)),                 # unqualified: from the ref
    (f"select c.email from {{{{ {DIM} }}}} c", False, ()),
    (f"select count(*) as n from {{{{ {DIM} }}}} c", False, ()),                # count(*) reads no column
    (f"select * from {{{{ {DIM} }}}}", True, ("region",)),                       # select * reads them all
    (f"select c.* from {{{{ {DIM} }}}} c", True, ("region",)),
    (f"with x as (select * from {{{{ {DIM} }}}}) select x.id from x", True, ()),        # read, not passed on
    (f"with c as (select region as r from {{{{ {DIM} }}}}) select c.r as home from c", True, ("home",)),
    (f"select s.r from (select c.region as r from {{{{ {DIM} }}}} c) as s", True, ("r",)),
    (f"select o.area from o union all select region from {{{{ {DIM} }}}}", True, ("area",)),   # by position
    (f"select upper(c.region) || c.name as label from {{{{ {DIM} }}}} c", True, ("label",)),
    (f"select o.id from o join {{{{ {DIM} }}}} c using (region)", True, ()),    # a join on it reads it
    (f"select o.id from o natural join {{{{ {DIM} }}}} c", True, ()),
    (f"select c.email from {{{{ {DIM} }}}} c where c.region = 'EMEA'", True, ()),
    ("{% if var('x') %}select 1{% endif %}", True, ()),                          # other Jinja: assume it reads
    (f"select from where {{{{ {DIM} }}}}", True, ()),                             # not SQL sqlglot reads: the same
])
def test_sql_reads_a_column_only_where_it_names_or_stars_it(sql: str, reads: bool, into: tuple[str, ...]) -> None:
    read = sql_reads(sql, "customers", "dim_customers", "REGION")
    assert read.reads is reads
    assert read.into == into


def test_a_relationships_test_reads_only_its_field() -> None:
    node = {"resource_type": "test", "column_name": "customer_id",
            "test_metadata": {"name": "relationships", "kwargs": {"field": "customer_id"}}}
    assert node_reads(node, "customers", "dim_customers", "customer_id").into == ("customer_id",)
    assert not node_reads(node, "customers", "dim_customers", "phone").reads
    other = {"resource_type": "test", "test_metadata": {"name": "expect_rows", "kwargs": {}}}
    assert node_reads(other, "customers", "dim_customers", "phone").reads   # unknown test: assume it reads


def test_a_python_model_reads_what_it_projects() -> None:
    projected = {"resource_type": "model", "language": "python",
                 "raw_code": 'df = dbt.ref("customers", "dim_customers").select("CUSTOMER_ID", "REGION")'}
    assert node_reads(projected, "customers", "dim_customers", "region").reads
    assert not node_reads(projected, "customers", "dim_customers", "phone").reads
    whole = {"resource_type": "model", "language": "python", "raw_code": 'df = dbt.ref("customers", "dim_customers")'}
    assert node_reads(whole, "customers", "dim_customers", "phone").reads


# Impact precise to the column, on the built example mesh's manifests

def _impact(root: Path, edit: Any) -> list[Any]:
    """The findings of `mesh check`'s policy when the deployed customers manifest is edited into the new one."""
    manifests = {name: json.loads((root / f".mesh/state/dev/{name}/manifest.json").read_text())
                 for name in ("customers", "orders", "finance")}
    before = {name: snapshot(name, manifest, "deployed") for name, manifest in manifests.items()}
    changed = json.loads(json.dumps(manifests["customers"]))
    edit(changed["nodes"])
    now = {**before, "customers": snapshot("customers", changed, "working tree")}
    policy = Policy(configured_rules({}), before, now, date(2026, 12, 5))
    return [f for f in policy.findings(classify(before, now, date(2026, 12, 5))) if f.rule != "consumer-notice"]


def _drop_column(version: int, column: str) -> Any:
    def edit(nodes: dict[str, Any]) -> None:
        nodes[f"model.customers.dim_customers.v{version}"]["columns"].pop(column)
    return edit


def test_removing_phone_hits_no_consumer(built_mesh: tuple[Path, Any]) -> None:
    """Issue 28: three consumers of dim_customers v2, none reads phone: the removal reaches none of them."""
    [finding] = _impact(built_mesh[0], _drop_column(2, "phone"))
    assert (finding.rule, finding.model, finding.column, finding.hits) == (
        "column-removed", "customers.dim_customers.v2", "phone", [])


def test_removing_region_hits_its_readers_with_their_columns(built_mesh: tuple[Path, Any]) -> None:
    [finding] = _impact(built_mesh[0], _drop_column(2, "region"))
    hits = {f"{hit.domain}.{hit.node}": hit.columns for hit in finding.hits}
    # customer_revenue refs dim_customers only in a relationships test on customer_id: not hit
    assert hits == {"finance.int_order_revenue": ("region",), "finance.customer_scoring": ("region",)}
    assert "into int_order_revenue.region" in finding.hits_text


def test_a_change_to_the_whole_model_still_hits_every_consumer(built_mesh: tuple[Path, Any]) -> None:
    def unenforce(nodes: dict[str, Any]) -> None:
        nodes["model.customers.dim_customers.v2"]["contract"]["enforced"] = False
    [finding] = _impact(built_mesh[0], unenforce)
    assert {hit.node for hit in finding.hits} == {"int_order_revenue", "customer_scoring", "customer_revenue"}


# The contract gate of mesh build

@pytest.fixture
def gate_mesh(tmp_path: Path, built_mesh: tuple[Path, Any]) -> Path:
    return copy_built_mesh(built_mesh[0], tmp_path / "mesh")


def _gate(root: Path, *building: str) -> list[Any]:
    config = load_config(root)
    return breaking_findings(config, DomainGraph(discover_domains(config)), "dev", building)


def test_an_unchanged_or_unread_domain_parses_nothing(gate_mesh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate costs nothing unless a deployed domain that others read changed: no dbt parse at all."""
    import mesh_cli.check.deploy_gate as gate

    monkeypatch.setattr(gate, "WorkingTreeParse", None)   # any parse would fail on calling None
    assert _gate(gate_mesh, "customers", "orders", "finance") == []
    (gate_mesh / "domains/finance/models/marts/_marts.yml").write_text(
        (gate_mesh / "domains/finance/models/marts/_marts.yml").read_text().replace("data_type: date", "data_type: "
                                                                                     "timestamp", 1))
    assert _gate(gate_mesh, "finance") == []   # finance changed, but no domain reads it


def test_a_new_version_passes_the_gate(gate_mesh: Path) -> None:
    """Region dropped from a new v3, v2 kept as it was: consumers keep their contract, nothing is refused."""
    replace(MARTS_YML, "      - v: 2\n", "      - v: 2\n      - v: 3\n        columns:\n          - include: all\n"
            "            exclude: [region]\n")(gate_mesh)
    (gate_mesh / "domains/customers/models/marts/dim_customers_v3.sql").write_text(
        (gate_mesh / "domains/customers/models/marts/dim_customers_v2.sql").read_text())
    assert _gate(gate_mesh, "customers") == []


def test_allow_breaking_deploys_the_named_model(gate_mesh: Path) -> None:
    """Refused without the flag (the matrix shows the message); with it the domain builds and deploys."""
    replace(MARTS_YML, REGION_NOT_NULL, REGION_NULLABLE)(gate_mesh)
    refused = run_cli(gate_mesh, "build", "customers", "--allow-breaking", "dim_regions")
    assert refused.exit_code == 1 and "--allow-breaking customers.dim_customers" in refused.output
    result = run_cli(gate_mesh, "build", "customers", "--allow-breaking", "customers.dim_customers")
    assert result.exit_code == 0, result.output
    assert "success" in result.output and _gate(gate_mesh, "customers") == []   # deployed: nothing left to refuse


# Faults

def _as_from_a_terminal() -> None:
    """A command started from a shell gets Ctrl-C: neither ignored nor blocked. A child inherits both across exec,
    and in the full suite (not alone) the command started by the pytest worker did not see the SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_ctrl_c_during_a_build_is_one_line_and_exit_130(gate_mesh: Path) -> None:
    """SIGINT to the whole process group, as a terminal sends it, once the build holds the lock: one line, exit
    130, no traceback from the command or its dbt workers, and the lock released."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [sys.executable, "-c", "from mesh_cli.cli import main; main()", "--mesh-dir", str(gate_mesh), "build",
               "--full-refresh", "-j", "1"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=_as_from_a_terminal)
    lock = gate_mesh / ".mesh" / LOCK_FILE
    deadline = time.monotonic() + 60
    while not lock.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)   # dbt workers started
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, out + err
    assert "Traceback" not in out + err and "KeyboardInterrupt" not in out + err
    assert [line for line in err.splitlines() if "interrupted" in line] == [
        "error: interrupted; nothing half-applied; run the same command again"]
    assert not lock.exists()


def test_a_symlinked_domains_folder_works(tmp_path: Path, built_mesh: tuple[Path, Any]) -> None:
    root = copy_built_mesh(built_mesh[0], tmp_path / "mesh")
    (root / "domains").rename(tmp_path / "elsewhere")
    (root / "domains").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    listed = run_cli(root, "list")
    assert listed.exit_code == 0, listed.output
    planned = run_cli(root, "build", "--changed", "--json")
    assert planned.exit_code == 0, planned.output
    assert "Traceback" not in planned.output


def test_an_unreadable_publish_state_is_set_aside_and_written_again(gate_mesh: Path) -> None:
    (gate_mesh / PUBLISHED).write_text('{"products": 5}')
    result = run_cli(gate_mesh, "publish", "customers")
    assert result.exit_code == 0, result.output
    assert "set aside as .publish.json.unreadable, written again" in result.output
    assert json.loads((gate_mesh / PUBLISHED).read_text())["products"]["customer_master"]["status"] == "published"
    assert (gate_mesh / PUBLISHED).with_name(".publish.json.unreadable").read_text() == '{"products": 5}'
    assert run_cli(gate_mesh, "catalog", "--out", str(gate_mesh / "site")).exit_code == 0


def test_query_waits_for_a_build_that_ends(gate_mesh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = gate_mesh / ".mesh" / LOCK_FILE
    lock.write_text(json.dumps({"pid": os.getpid(), "command": "mesh build", "since": "now"}))
    monkeypatch.setenv("MESH_LOCK_WAIT", "30")
    threading.Timer(0.5, lock.unlink).start()
    before = state(gate_mesh)
    result = run_cli(gate_mesh, "query", "customers", "select count(*) as n from marts.dim_regions")
    assert result.exit_code == 0, result.output
    assert state(gate_mesh) == before


@pytest.mark.parametrize("damage", [lambda text: text.replace("/dbt/manifest/v12.json", "/dbt/manifest/v10.json", 1),
                                    lambda text: '{"nodes": '], ids=["old-schema", "corrupt"])
def test_an_unreadable_manifest_is_rewritten_by_the_build_it_names(gate_mesh: Path, damage: Any) -> None:
    """The downstream's build refuses naming `mesh build customers` (matrix cases); that build rewrites it."""
    manifest = gate_mesh / ".mesh/state/dev/customers/manifest.json"
    manifest.write_text(damage(manifest.read_text()))
    result = run_cli(gate_mesh, "build", "customers")
    assert result.exit_code == 0, result.output
    assert "/dbt/manifest/v12.json" in manifest.read_text()
