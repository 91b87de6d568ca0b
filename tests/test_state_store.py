"""The state store's backends (a folder, S3 through a real S3-compatible server, a Snowflake stage on fakesnow),
their compare-and-swap under racing processes, leases, and the records they hold."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_helpers import FAKESNOW_SERVER
from sql_oracle import assert_snowflake_sql
from store_servers import BUCKET, s3_server

from mesh_cli.core.config import load_config
from mesh_cli.core.errors import EngineError, MeshError
from mesh_cli.core.store import StaleGeneration, StateStore, StoreUnavailable
from mesh_cli.deployed.folder import FolderStore
from mesh_cli.deployed.lease import LeaseHeld, release_lease, take_lease
from mesh_cli.deployed.location import open_store
from mesh_cli.deployed.objects import ObjectStore
from mesh_cli.deployed.record import RecordMeta, pack_record, read_packed
from mesh_cli.deployed.sync import pull_records, record_key
from mesh_cli.engines.snowflake_stage import StageStore, store_statements


@pytest.fixture(scope="module")
def s3_env() -> Iterator[dict[str, str]]:
    with s3_server() as env:
        yield env


@pytest.fixture(params=["folder", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StateStore:
    if request.param == "folder":
        return FolderStore(tmp_path / "store")
    for name, value in request.getfixturevalue("s3_env").items():
        monkeypatch.setenv(name, value)
    return ObjectStore(f"s3://{BUCKET}/{tmp_path.name}")


def test_conditional_writes(store: StateStore) -> None:
    """A write names the generation it read: a stale one or a second create is refused and changes nothing."""
    first = store.put("prod/a/record.tar.gz", b"one", None)
    with pytest.raises(StaleGeneration):
        store.put("prod/a/record.tar.gz", b"two", None)           # it exists now
    second = store.put("prod/a/record.tar.gz", b"two", first)
    with pytest.raises(StaleGeneration):
        store.put("prod/a/record.tar.gz", b"three", first)        # written over since `first` was read
    found = store.get("prod/a/record.tar.gz")
    assert found is not None and (found.data, found.generation) == (b"two", second)
    assert store.head("prod/a/record.tar.gz") == second
    assert store.get("prod/missing/record.tar.gz") is None and store.head("prod/missing/record.tar.gz") is None
    store.put("prod/b/lease.json", b"{}", None)
    assert store.keys("prod/") == ["prod/a/record.tar.gz", "prod/b/lease.json"]
    store.delete("prod/a/record.tar.gz", first)                   # not the current generation: kept
    assert store.get("prod/a/record.tar.gz") is not None
    store.delete("prod/a/record.tar.gz", second)
    assert store.get("prod/a/record.tar.gz") is None


def _increment(location: str, env: dict[str, str], times: int) -> None:
    """Add 1 to a counter object `times` times by read-modify-write, retrying when another writer was first."""
    os.environ.update(env)
    store = FolderStore(Path(location)) if location.startswith("/") else ObjectStore(location)
    for _ in range(times):
        while True:
            found = store.get("counter")
            value = int(found.data) if found else 0
            try:
                store.put("counter", str(value + 1).encode(), found.generation if found else None)
                break
            except StaleGeneration:
                continue


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_racing_processes_lose_no_write(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Three processes increment one counter 15 times each: every increment lands (no write overwrote a newer
    object), which a store without a real compare-and-swap fails."""
    env = request.getfixturevalue("s3_env") if kind == "s3" else {}
    location = str(tmp_path / "store") if kind == "folder" else f"s3://{BUCKET}/race-{tmp_path.name}"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_increment, args=(location, env, 15)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    os.environ.update(env)
    store = FolderStore(Path(location)) if kind == "folder" else ObjectStore(location)
    counter = store.get("counter")
    assert counter is not None and int(counter.data) == 45


def test_a_lease_is_held_until_released_or_expired(store: StateStore) -> None:
    lease = take_lease(store, "prod/orders/lease.json", "orders (prod)", "alice@ci-1 pid 1 (mesh build orders)", 60)
    with pytest.raises(LeaseHeld, match=r"orders \(prod\) is being deployed by alice@ci-1 pid 1 \(mesh build "
                                        r"orders\) since .* until .*: wait for it to end and run again"):
        take_lease(store, "prod/orders/lease.json", "orders (prod)", "bob@ci-2", 60, wait=0)
    release_lease(store, lease)
    again = take_lease(store, "prod/orders/lease.json", "orders (prod)", "bob@ci-2", 0.01, wait=0)
    # bob's lease expired (a deploy killed before it released): the next deploy takes it over
    taken = take_lease(store, "prod/orders/lease.json", "orders (prod)", "carol@ci-3", 60, wait=0)
    assert taken.generation != again.generation
    found = store.get("prod/orders/lease.json")
    assert found is not None and json.loads(found.data)["holder"] == "carol@ci-3"


def _meta(domain: str, schema: str | None = "v12") -> RecordMeta:
    return RecordMeta(domain, "prod", "2026-12-05T10:00:00+00:00", "ci pid 1 (mesh build)", "abc", "1.11.0", schema)


def test_a_record_round_trips_and_a_damaged_one_is_named(tmp_path: Path, store: StateStore) -> None:
    built = tmp_path / "built" / "orders"
    built.mkdir(parents=True)
    (built / "manifest.json").write_text('{"nodes": {}}')
    (built / "publish.json").write_text('{"products": {}}')
    (built / "history").mkdir()
    (built / "history" / "old.json.gz").write_bytes(b"kept locally")
    generation = store.put(record_key("prod", "orders"), pack_record(built, _meta("orders")), None)

    pulled = pull_records(store, "prod", ["orders"], tmp_path / "working")
    assert pulled == {"orders": generation}
    working = tmp_path / "working" / "orders"
    assert sorted(p.name for p in working.iterdir()) == ["manifest.json", "publish.json", "record.json"]
    assert json.loads((working / "record.json").read_text())["generation"] == generation

    store.put(record_key("prod", "customers"), b"not a tarball", None)
    with pytest.raises(MeshError, match=r"the record of customers \(prod\) is damaged .*deploy the domain again"):
        pull_records(store, "prod", ["customers"], tmp_path / "working")
    with pytest.raises(MeshError, match=r"finance has no deployed record on .* for target prod: deploy it first "
                                        r"\(`mesh build finance --target prod`\)"):
        pull_records(store, "prod", ["finance"], tmp_path / "working", required=["finance"])


def test_a_record_from_an_incompatible_dbt_is_refused(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "store")
    (tmp_path / "built").mkdir()
    store.put(record_key("prod", "orders"), pack_record(tmp_path / "built", _meta("orders", "v11")), None)
    with pytest.raises(MeshError, match=r"written by dbt 1.11.0 \(manifest v11\); this dbt .* reads manifest v12: "
                                        r"deploy orders again"):
        pull_records(store, "prod", ["orders"], tmp_path / "working")


def test_a_record_cannot_write_outside_its_folder(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (("record.json", json.dumps(_meta("orders").to_dict()).encode()),
                           ("../escape.json", b"{}")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    meta, files = read_packed(buffer.getvalue(), "test")
    assert meta.domain == "orders" and files == {}


@pytest.mark.parametrize(("location", "message"), [
    ("ftp://host/x", "is not a store location"),
    ("@stage", "is not a stage location: write @DATABASE.SCHEMA.STAGE"),
    ("@DB.SCHEMA.STAGE/has space", "is not a stage location"),
])
def test_bad_store_locations(mesh_copy: Path, location: str, message: str) -> None:
    with pytest.raises(MeshError, match=message):
        open_store(load_config(mesh_copy), location)


def test_an_unreachable_object_store_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")   # nothing listens there
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x"), ("AWS_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = ObjectStore("s3://nowhere/prefix")
    with pytest.raises(StoreUnavailable, match=r"state store s3://nowhere/prefix cannot be reached or written: .*; "
                                               "check the bucket"):
        store.get("prod/orders/record.tar.gz")


class _Recording:
    """A real connector connection that notes each statement it runs (with its bound values) for the oracle."""

    def __init__(self, connection: object, statements: list[str]) -> None:
        self.connection, self.statements = connection, statements

    def cursor(self) -> object:
        cursor = self.connection.cursor()   # type: ignore[attr-defined]
        run = cursor.execute

        def execute(sql: str, params: tuple[object, ...] | None = None) -> object:
            self.statements.append(sql % tuple(f"'{p}'" if isinstance(p, str) else p for p in params)
                                   if params else sql)
            return run(sql, params)
        cursor.execute = execute
        return cursor


def test_the_stage_store_on_fakesnow() -> None:
    """The stage store's compare-and-swap runs on fakesnow (its generation table, PUT, MERGE, UPDATE, DELETE);
    fakesnow has no GET or REMOVE, so those run as no-ops there and are checked by the oracle and the live test.
    Every statement parses as Snowflake SQL."""
    if FAKESNOW_SERVER is None:
        pytest.skip("fakesnow is not installed")
    import snowflake.connector

    statements: list[str] = []
    with FAKESNOW_SERVER() as parameters:
        setup = snowflake.connector.connect(**parameters)
        for sql in ("CREATE DATABASE MESH_STORE_TEST", "CREATE SCHEMA MESH_STORE_TEST.STATE",
                    "CREATE STAGE MESH_STORE_TEST.STATE.RECORDS"):
            setup.cursor().execute(sql)
        # fakesnow's MERGE needs a current database and schema (Snowflake's does not: the table is qualified)
        session = {**parameters, "database": "MESH_STORE_TEST", "schema": "STATE", "session_parameters": {
            **parameters.get("session_parameters", {}), "nop_regexes": ["^GET .*", "^REMOVE .*"]}}
        store = StageStore("@MESH_STORE_TEST.STATE.RECORDS/retail",
                           lambda: _Recording(snowflake.connector.connect(**session), statements))
        first = store.put("prod/orders/record.tar.gz", b"one", None)
        with pytest.raises(StaleGeneration):
            store.put("prod/orders/record.tar.gz", b"again", None)
        second = store.put("prod/orders/record.tar.gz", b"two", first)
        with pytest.raises(StaleGeneration):
            store.put("prod/orders/record.tar.gz", b"stale", first)
        assert (first, second) == ("1", "2") and store.head("prod/orders/record.tar.gz") == "2"
        assert store.keys("prod/") == ["prod/orders/record.tar.gz"]
        store.delete("prod/orders/record.tar.gz", first)        # not current: kept
        assert store.keys("prod/") == ["prod/orders/record.tar.gz"]
        store.delete("prod/orders/record.tar.gz", second)
        assert store.keys("prod/") == []
    assert_snowflake_sql(statements)
    puts = [sql for sql in statements if sql.startswith("PUT ")]
    assert puts and all(" @MESH_STORE_TEST.STATE.RECORDS/retail/prod/orders/ AUTO_COMPRESS = FALSE OVERWRITE = FALSE"
                        in sql for sql in puts)
    updates = [sql for sql in statements if sql.startswith("UPDATE ")]
    assert updates[0].endswith("WHERE OBJECT_KEY = 'retail/prod/orders/record.tar.gz' AND GENERATION = 1")
    assert any(sql.startswith("REMOVE @MESH_STORE_TEST.STATE.RECORDS/retail/prod/orders/record.tar.gz.")
               for sql in statements)   # the loser's file, and the file a moved row no longer names


def test_a_stage_store_it_cannot_reach_is_a_setting_and_a_statement_it_fails_a_failed_run() -> None:
    """Docs/architecture.md "Exit codes": no session on the stage's schema (credentials, a grant, a name to fix) is
    StoreUnavailable, exit 2, like the other stores; once connected, a statement the warehouse fails is an
    EngineError, exit 1: a warehouse failure is never bad input."""
    if FAKESNOW_SERVER is None:
        pytest.skip("fakesnow is not installed")
    import snowflake.connector

    with FAKESNOW_SERVER() as parameters:
        setup = snowflake.connector.connect(**parameters)
        for sql in ("CREATE DATABASE MESH_STORE_FAIL", "CREATE SCHEMA MESH_STORE_FAIL.STATE"):
            setup.cursor().execute(sql)
        unreachable = StageStore("@MESH_STORE_FAIL.NO_SCHEMA.RECORDS",
                                 lambda: snowflake.connector.connect(**parameters))
        with pytest.raises(StoreUnavailable, match=r"^state store @MESH_STORE_FAIL\.NO_SCHEMA\.RECORDS cannot be "
                           r"reached: .*; check the SNOWFLAKE_\* variables") as refused:
            unreachable.head("prod/orders/record.tar.gz")
        store = StageStore("@MESH_STORE_FAIL.STATE.RECORDS", lambda: snowflake.connector.connect(**parameters))
        assert store.head("prod/orders/record.tar.gz") is None      # connected: the generation table exists
        setup.cursor().execute("DROP TABLE MESH_STORE_FAIL.STATE.MESH_STATE_OBJECTS")
        with pytest.raises(EngineError, match=r"^state store @MESH_STORE_FAIL.STATE.RECORDS: ") as failed:
            store.head("prod/orders/record.tar.gz")
    assert (refused.value.exit_code, failed.value.exit_code) == (2, 1)
    assert isinstance(failed.value.__cause__, snowflake.connector.errors.Error) and "\n" not in str(failed.value)


def test_the_stage_store_statements_parse_as_snowflake() -> None:
    statements = store_statements("MESH_ADMIN.STATE")
    assert_snowflake_sql(sql.replace("%s", "'x'") for sql in statements.values())
    assert "WHEN NOT MATCHED THEN INSERT" in statements["insert"] and "WHEN MATCHED" not in statements["insert"]
    assert statements["update"].endswith("WHERE OBJECT_KEY = %s AND GENERATION = %s")


@pytest.mark.skipif(not os.environ.get("SNOWFLAKE_ACCOUNT") or not os.environ.get("MESH_TEST_STAGE"),
                    reason="live Snowflake test: set SNOWFLAKE_ACCOUNT, credentials and MESH_TEST_STAGE "
                           "(@DB.SCHEMA.STAGE of an internal stage the role may write)")
def test_the_stage_store_on_a_live_account(tmp_path: Path) -> None:
    """Writes, reads back byte for byte, refuses a stale write and removes, on a real stage."""
    store = StageStore(f"{os.environ['MESH_TEST_STAGE']}/mesh-test-{os.getpid()}")
    first = store.put("prod/orders/record.tar.gz", b"one", None)
    assert store.get("prod/orders/record.tar.gz").data == b"one"   # type: ignore[union-attr]
    second = store.put("prod/orders/record.tar.gz", b"two", first)
    with pytest.raises(StaleGeneration):
        store.put("prod/orders/record.tar.gz", b"stale", first)
    assert store.get("prod/orders/record.tar.gz").data == b"two"   # type: ignore[union-attr]
    store.delete("prod/orders/record.tar.gz", second)
    assert store.get("prod/orders/record.tar.gz") is None
