"""A minimal third engine, for tests only: an account engine over an in-memory SQLite database.

It implements what docs/engines.md asks of a new account engine, and ingestion (`plan_ingestion` and `ingest`,
tests/engine_contract_ingest.py) from the engine-neutral declarations, and passes the same contract tests
(tests/test_engine_contract.py) as the DuckDB and Snowflake engines, which shows the interface is complete.
`foreign_sql` tells whether a statement it is sent is SQLite's own: every command runs through it and must send
it no Snowflake or DuckDB SQL.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

import sqlglot
from engine_contract_ingest import load_files, loaded, pending, plan_landing, text
from sqlglot import exp
from sqlglot.errors import SqlglotError

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.ingest_spec import Ingested, IngestOptions, IngestTable, TableLoad, list_files
from mesh_cli.core.plan import Plan, StateReader
from mesh_cli.core.profiles import target_database
from mesh_cli.core.types import DataType, parse_type
from mesh_cli.engines.base import Engine

# SQLite keeps JSON documents as TEXT (https://sqlite.org/json1.html), and dates and times as ISO-8601 text
# (https://sqlite.org/datatype3.html#date_and_time_datatype) in columns declared DATE or TIMESTAMP (numeric affinity,
# which keeps such text as it is); a time zone's offset stays in the text of a TEXT column.
_SPELLING = {"varchar": "TEXT", "float": "REAL", "binary": "BLOB", "date": "DATE", "boolean": "BOOLEAN",
             "timestamp_ntz": "TIMESTAMP", "timestamp_tz": "TEXT", "variant": "TEXT", "object": "TEXT",
             "array": "TEXT"}
# SQLite's own table-valued functions: the JSON walkers and the PRAGMA functions
# (https://sqlite.org/json1.html#jeach, https://sqlite.org/pragma.html#pragfunc)
_TABLE_FUNCTIONS = ("json_each", "json_tree", "pragma_")
# What SQLite's compiler says of an object the statement names that the scratch database lacks: no matter here.
_MISSING = ("no such table", "unknown database")
_STRING = re.compile(r"'(?:[^']|'')*'")
# A table function is called where a table is named: after FROM, JOIN or a comma of a FROM list.
_MAY_CALL_A_TABLE_FUNCTION = re.compile(r"(?:\bFROM|\bJOIN|,)\s*[A-Za-z_][\w.]*\s*\(", re.IGNORECASE)
_DECLARES = re.compile(r"\s*(?:CREATE|ALTER)\b", re.IGNORECASE)


def foreign_sql(sql: str) -> str | None:
    """Why `sql` is not SQLite's SQL (None when it is): SQLite's own parser must compile it as one statement (an
    object it names not existing is no matter; a role, stage or share is a syntax error); it may call no
    table-valued function SQLite lacks; and every column type it declares must be one the engine spells
    (`SQLiteEngine.spell_type`), as SQLite keeps it. SQLite reads it first (sqlglot's parser can run away on another
    dialect's syntax: `COPY INTO t FROM @s/`); sqlglot's sqlite dialect reads only a statement that may call a
    table function or declares columns (the loads' long VALUES lists need no second parser)."""
    try:
        sqlite3.connect(":memory:").execute(f"EXPLAIN {sql}")
    except sqlite3.Error as exc:
        if not str(exc).startswith(_MISSING):
            return f"SQLite refuses it: {exc}"
    may_call = _MAY_CALL_A_TABLE_FUNCTION.search(_STRING.sub("''", sql)) is not None
    if not (may_call or _DECLARES.match(sql)):
        return None
    try:
        statement = sqlglot.parse_one(sql, read="sqlite", error_level=sqlglot.ErrorLevel.RAISE)
    except SqlglotError as exc:
        return f"sqlglot's sqlite dialect cannot parse it: {str(exc).splitlines()[0]}"
    if (why := _foreign_function(statement)) is not None:
        return why
    declares = (isinstance(statement, exp.Create) and str(statement.args.get("kind") or "").upper() == "TABLE"
                and not statement.expression) or (isinstance(statement, exp.Alter) and
                                                  statement.find(exp.ColumnDef) is not None)
    return _foreign_types(sql, statement) if declares else None


def _foreign_function(statement: exp.Expr) -> str | None:
    """A table-valued function SQLite lacks, which its compiler reads as a missing table."""
    for table in statement.find_all(exp.Table):
        function = table.this
        if isinstance(function, exp.Func):
            name = function.name if isinstance(function, exp.Anonymous) else function.sql_name()
            if not name.lower().startswith(_TABLE_FUNCTIONS):
                return f"SQLite has no table-valued function {name.lower()}"
    return None


def _foreign_types(sql: str, statement: exp.Expr) -> str | None:
    """The first column type a CREATE TABLE or ALTER TABLE ... ADD COLUMN declares that is not the engine's own:
    the statement runs in a scratch database, which keeps each declared type as written."""
    table = statement.find(exp.Table)
    assert table is not None
    scratch = sqlite3.connect(":memory:")
    schema = table.db or "main"
    try:
        if schema not in ("main", "temp"):
            scratch.execute(f'ATTACH DATABASE ":memory:" AS "{schema}"')
        if isinstance(statement, exp.Alter):
            scratch.execute(f'CREATE TABLE "{schema}"."{table.name}" (_mesh_probe)')
        scratch.execute(sql)
    except sqlite3.Error as exc:
        return f"SQLite refuses it: {exc}"
    for _, column, declared, *_ in scratch.execute(f'PRAGMA "{schema}".table_info("{table.name}")'):
        if column != "_mesh_probe" and declared and SQLiteEngine.spell_type(parse_type(declared)) != declared:
            return f"column {column} has type {declared}, which the sqlite_test engine does not spell"
    return None


class SQLiteEngine(Engine):
    """An account engine whose account is one SQLite connection (each statement commits itself unless a BEGIN it
    is sent opens a transaction). Its state is read from SQLite's own catalogue (`SQLiteState`)."""

    adapter_type = "sqlite_test"
    dbt_package = "dbt-core"   # no dbt-sqlite here: any installed distribution keys the parse cache
    embedded = False
    sqlglot_dialect = "sqlite"

    def __init__(self, config: MeshConfig, target: str, connection: sqlite3.Connection | None = None) -> None:
        super().__init__(config, target)
        self._connection = connection
        if connection is not None:
            connection.isolation_level = None   # no implicit transactions: BEGIN and COMMIT are statements sent

    @classmethod
    def driver_errors(cls) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def with_connection(self, connection: Any) -> SQLiteEngine:
        return type(self)(self.config, self.target, connection)

    @property
    def offline_reason(self) -> str | None:
        return None if self._connection is not None else "no SQLite connection was given"

    def execute(self, sql: str) -> list[dict[str, Any]]:
        if self._connection is None:
            raise self.wrap_error(sqlite3.OperationalError(self.offline_reason))
        with self.errors():
            cursor = self._connection.execute(sql)
            names = [column[0].lower() for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def state_reader(self) -> StateReader:
        return SQLiteState(self)

    def plan_ingestion(self, domain: Domain, tables: list[IngestTable], reader: StateReader, *, full_refresh: bool,
                       offline: bool) -> Plan:
        """The landing schemas, tables, Kafka views and load history (tests/engine_contract_ingest.py)."""
        return plan_landing(domain.name, tables, target_database(domain, self.target), reader, self.spell_type,
                            full_refresh=full_refresh, offline=offline)

    def ingest(self, domain: Domain, tables: list[IngestTable], options: IngestOptions) -> Ingested:
        """The landing objects as the base class reconciles them (`plan_ingestion`, applied with `execute`), then
        each table's new files loaded with `execute` (SQLite reads no file itself); with `plan_only`, the files a
        run would load."""
        done = super().ingest(domain, tables, options)
        if done.applied is not None and not done.applied.ok:
            return done
        database = target_database(domain, self.target)
        for table in tables:
            files = list_files(table, domain.path)
            if options.plan_only:
                history = set() if self.offline else loaded(self.execute, table, database)
                done.tables.append(TableLoad(table.label, table.mode,
                                             pending=[f.name for f in pending(files, history, table)]))
            else:
                done.tables.append(load_files(self.execute, table, database, files, self.spell_type))
        return done

    @classmethod
    def spell_type(cls, data_type: DataType) -> str | None:
        if data_type.base == "number":
            return "INTEGER" if data_type.size[1] == 0 else f"NUMERIC({data_type.size[0]},{data_type.size[1]})"
        return _SPELLING.get(data_type.base)

    def server(self, domain: str, schema: str, setting: Callable[[str], str]) -> dict[str, Any]:
        # ODCS names no SQLite server type: a `custom` one (odcs-json-schema-v3.2.0.json, ServerSource/CustomServer)
        return {"type": "custom", "database": setting("database") or ":memory:", "schema": schema}


class SQLiteState:
    """A StateReader over SQLite's catalogue: SCHEMAS (the attached databases), TABLES and VIEWS `IN SCHEMA s`
    (with their SQL as `text`), COLUMNS `IN TABLE s.t`, each one query sent through the engine; nothing of any
    other kind (SQLite has no roles, grants or shares)."""

    def __init__(self, engine: SQLiteEngine) -> None:
        self.engine = engine
        self.queries = 0

    def show(self, kind: str, scope: str | None = None, like: str | None = None) -> list[dict[str, Any]]:
        self.queries += 1
        where = scope.split()[-1] if scope else ""
        if kind == "SCHEMAS":
            return self.engine.execute("SELECT name FROM pragma_database_list")
        if kind in ("TABLES", "VIEWS") and where:
            return self.engine.execute(f"SELECT name, sql AS text FROM {where}.sqlite_schema "
                                       f"WHERE type = {text(kind[:-1].lower())}")
        if kind == "COLUMNS" and "." in where:
            schema, table = where.split(".", 1)
            return self.engine.execute(f"SELECT name AS column_name, type AS data_type "
                                       f"FROM pragma_table_info({text(table)}, {text(schema)})")
        return []   # roles, grants, shares, ...: SQLite has none
