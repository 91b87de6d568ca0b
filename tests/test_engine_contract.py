"""The engine contract: what every engine behind `mesh_cli.engines.base.Engine` must do, run over the DuckDB and
Snowflake engines (Snowflake on a fakesnow server where it connects) and over a minimal test-only third engine
(tests/engine_contract.py), which shows that a new engine needs nothing beyond docs/engines.md; then every command
run through that third engine, which must send it no Snowflake or DuckDB SQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import jinja2
import pytest
import snowflake.connector
import yaml
from conftest import copy_mesh, run_cli
from engine_contract import SQLiteEngine, foreign_sql
from ingest_helpers import FAKESNOW_SERVER

from mesh_cli.build.run import BuildReport
from mesh_cli.catalog.export.servers import servers
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import load_domain
from mesh_cli.core.errors import EXIT_INTERNAL, EngineError, MeshError
from mesh_cli.core.profile_outputs import ProfileOutput
from mesh_cli.core.types import DataType, parse_type
from mesh_cli.engines import registry
from mesh_cli.engines.base import SNOWFLAKE_SQL, Engine
from mesh_cli.engines.duckdb import DuckDBEngine
from mesh_cli.engines.snowflake import SnowflakeEngine, connect, connection_parameters

ENGINE_CLASSES = [DuckDBEngine, SnowflakeEngine, SQLiteEngine]
CANONICAL = [DataType("number", (38, 0)), DataType("number", (10, 2)), DataType("varchar", (16_777_216,)),
             DataType("varchar", (20,)), DataType("float"), DataType("boolean"), DataType("date"),
             DataType("timestamp_ntz", (9,)), DataType("timestamp_tz", (9,)), DataType("binary", (8_388_608,)),
             DataType("variant"), DataType("object"), DataType("array"), DataType("geography")]
HELD_BY_EVERY_ENGINE = [DataType("number", (38, 0)), DataType("number", (10, 2)), DataType("varchar", (16_777_216,)),
                        DataType("float"), DataType("date"), DataType("binary", (8_388_608,))]


@pytest.fixture(scope="module")
def fakesnow_parameters() -> Iterator[dict[str, Any]]:
    assert FAKESNOW_SERVER is not None, "fakesnow is a dev dependency"
    with FAKESNOW_SERVER() as parameters:
        yield parameters


@pytest.fixture(autouse=True)
def _third_engine_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.ENGINES, SQLiteEngine.adapter_type, SQLiteEngine)


def _config(root: Path) -> MeshConfig:
    return MeshConfig(root=root, name="m", domains_dir=root / "domains", state_dir=root / ".mesh",
                      default_target="t")


def _domain(root: Path, adapter: str) -> Path:
    folder = root / "domains" / "shop"
    folder.mkdir(parents=True)
    (folder / "dbt_project.yml").write_text("name: shop\nprofile: shop\n")
    (folder / "profiles.yml").write_text(f"shop:\n  target: t\n  outputs:\n    t:\n      type: {adapter}\n"
                                         "      account: acct\n      database: SHOP\n      warehouse: WH\n")
    return folder


def _online(engine_class: type[Engine], config: MeshConfig, request: pytest.FixtureRequest) -> Engine:
    """An engine of the class that can be reached: a fakesnow connection for Snowflake, a SQLite one for the
    test engine; an embedded engine is reachable as it is."""
    engine = engine_class(config, "t")
    if engine_class is SnowflakeEngine:
        connection = snowflake.connector.connect(**request.getfixturevalue("fakesnow_parameters"))
        request.addfinalizer(connection.close)
        return engine.with_connection(connection)
    if engine_class is SQLiteEngine:
        return engine.with_connection(sqlite3.connect(":memory:"))
    return engine


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_the_registry_finds_the_engine_of_a_domain_profile(engine_class: type[Engine], tmp_path: Path) -> None:
    domain = load_domain(_domain(tmp_path, engine_class.adapter_type))
    assert registry.engine_class(engine_class.adapter_type) is engine_class
    assert registry.adapter_type(domain, "t") == engine_class.adapter_type
    assert type(registry.engine_for(_config(tmp_path), [domain], "t")) is engine_class


def test_an_adapter_without_an_engine_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="'oracle' is not a mesh engine; the mesh supports duckdb, snowflake"):
        registry.engine_class("oracle")
    domain = load_domain(_domain(tmp_path, "oracle"))
    with pytest.raises(MeshError, match="uses adapter 'oracle'; the mesh supports duckdb, snowflake, sqlite_test"):
        registry.engine_for(_config(tmp_path), [domain], "t")


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_the_engine_declares_its_adapter_and_kind(engine_class: type[Engine]) -> None:
    assert engine_class.adapter_type and isinstance(engine_class.embedded, bool)
    assert metadata.version(engine_class.dbt_package)   # the parse cache keys on the adapter's version
    assert all(issubclass(error, BaseException) for error in engine_class.driver_errors())
    assert engine_class.driver_errors(), "an engine wraps its driver's errors"


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_type_spellings_round_trip(engine_class: type[Engine]) -> None:
    for data_type in HELD_BY_EVERY_ENGINE:
        assert engine_class.spell_type(data_type) is not None, data_type
    for data_type in CANONICAL:
        spelled = engine_class.spell_type(data_type)
        if spelled is not None:
            assert engine_class.spell_type(parse_type(spelled)) == spelled, data_type
    assert engine_class.spell_type(DataType("no_such_type")) is None


def test_snowflake_spells_every_canonical_type_exactly() -> None:
    for data_type in CANONICAL:
        assert parse_type(SnowflakeEngine.spell_type(data_type) or "") == data_type


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_contract_types_are_checked_and_spelled(engine_class: type[Engine]) -> None:
    native = engine_class.native_spelling("number(38,0)")
    assert native is not None and engine_class.contract_type_error(native) is None
    assert parse_type(native) == parse_type("number(38,0)")
    assert engine_class.contract_type_error("no_such_type(") is not None


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_the_server_description_has_the_export_shape(engine_class: type[Engine], tmp_path: Path) -> None:
    settings = {"account": "acct", "database": "SHOP", "warehouse": "WH"}
    described = engine_class(_config(tmp_path), "t").server("shop", "marts", lambda key: settings.get(key, ""))
    assert described["type"] in (engine_class.adapter_type, "custom") and described["schema"] == "marts"
    assert not {"server", "environment"} & set(described)
    assert all(isinstance(value, str) and value for value in described.values())
    domain = load_domain(_domain(tmp_path, engine_class.adapter_type))
    readers = {"producer": ["SHOP_DEPLOYER"], "consumer": ["ORDERS_DEPLOYER"]}
    found = servers(_config(tmp_path), domain, "marts", "t", readers, "shop.orders")
    if not engine_class.embedded:   # the database in place, read as the producer
        assert found == [{"server": "t", **described, "environment": "t",
                          "roles": [{"role": "SHOP_DEPLOYER", "access": "read"}]}]
        return
    # an embedded engine's servers are the test copies of each reader, described as the engine describes itself
    assert [s["server"] for s in found] == ["t-producer", "t-consumer"]
    for server, reader in zip(found, readers, strict=True):
        assert {k: v for k, v in server.items() if k not in ("server", "database", "description", "roles")} == \
            {**{k: v for k, v in described.items() if k != "database"}, "environment": "t"}
        assert server["database"] == f".mesh/contract-tests/t/shop.orders/{reader}.duckdb"
        assert server["roles"] == [{"role": readers[reader][0], "access": "read"}]


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_one_offline_answer(engine_class: type[Engine], tmp_path: Path, request: pytest.FixtureRequest,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SNOWFLAKE_ACCOUNT", raising=False)
    bare = engine_class(_config(tmp_path), "t")
    assert bare.offline == (bare.offline_reason is not None) and bare.offline != engine_class.embedded
    assert not _online(engine_class, _config(tmp_path), request).offline


def test_snowflake_is_online_with_credentials_in_the_environment(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SNOWFLAKE_ACCOUNT", raising=False)
    assert "SNOWFLAKE_ACCOUNT is not set" in (SnowflakeEngine(_config(tmp_path), "t").offline_reason or "")
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "org-acct")
    assert not SnowflakeEngine(_config(tmp_path), "t").offline   # deciding connects to nothing


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_driver_errors_are_wrapped_in_one_type(engine_class: type[Engine], tmp_path: Path,
                                               request: pytest.FixtureRequest) -> None:
    engine = _online(engine_class, _config(tmp_path), request)
    if engine.embedded:
        assert not engine.has_database("shop")
        connection = engine.open_database("shop")
        assert engine.has_database("shop")
        with pytest.raises(EngineError, match="no_such_table") as raised, engine.errors():
            connection.execute("select * from no_such_table")
        connection.close()
    else:
        assert engine.execute("select 1 as one") == [{"one": 1}]
        assert isinstance(engine.state_reader().show("DATABASES"), list)
        with pytest.raises(EngineError) as raised:
            engine.execute("select * from no_such_table")
    assert isinstance(raised.value.__cause__, engine_class.driver_errors())
    assert str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_the_other_kind_of_access_is_refused_by_name(engine_class: type[Engine], tmp_path: Path) -> None:
    engine = engine_class(_config(tmp_path), "t")
    refused = (lambda: engine.execute("select 1")) if engine.embedded else (lambda: engine.open_database("shop"))
    with pytest.raises(EngineError, match=f"the {engine_class.adapter_type} engine .* has no"):
        refused()


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_the_engine_says_where_a_domain_database_file_lies(engine_class: type[Engine], tmp_path: Path) -> None:
    """`mesh build` checks local database files through these (corrupt, missing), whatever the engine."""
    engine = engine_class(_config(tmp_path), "t")
    path = engine.database_file("shop")
    if not engine.embedded:   # an account holds the databases: no file to check
        assert path is None
        return
    assert path is not None and not path.exists()
    engine.open_database("shop").close()
    assert engine.is_database_file(path)
    path.write_text("not a database")
    assert not engine.is_database_file(path) and not engine.is_database_file(tmp_path / "absent")


def test_the_build_roles_are_read_from_the_engines_own_profile_settings(tmp_path: Path) -> None:
    """DuckDB's sessions hold the roles its profile's session plugin names; where a profile says nothing, the
    export's readers fall back to the domain's deployer role."""
    from mesh_cli.catalog.export.readers import build_roles

    plugin = {"module": "mesh_cli.engines.duckdb_session", "config": {"roles": ["ANALYST", "PII_READER"]}}
    assert DuckDBEngine.build_roles({"type": "duckdb", "plugins": [plugin]}) == ["ANALYST", "PII_READER"]
    assert DuckDBEngine.build_roles({"type": "duckdb"}) is None
    assert SnowflakeEngine.build_roles({"type": "snowflake", "role": "R"}) is None
    domain = load_domain(_domain(tmp_path, SQLiteEngine.adapter_type))
    assert build_roles(domain, "t") == ["SHOP_DEPLOYER"]


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_the_engine_says_what_it_reads_and_counts_not_which_it_is(engine_class: type[Engine], tmp_path: Path) -> None:
    """The dbt plugin asks which `sql_dialect`s a model may be written in (the engine's own last: nothing is
    transpiled); `mesh build` counts a domain's rows only where the engine says its adapter reports none."""
    dialects = engine_class.sql_dialects()
    assert dialects[-1] == engine_class.adapter_type
    assert (SNOWFLAKE_SQL in dialects) == (engine_class.previews_snowflake_sql or engine_class is SnowflakeEngine)
    if not engine_class.counts_built_rows:
        with pytest.raises(EngineError, match=f"the {engine_class.adapter_type} engine .* has no rows to count"):
            engine_class(_config(tmp_path), "t").stored_rows("shop", ["shop.main.t"])


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_the_side_door_rule_reads_sql_in_the_engines_dialect_and_as_its_sessions_govern(
        engine_class: type[Engine]) -> None:
    """The dbt plugin judges compiled SQL in the engine's own dialect (`sqlglot_dialect`, one sqlglot knows): another
    domain's relation that is not ref'd is refused on every engine; a session statement or a file read only where
    the engine emulates governance in its sessions, which they would step around (`emulates_governance`)."""
    from sqlglot.dialects.dialect import Dialect

    from mesh_cli.core.compiled_guard import refusal, scope_of

    Dialect.get_or_raise(engine_class.sqlglot_dialect)
    assert registry.sqlglot_dialect(engine_class.adapter_type) == engine_class.sqlglot_dialect
    assert registry.emulates_governance(engine_class.adapter_type) == engine_class.emulates_governance
    scope = scope_of("SHOP", ["SHOP", "TILL"], {"TILL": ("sales",)}, {"TILL": "till"}, ["TILL.MARTS.SALES"],
                     dialect=engine_class.sqlglot_dialect, emulated=engine_class.emulates_governance)
    assert refusal("select * from TILL.MARTS.SALES", scope) is None
    assert "reads TILL.STAGING.RAW of domain till directly" in str(refusal("select * from TILL.STAGING.RAW", scope))
    for around in ("set x = 1", "select * from read_csv('x.csv')"):
        assert (refusal(around, scope) is not None) == engine_class.emulates_governance, around


def test_an_adapter_without_an_engine_is_read_as_generic_sql_with_nothing_emulated() -> None:
    """A dbt project on an adapter the mesh has no engine for (no mesh domain; the plugin still judges its SQL) is
    read as sqlglot's generic SQL, with the relation rule only: nothing of the mesh's is emulated there."""
    assert registry.sqlglot_dialect("oracle") is None and not registry.emulates_governance("oracle")


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_mesh_query_reads_its_scope_from_an_embedded_session(engine_class: type[Engine], tmp_path: Path) -> None:
    """`mesh query` asks the session for the governed storage and the queried database's schemas; an account engine
    has no such session."""
    engine = engine_class(_config(tmp_path), "t")
    if not engine.embedded:
        for ask in (lambda: engine.session_tables(None, "mesh_protected"), lambda: engine.session_schemas(None, "x")):
            with pytest.raises(EngineError, match=f"the {engine_class.adapter_type} engine .* has no query sessions"):
                ask()
        return
    with engine.open_database("shop") as database:
        database.execute("create schema mesh_protected")
        database.execute("create table mesh_protected.marts__sales (id integer)")
        database.execute("create table main.other (id integer)")
    with engine.connect(load_domain(_domain(tmp_path, engine_class.adapter_type))) as session:
        assert engine.session_tables(session, "mesh_protected") == [("shop", "marts__sales")]
        assert {"main", "mesh_protected"} <= engine.session_schemas(session, "shop")
        assert engine.session_schemas(session, "absent") == set()


@pytest.mark.parametrize("engine_class", ENGINE_CLASSES)
def test_provisioning_plans_one_account_at_a_time_where_the_engines_accounts_follow_the_topology(
        engine_class: type[Engine], tmp_path: Path) -> None:
    """With `snowflake.topology: account_per_domain` a provisioning plan covers one domain where the engine's objects
    live in the topology's accounts (`accounts_follow_topology`); elsewhere the whole mesh is one plan."""
    from mesh_cli.provision.run import provision

    for name in ("shop", "till"):
        folder = tmp_path / "domains" / name
        folder.mkdir(parents=True)
        (folder / "dbt_project.yml").write_text(f"name: {name}\nprofile: {name}\n")
        (folder / "profiles.yml").write_text(f"{name}:\n  target: t\n  outputs:\n    t:\n"
                                             f"      type: {engine_class.adapter_type}\n")
    config = _config(tmp_path)
    config.settings["snowflake"] = {"topology": "account_per_domain",
                                    "accounts": {"shop": "RETAIL.SHOP", "till": "RETAIL.TILL"}}
    try:
        provision(config, target="t", plan_only=True)
        refused = ""
    except MeshError as exc:
        refused = str(exc)
    assert ("provision one domain at a time" in refused) == engine_class.accounts_follow_topology, refused


@pytest.mark.parametrize("engine_class", [SnowflakeEngine, SQLiteEngine])
def test_an_engine_without_local_profiles_reports_nothing_of_them(engine_class: type[Engine], tmp_path: Path) -> None:
    """`mesh init --adopt` asks the mesh's local default engine alone; another engine finds no problem in a profile
    output, no collision, and writes no output of its own."""
    output = ProfileOutput("shop", tmp_path, {"path": "shop.db"}, {"path": "shop.db"}, ())
    assert list(engine_class.profile_problems([output], "dev")) == []
    assert engine_class.output_collisions({"a": {"path": "x"}, "b": {"path": "x"}}) == {}
    with pytest.raises(NotImplementedError):
        engine_class.local_profile_output("shop", tmp_path, tmp_path / ".mesh", ())


def test_duckdb_says_what_stands_in_the_way_of_its_profile_outputs(tmp_path: Path) -> None:
    """DuckDB's answers to `mesh init --adopt`: a database in memory, a path dbt resolves from the folder it runs in
    (an edit only where the path is written as it renders), an upstream's file not attached; files of one name."""
    mesh_path = "{{ env_var('MESH_DUCKDB_DIR', '%s') }}/%s"
    up = ProfileOutput("up", tmp_path / "up", {"path": "up.duckdb"}, {"path": "up.duckdb"}, ())
    memory = ProfileOutput("mem", tmp_path / "mem", {"path": ":memory:"}, {"path": ":memory:"}, ())
    lookups = [{"path": "lookups.duckdb"}]
    down = ProfileOutput("down", tmp_path / "down", {"path": "files/down.duckdb", "attach": lookups},
                         {"path": "{{ env_var('FILES', 'files') }}/down.duckdb", "attach": lookups}, ("up", "mem"))
    # relative as rendered, but read from MESH_DUCKDB_DIR under `mesh build`: nothing stands in the way
    built = ProfileOutput("built", tmp_path / "built", {"path": "../db/built.duckdb"},
                          {"path": mesh_path % ("../db", "built.duckdb")}, ())
    problems = list(DuckDBEngine.profile_problems([up, memory, down, built], "dev"))
    assert [(p.project, p.problem.split(":")[0].split(";")[0], p.edit) for p in problems] == [
        ("up", "DuckDB path 'up.duckdb' is relative", ("path: up.duckdb", f'path: "{mesh_path % (".", "up.duckdb")}"')),
        ("mem", "target 'dev' keeps its DuckDB database in memory", None),
        ("down", "DuckDB path 'files/down.duckdb' is relative", None),        # written through a template: no edit
        ("down", "attached DuckDB path 'lookups.duckdb' is relative to the folder dbt runs from",
         ("path: lookups.duckdb", f'path: "{mesh_path % (".", "lookups.duckdb")}"')),
        ("down", f"its DuckDB target does not attach the database of upstream up ({tmp_path / 'up/up.duckdb'}), so "
                 "refs to up cannot be read", None)]
    assert mesh_path % (".", "mem.duckdb") in problems[1].fix and mesh_path % ("../up", "up.duckdb") in problems[4].fix
    collisions = DuckDBEngine.output_collisions({"a": {"path": "/x/dev.duckdb"}, "b": {"path": "dev.duckdb"},
                                                 "c": {"path": "c.duckdb"}, "m": {}, "n": {"path": ":memory:"}})
    assert sorted(collisions) == ["a", "b"] and "its DuckDB file dev.duckdb has the name of b's" in collisions["a"]


def test_duckdbs_local_output_builds_into_the_engines_own_database_file(tmp_path: Path) -> None:
    """The output `local` adoption writes keeps the project's database where the DuckDB engine opens it (its
    default folder relative to the project, as dbt renders `env_var` without MESH_DUCKDB_DIR), upstreams attached."""
    project = tmp_path / "analytics" / "shop"
    written = DuckDBEngine.local_profile_output("shop", project, tmp_path / ".mesh", ("core",))
    output = yaml.safe_load("\n".join(written.lines))
    render = jinja2.Environment().from_string
    assert output["type"] == "duckdb" and written.holds == "its own file shop.duckdb"
    engine = DuckDBEngine(_config(tmp_path), "t")
    assert (project / render(output["path"]).render(env_var=lambda _, default: default)).resolve() == \
        engine.database_path("shop")
    [attached] = output["attach"]
    assert (attached["alias"], attached["read_only"]) == ("core", True)
    assert (project / render(attached["path"]).render(env_var=lambda _, default: default)).resolve() == \
        engine.database_path("core")
    assert render(output["path"]).render(env_var=lambda _, default: "/elsewhere") == "/elsewhere/shop.duckdb"


def test_one_snowflake_connection_from_the_dbt_profile(fakesnow_parameters: dict[str, Any]) -> None:
    profile = {"account": "org-acct", "user": "U", "password": "", "private_key_path": "/k.p8",
               "private_key_passphrase": "pw", "authenticator": "snowflake_jwt", "role": "R", "warehouse": "WH",
               "database": "DB", "schema": "MARTS", "port": "8080", "query_tag": "mesh", "threads": 8,
               "type": "snowflake"}
    assert connection_parameters(profile) == {
        "account": "org-acct", "user": "U", "private_key_file": "/k.p8", "private_key_file_pwd": "pw",
        "authenticator": "snowflake_jwt", "role": "R", "warehouse": "WH", "database": "DB", "schema": "MARTS",
        "port": 8080, "session_parameters": {"QUERY_TAG": "mesh"}}
    with pytest.raises(MeshError, match="SNOWFLAKE_ACCOUNT is not set"):
        connection_parameters({"user": "U"})
    keys = ("account", "user", "password", "host", "port", "protocol")
    with connect({key: fakesnow_parameters[key] for key in keys}) as connection:
        assert connection.cursor().execute("select 42").fetchone() == (42,)


def test_features_reach_a_third_engine_through_the_interface(tmp_path: Path) -> None:
    """Publishing picks its backend by the engine's kind and offline answer, not by adapter name."""
    from mesh_cli.shares.backends import OfflineBackend, backend_for

    config = _config(tmp_path)
    assert isinstance(backend_for(config, "t", "shop", SQLiteEngine.adapter_type, plan_only=True), OfflineBackend)
    with pytest.raises(MeshError, match="no SQLite connection was given"):
        backend_for(config, "t", "shop", SQLiteEngine.adapter_type, plan_only=False)


def test_mesh_query_refuses_an_account_engine_by_its_kind(mesh_copy: Path) -> None:
    from mesh_cli.core.config import load_config
    from mesh_cli.governance.query import run_query

    with pytest.raises(MeshError, match="target 'prod' is snowflake: query it with your own client and role"):
        run_query(load_config(mesh_copy), "customers", "select 1", [], "prod")


# --- every command through the third engine -------------------------------------------------------------------------
LITE = "lite"   # the target of the example mesh on the third engine


class RecordingEngine(SQLiteEngine):
    """The test engine, reachable, keeping every statement it is sent; every engine of one test reaches the one
    in-memory SQLite account (`account`), so a second command sees what the first left."""

    received: ClassVar[list[str]] = []
    account: ClassVar[sqlite3.Connection]

    def __init__(self, config: MeshConfig, target: str, connection: sqlite3.Connection | None = None) -> None:
        super().__init__(config, target, connection or self.account)

    def execute(self, sql: str) -> list[dict[str, Any]]:
        self.received.append(sql)
        return super().execute(sql)


@pytest.fixture
def lite_mesh(tmp_path: Path, built_mesh: tuple[Path, BuildReport], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example mesh with a target `lite` on the third engine in every domain profile, and the manifests a build
    there saves (the session's DuckDB build's, adapter renamed: no dbt adapter exists for the test engine)."""
    root = copy_mesh(tmp_path / "mesh")
    for profiles in sorted(root.glob("domains/*/profiles.yml")):
        name = profiles.parent.name
        output = f"    {LITE}:\n      type: {SQLiteEngine.adapter_type}\n      database: {name.upper()}\n"
        profiles.write_text(profiles.read_text().replace("  outputs:\n", "  outputs:\n" + output, 1))
        manifest = json.loads((built_mesh[0] / ".mesh" / "state" / "dev" / name / "manifest.json").read_text())
        manifest["metadata"]["adapter_type"] = SQLiteEngine.adapter_type
        saved = root / ".mesh" / "state" / LITE / name / "manifest.json"
        saved.parent.mkdir(parents=True)
        saved.write_text(json.dumps(manifest))
    monkeypatch.setitem(registry.ENGINES, SQLiteEngine.adapter_type, RecordingEngine)
    monkeypatch.setattr(RecordingEngine, "received", [])
    account = sqlite3.connect(":memory:", check_same_thread=False)
    monkeypatch.setattr(RecordingEngine, "account", account, raising=False)
    return root


def _planned(output: str) -> list[str]:
    """The statements of a command's JSON output: the `sql` of each planned statement (plans), and each of a
    `statements` list of SQL text (`mesh governance --plan`)."""
    start = min((i for i in (output.find("{"), output.find("[")) if i >= 0), default=-1)
    if start < 0:
        return []
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("sql"), str):
                found.append(value["sql"])
            found.extend(sql for sql in value.get("statements") or () if isinstance(sql, str))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(json.JSONDecoder().raw_decode(output[start:])[0])
    return found


def test_foreign_sql_refuses_what_sqlite_does_not_run_and_accepts_its_own() -> None:
    """Column types must be the engine's own spellings (SQLite accepts any type name), a table-valued function one
    SQLite has (it compiles an unknown one as a missing table), and one statement is sent at a time."""
    foreign = {"CREATE TABLE t (a NUMBER(38,0), b VARIANT, c TIMESTAMP_NTZ(9))": "column a has type NUMBER(38,0)",
               "CREATE TABLE s.t (a INTEGER, b JSON)": "column b has type JSON",
               "ALTER TABLE t ADD COLUMN c VARIANT": "column c has type VARIANT",
               "ALTER TABLE s.t ADD COLUMN c BIGINT": "column c has type BIGINT",
               "select * from read_csv('x.csv')": "no table-valued function read_csv",
               "create or replace table t (a INTEGER)": "syntax error",
               "COPY INTO t FROM @s/ FILE_FORMAT = (TYPE = CSV)": "syntax error",
               "CREATE ROLE r COMMENT = 'x'": "syntax error",
               "CREATE SCHEMA IF NOT EXISTS s": "syntax error",
               "select 1; select 2": "one statement at a time"}
    for sql, why in foreign.items():
        assert why in (foreign_sql(sql) or ""), sql
    own = ["CREATE TABLE s.t (a INTEGER, b NUMERIC(10,2), c TEXT, d REAL, e BLOB, f DATE, g BOOLEAN, h TIMESTAMP)",
           "ALTER TABLE s.t ADD COLUMN z TEXT", "ATTACH DATABASE ':memory:' AS s", "BEGIN", "COMMIT",
           "INSERT INTO s.t (a, c) VALUES (1, 'x'), (2, NULL)", "SELECT name FROM pragma_database_list",
           "SELECT name AS column_name FROM pragma_table_info('t', 's')", "SELECT value FROM json_each('[1]')",
           "CREATE VIEW s.v AS SELECT CAST(json_extract(r, '$.id') AS INTEGER) AS id FROM t"]
    assert {sql: foreign_sql(sql) for sql in own} == dict.fromkeys(own)
    for data_type in CANONICAL:   # what the engine spells is its own
        if (spelled := SQLiteEngine.spell_type(data_type)) is not None:
            assert foreign_sql(f"CREATE TABLE t (a {spelled})") is None, spelled


NO_ADAPTER = "Could not find adapter type sqlite_test"   # what dbt says: no dbt-sqlite is installed
SOME = -1   # a command that lands data: the engine receives statements (how many depends on the files)
# (args, exit code, a phrase of the output, the statements the engine receives or is shown in a plan). A command
# that does not touch the engine sends nothing; one needing what the engine lacks (a dbt adapter, provisioning,
# shares) stops with one line saying so, before it sends anything.
COMMANDS = [
    pytest.param(("list", "--target", LITE), 0, "customers.customer_master", 0, id="list"),
    pytest.param(("graph", "--target", LITE), 0, "customers", 0, id="graph"),
    pytest.param(("product", "customers.customer_master", "--target", LITE), 0, "dim_customers", 0, id="product"),
    pytest.param(("state", "list", "--target", LITE), 0, "", 0, id="state"),
    pytest.param(("state", "pull", "customers", "--target", LITE), 0, "customers: no record yet", 0,
                 id="state-pull"),
    pytest.param(("catalog", "--target", LITE, "--out", "{root}/site"), 0, "", 0, id="catalog"),
    pytest.param(("export", "odcs", "customers.dim_customers", "--target", LITE), 0, "type: custom", 0,
                 id="export"),
    pytest.param(("export", "odps", "customers.customer_master", "--target", LITE), 0, "customer_master", 0,
                 id="export-odps"),
    pytest.param(("export", "test-data", "customers.dim_customers", "--target", LITE), 2,
                 "test copies are for the local engine", 0, id="export-test-data"),
    pytest.param(("package-path",), 0, "", 0, id="package-path"),
    pytest.param(("init", "mesh", "{root}/new"), 0, "", 0, id="init-mesh"),
    pytest.param(("init", "domain", "shop", "--owner", "shop@example.com"), 0, "", 0, id="init-domain"),
    pytest.param(("init", "workflow"), 0, "", 0, id="init-workflow"),
    pytest.param(("init", "mesh", "{root}/domains", "--adopt", "{root}/domains/customers"), 0, "adopted 1 project",
                 0, id="init-adopt"),
    pytest.param(("orchestrate", "graph", "--target", LITE), 0, "customers", 0, id="orchestrate-graph"),
    pytest.param(("check", "--target", LITE, "--baseline", "{root}/.mesh/state/lite"), 2, NO_ADAPTER, 0, id="check"),
    pytest.param(("query", "customers", "select 1", "--target", LITE), 1, "query it with your own client", 0,
                 id="query"),
    pytest.param(("governance", "--plan", "--target", LITE, "--format", "json"), 2, NO_ADAPTER, 0, id="governance"),
    pytest.param(("ingest", "--target", LITE, "--plan", "--format", "json"), 0, "CREATE TABLE", SOME,
                 id="ingest-plan"),
    pytest.param(("ingest", "--target", LITE), 0, "customers", SOME, id="ingest"),
    pytest.param(("build", "--target", LITE), 2, NO_ADAPTER, 0, id="build"),
    pytest.param(("provision", "--target", LITE, "--plan", "--format", "json"), 1, "engine) has no provisioning", 0,
                 id="provision-plan"),
    pytest.param(("provision", "--target", LITE), 1, "engine) has no provisioning", 0, id="provision"),
    pytest.param(("publish", "--target", LITE, "--plan", "--format", "json"), 1, "engine) has no shares to publish",
                 0, id="publish-plan"),
    pytest.param(("publish", "--target", LITE), 1, "engine) has no shares to publish", 0, id="publish"),
]


@pytest.mark.parametrize(("args", "exit_code", "says", "statements"), COMMANDS)
def test_every_command_sends_the_third_engine_its_own_sql(lite_mesh: Path, args: tuple[str, ...],
                                                          exit_code: int, says: str, statements: int) -> None:
    """Whatever a command plans or runs on the test engine is SQLite's SQL: no statement of Snowflake's or DuckDB's
    comes out, and a command that lands data does send statements. A command needing what the engine lacks (a dbt
    adapter, provisioning, shares) stops with one line saying so, having sent nothing."""
    result = run_cli(lite_mesh, *(arg.format(root=lite_mesh) for arg in args))
    sent = [*RecordingEngine.received, *(_planned(result.output) if "json" in args else [])]
    foreign = {sql.splitlines()[0][:200]: why for sql in sent if (why := foreign_sql(sql)) is not None}
    assert not foreign, f"{len(foreign)} of {len(sent)} statements are not SQLite's, e.g. {next(iter(foreign.items()))}"
    assert result.exit_code != EXIT_INTERNAL, result.output
    assert (result.exit_code, says in result.output) == (exit_code, True), result.output[-2000:]
    assert len(sent) > 0 if statements == SOME else len(sent) == statements, sent[:5]


def _landed(table: str) -> tuple[int, list[tuple[str, str]]]:
    """The rows of a landing table of the test engine's account, and its columns with their declared types."""
    rows = RecordingEngine.account.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    schema, name = table.split(".")
    return rows, RecordingEngine.account.execute(f"SELECT name, type FROM pragma_table_info('{name}', '{schema}')"
                                                 ).fetchall()


def test_the_third_engine_lands_each_file_once_from_the_neutral_declarations(lite_mesh: Path) -> None:
    """`mesh ingest` on the test engine: landing tables made from the engine-neutral declarations in the engine's
    own spellings, every file's rows loaded; a second run changes nothing and loads nothing; a column added in
    YAML is planned as ALTER TABLE ... ADD COLUMN, a retyped one is refused without --full-refresh."""
    assert run_cli(lite_mesh, "ingest", "--target", LITE).exit_code == 0
    first = {table: _landed(table) for table in ("customers_landing.customers", "orders_landing.order_events_records",
                                                 "orders_landing.products")}
    rows, columns = first["customers_landing.customers"]
    assert rows == 2000 and columns[:2] == [("customer_id", "INTEGER"), ("first_name", "TEXT")]
    assert ("birth_date", "DATE") in columns and columns[-2:] == [("_file_last_modified", "TIMESTAMP"),
                                                                   ("_loaded_at", "TIMESTAMP")]
    assert all(rows > 0 for rows, _ in first.values())
    assert ("category", "TEXT") in first["orders_landing.products"][1]
    typed = RecordingEngine.account.execute("SELECT order_id, status FROM orders_landing.order_events "
                                            "WHERE order_id = 100001").fetchall()
    assert typed == [(100001, "delivered")]
    RecordingEngine.received.clear()
    again = run_cli(lite_mesh, "ingest", "--target", LITE)
    assert again.exit_code == 0, again.output
    assert {table: _landed(table) for table in first} == first
    assert all(sql.startswith("SELECT") for sql in RecordingEngine.received), RecordingEngine.received
    sources = lite_mesh / "domains" / "customers" / "models" / "staging" / "_sources.yml"
    declared = sources.read_text()
    sources.write_text(declared.replace("          - {name: signup_date,",
                                        "          - {name: tier, data_type: 'number(10,2)'}\n"
                                        "          - {name: signup_date,"))
    planned = run_cli(lite_mesh, "ingest", "-s", "customers", "--target", LITE, "--plan", "--format", "json")
    assert _planned(planned.output) == ["ALTER TABLE customers_landing.customers ADD COLUMN tier NUMERIC(10,2)"]
    sources.write_text(declared.replace("{name: signup_date, data_type: date", "{name: signup_date, data_type: text"))
    refused = run_cli(lite_mesh, "ingest", "-s", "customers", "--target", LITE)
    assert refused.exit_code == 2 and "signup_date DATE → TEXT" in refused.output, refused.output
    sources.write_text(declared)   # on_error: abort_statement: a value that does not cast fails the load whole
    landing = lite_mesh / "domains" / "customers" / "landing" / "customers"
    header = (landing / "customers_0001.csv").read_text().splitlines()[0]
    (landing / "customers_0003.csv").write_text(f"{header}\n9001,A,B,a@b.c,1,1990-01-01,EMEA,DE,2024-01-01\n"
                                                "x9002,C,D,c@d.e,2,1991-02-02,NA,US,2024-02-02\n")
    failed = run_cli(lite_mesh, "ingest", "-s", "customers", "--target", LITE)
    assert failed.exit_code == 1, failed.output
    assert "customers_0003.csv row 2: customer_id = 'x9002'" in failed.output, failed.output
    assert _landed("customers_landing.customers") == first["customers_landing.customers"]
