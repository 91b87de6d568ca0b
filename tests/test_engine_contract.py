"""The engine contract: what every engine behind `mesh_cli.engines.base.Engine` must do, run over the DuckDB and
Snowflake engines (Snowflake on a fakesnow server where it connects) and over a minimal test-only third engine
(tests/engine_contract.py), which shows that a new engine needs nothing beyond docs/engines.md."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import snowflake.connector
from engine_contract import SQLiteEngine
from ingest_helpers import FAKESNOW_SERVER

from mesh_cli.catalog.export.servers import servers
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import load_domain
from mesh_cli.core.errors import EngineError, MeshError
from mesh_cli.core.types import DataType, parse_type
from mesh_cli.engines import registry
from mesh_cli.engines.base import Engine
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
    assert described["type"] == engine_class.adapter_type and described["schema"] == "marts"
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
