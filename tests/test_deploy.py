"""A domain deploys alone, from a fresh clone holding only the repository and access to the store (DESIGN.md,
"Production"): it pulls its upstreams' records, builds itself alone and pushes its own record; a missing record,
a held lease, a newer record or a deploy killed midway never leave a wrong or broken record behind.

On DuckDB the shared warehouse is a folder of database files every clone points at (MESH_DUCKDB_DIR), as every
machine of a Snowflake mesh reaches the same account.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import git, run_cli
from store_servers import BUCKET, s3_server

from mesh_cli.core.store import StaleGeneration, StateStore
from mesh_cli.deployed.folder import FolderStore
from mesh_cli.deployed.lease import take_lease
from mesh_cli.deployed.objects import ObjectStore
from mesh_cli.deployed.record import local_meta, pack_record, read_packed
from mesh_cli.deployed.sync import deployed_domains, deploying, lease_key, record_key
from testkit.mesh_copy import example_mesh

TARGET = "dev"


def fresh_clone(dest: Path) -> Path:
    """What a deploying machine holds: the repository at a commit, no build, no state."""
    example_mesh(dest)
    (dest / ".gitignore").write_text("target/\ndbt_packages/\nlogs/\n.mesh/\n")
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", ".")
    git(dest, "commit", "-q", "-m", "deploy")
    return dest


def _rows(warehouse: Path, domain: str, relation: str) -> int:
    with duckdb.connect(str(warehouse / f"{domain}.duckdb"), read_only=True) as con:
        return int(con.execute(f"select count(*) from {relation}").fetchone()[0])  # type: ignore[index]


@pytest.fixture
def shared(built_copy: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, FolderStore]:
    """The deployed mesh: the built example's database files as the warehouse and its local store as the shared
    store, every machine pointed at both."""
    warehouse, store = built_copy / ".mesh" / "duckdb", FolderStore(built_copy / ".mesh" / "store")
    monkeypatch.setenv("MESH_DUCKDB_DIR", str(warehouse))
    monkeypatch.setenv("MESH_STORE", str(store.root))
    monkeypatch.setenv("MESH_LOCK_WAIT", "0")
    return warehouse, store


def _deploy_finance_alone(clone: Path, store: StateStore, warehouse: Path) -> None:
    before = store.get(record_key(TARGET, "finance"))
    upstreams = {name: store.get(record_key(TARGET, name)) for name in ("customers", "orders")}
    rows = _rows(warehouse, "finance", "marts.revenue_by_region_month")
    result = run_cli(clone, "build", "finance", "--format", "json")
    assert result.exit_code == 0, result.output + result.stderr
    assert '"domain": "finance"' in result.output and '"domain": "orders"' not in result.output
    after = store.get(record_key(TARGET, "finance"))
    assert before is not None and after is not None and after.generation != before.generation
    meta, files = read_packed(after.data, "finance")
    assert "mesh build finance" in meta.writer and meta.commit == git(clone, "rev-parse", "HEAD").strip()
    assert {"manifest.json", "run_results.json", "fingerprint.json", "publish.json"} <= set(files)
    for name, record in upstreams.items():   # pulled, not rebuilt: the same generation, in the clone's folder
        assert record is not None and store.get(record_key(TARGET, name)).generation == record.generation  # type: ignore[union-attr]
        held = local_meta(clone / ".mesh/state" / TARGET / name)
        assert held is not None and held.generation == record.generation
        assert not (clone / "domains" / name / "target").exists()
    assert _rows(warehouse, "finance", "marts.revenue_by_region_month") == rows
    assert store.get(lease_key(TARGET, "finance")) is None      # released


def test_a_leaf_domain_deploys_from_a_fresh_clone_with_a_folder_store(shared: tuple[Path, FolderStore],
                                                                      tmp_path: Path) -> None:
    warehouse, store = shared
    _deploy_finance_alone(fresh_clone(tmp_path / "clone"), store, warehouse)


def test_a_leaf_domain_deploys_from_a_fresh_clone_with_an_s3_store(shared: tuple[Path, FolderStore], tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse, folder = shared
    with s3_server() as env:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        store = ObjectStore(f"s3://{BUCKET}/retail")
        for key in folder.keys(f"{TARGET}/"):   # the deployed records, as the first deploys left them
            store.put(key, folder.get(key).data, None)  # type: ignore[union-attr]
        monkeypatch.setenv("MESH_STORE", store.location)
        _deploy_finance_alone(fresh_clone(tmp_path / "clone"), store, warehouse)
        assert deployed_domains(store, TARGET) == ["customers", "finance", "orders"]


def test_an_upstream_without_a_record_builds_nothing(shared: tuple[Path, FolderStore], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse, _ = shared
    empty = tmp_path / "empty-store"
    monkeypatch.setenv("MESH_STORE", str(empty))
    stamp = (warehouse / "finance.duckdb").stat().st_mtime_ns
    clone = fresh_clone(tmp_path / "clone")
    result = run_cli(clone, "build", "finance")
    assert result.exit_code == 2
    assert (f"error: customers has no deployed record on {empty} for target dev: deploy it first "
            "(`mesh build customers --target dev`)") in result.stderr.replace("\n", " ")
    assert (warehouse / "finance.duckdb").stat().st_mtime_ns == stamp
    assert FolderStore(empty).keys("dev/") == []      # no record, no lease left behind


def test_a_domain_being_deployed_elsewhere_is_refused_naming_the_holder(shared: tuple[Path, FolderStore],
                                                                        tmp_path: Path) -> None:
    _, store = shared
    take_lease(store, lease_key(TARGET, "finance"), "finance", "ana@runner-7 pid 42 (mesh build finance)", 600)
    before = store.get(record_key(TARGET, "finance"))
    result = run_cli(fresh_clone(tmp_path / "clone"), "build", "finance")
    assert result.exit_code == 2
    assert "finance (dev) is being deployed by ana@runner-7 pid 42 (mesh build finance) since" in result.stderr
    assert store.get(record_key(TARGET, "finance")) == before


def test_a_deploy_never_overwrites_a_newer_record(shared: tuple[Path, FolderStore], tmp_path: Path) -> None:
    """A record written after this deploy read (a deploy whose lease ran out meanwhile) is kept; the push is
    refused and says so."""
    _, store = shared
    clone = fresh_clone(tmp_path / "clone")
    from mesh_cli.core.config import load_config

    with deploying(load_config(clone), store, TARGET, ["finance"], ["customers", "orders"], "mesh build finance",
                   strict=True, lease_seconds=60) as deploy:
        folder = clone / ".mesh/state" / TARGET / "finance"   # another deploy's record, written meanwhile
        other = pack_record(folder, replace(read_packed(store.get(record_key(TARGET, "finance")).data, "")[0],  # type: ignore[union-attr]
                                            writer="bo@runner-2 pid 7 (mesh build finance)"))
        newer = store.put(record_key(TARGET, "finance"), other, deploy.generations["finance"])
        with pytest.raises(StaleGeneration, match=r"a newer record of finance was deployed to .* by bo@runner-2 pid 7 "
                                                  r"\(mesh build finance\) at .*: this deploy's record was not saved"):
            deploy.push("finance")
    assert store.get(record_key(TARGET, "finance")).generation == newer  # type: ignore[union-attr]


def _mesh(clone: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([str(Path(sys.executable).parent / "mesh"), "--mesh-dir", str(clone), *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _wait_for(condition: object, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():   # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def killer_env(shared: tuple[Path, FolderStore]) -> Iterator[dict[str, str]]:
    env = {**os.environ, "MESH_LEASE_SECONDS": "1.5", "MESH_KEEP_WORKERS": ""}
    yield env


def _reports_success(process: subprocess.Popen[str]) -> bool:
    """Read the deploy's output up to its line saying finance built (the push follows at once)."""
    assert process.stdout is not None
    for line in process.stdout:
        if "] success finance:" in line:   # `[1/1] success finance: ...`, the build's progress line
            return True
    return True   # it ended first


def test_a_deploy_killed_at_any_point_leaves_the_previous_record_whole(shared: tuple[Path, FolderStore],
                                                                       tmp_path: Path,
                                                                       killer_env: dict[str, str]) -> None:
    """`mesh build finance` killed (SIGKILL, its whole process group) once it holds the lease, while dbt builds,
    and as it reports success (its push under way): each time the store holds a whole, readable record (the
    previous one, or the new one if the push had finished), and once the dead deploy's lease expires the next
    deploy lands."""
    _, store = shared
    clone = fresh_clone(tmp_path / "clone")
    dbt_output = clone / "domains" / "finance" / "target"     # dbt writes it as it parses, before it builds
    points = {
        "lease taken": lambda process: store.get(lease_key(TARGET, "finance")) is not None,
        "dbt building": lambda process: dbt_output.is_dir(),
        "reporting success": _reports_success,
    }
    generations = set()
    for point, reached in points.items():
        before = store.get(record_key(TARGET, "finance"))
        assert before is not None
        process = _mesh(clone, "build", "finance", env=killer_env)
        _wait_for(lambda: reached(process) or process.poll() is not None)   # noqa: B023
        assert process.poll() is None, f"{point}: the deploy ended before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        after = store.get(record_key(TARGET, "finance"))
        assert after is not None, point
        meta, files = read_packed(after.data, point)
        assert meta.domain == "finance" and "manifest.json" in files, point
        assert after.generation == before.generation or "mesh build finance" in meta.writer, point
        generations.add(after.generation)
        shutil.rmtree(dbt_output, ignore_errors=True)
        time.sleep(1.6)   # the dead deploy's lease expires
    process = _mesh(clone, "build", "finance", env=killer_env)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    final = store.get(record_key(TARGET, "finance"))
    assert final is not None and final.generation not in generations
    assert "mesh build finance" in read_packed(final.data, "final")[0].writer


def test_a_fresh_clone_checks_and_publishes_against_the_store(shared: tuple[Path, FolderStore],
                                                             tmp_path: Path) -> None:
    """`mesh check` with no baseline compares with the records deployed in the target's store; `mesh --changed`
    finds nothing to rebuild in a clone of the deployed commit; `mesh publish` pushes the record it updated."""
    _, store = shared
    clone = fresh_clone(tmp_path / "clone")
    deployed = {name: store.get(record_key(TARGET, name)) for name in ("customers", "orders", "finance")}
    unchanged = run_cli(clone, "build", "--changed", "--format", "json")
    assert unchanged.exit_code == 0 and json.loads(unchanged.output)["domains"] == []
    assert json.loads(unchanged.output)["unchanged"] == ["customers", "orders", "finance"]
    assert {name: store.get(record_key(TARGET, name)) for name in deployed} == deployed
    clean = run_cli(clone, "check")
    assert clean.exit_code == 0, clean.output + clean.stderr
    marts = clone / "domains/customers/models/marts/_marts.yml"
    data = yaml.safe_load(marts.read_text())
    dim = next(m for m in data["models"] if m["name"] == "dim_customers")
    dim["columns"] = [c for c in dim["columns"] if c["name"] != "phone"]
    marts.write_text(yaml.safe_dump(data, sort_keys=False))
    broken = run_cli(clone, "check", "--format", "json")
    assert broken.exit_code == 1
    assert any(f["rule"] == "column-removed" and "phone" in f["message"]
               for f in json.loads(broken.output)["findings"])

    before = store.get(record_key(TARGET, "finance"))
    unchanged = run_cli(clone, "publish", "finance")
    assert unchanged.exit_code == 0 and "nothing to change" in unchanged.output
    assert store.get(record_key(TARGET, "finance")) == before     # nothing published, nothing written
    domain_file = clone / "domains/finance/domain.yml"
    data = yaml.safe_load(domain_file.read_text())
    data["products"][0]["description"] = "Revenue by region and month, for the finance team and its analysts."
    domain_file.write_text(yaml.safe_dump(data, sort_keys=False))
    published = run_cli(clone, "publish", "finance")
    assert published.exit_code == 0, published.output + published.stderr
    [line, summary] = published.output.splitlines()   # in words, as provision says it: -v shows the statements
    applied = int(summary.split(": ")[1].split()[0])
    assert line.split() == ["published", "finance", str(applied), "statements", "applied"] and applied > 0
    assert summary == f"published 1 domain(s) on dev: {applied} statement(s) (--plan or -v shows them)"
    data["products"][0]["description"] = "Revenue by region and month."
    domain_file.write_text(yaml.safe_dump(data, sort_keys=False))
    shown = run_cli(clone, "publish", "finance", "-v")
    assert shown.exit_code == 0 and shown.output.count(";\n") >= applied > 0   # the statements, then the same lines
    assert shown.output.splitlines()[-1] == f"published 1 domain(s) on dev: {applied} statement(s)"
    after = store.get(record_key(TARGET, "finance"))
    assert before is not None and after is not None and after.generation != before.generation
    assert "mesh publish finance" in read_packed(after.data, "finance")[0].writer


def test_deploys_of_different_domains_at_the_same_time_both_land(shared: tuple[Path, FolderStore],
                                                                 tmp_path: Path) -> None:
    """Two machines deploy two domains at once (customers, and a new domain reading nothing): both records land."""
    _, store = shared
    source = fresh_clone(tmp_path / "source")
    assert run_cli(source, "init", "domain", "marketing", "--owner", "mkt@acme.example").exit_code == 0
    git(source, "add", ".")
    git(source, "commit", "-q", "-m", "marketing")
    clones = [tmp_path / "a", tmp_path / "b"]
    for clone in clones:
        git(tmp_path, "clone", "-q", str(source), str(clone))
    before = store.get(record_key(TARGET, "customers"))
    env = {**os.environ, "MESH_KEEP_WORKERS": ""}
    runs = [_mesh(clones[0], "build", "customers", env=env), _mesh(clones[1], "build", "marketing", env=env)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    customers, marketing = store.get(record_key(TARGET, "customers")), store.get(record_key(TARGET, "marketing"))
    assert before is not None and customers is not None and customers.generation != before.generation
    assert marketing is not None and read_packed(marketing.data, "marketing")[0].domain == "marketing"


def test_reads_of_a_fresh_clone_come_from_the_store(shared: tuple[Path, FolderStore], tmp_path: Path) -> None:
    """`mesh list` on a clone that built nothing shows the deployed mesh: the inventory pulls the records first
    (and a second read pulls nothing)."""
    clone = fresh_clone(tmp_path / "clone")
    listed = run_cli(clone, "list", "--format", "json")
    assert listed.exit_code == 0, listed.output + listed.stderr
    assert sorted(entry["domain"] for entry in json.loads(listed.output)) == ["customers", "finance", "orders"]
    manifest = clone / ".mesh/state" / TARGET / "orders" / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    assert run_cli(clone, "list", "--format", "json").exit_code == 0
    assert manifest.stat().st_mtime_ns == stamp
    assert not (clone / "domains/orders/target").exists()     # nothing was parsed
