"""A minimal third engine, for tests only: an account engine over an in-memory SQLite database.

It implements exactly what docs/engines.md asks of a new engine, and passes the same contract tests
(tests/test_engine_contract.py) as the DuckDB and Snowflake engines, which shows the interface is complete.
`foreign_sql` tells whether a statement it is sent is SQLite's own: every command runs through it and must send
it no Snowflake or DuckDB SQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.plan import RecordedState, StateReader
from mesh_cli.core.types import DataType
from mesh_cli.engines.base import Engine

# SQLite keeps JSON documents as TEXT (https://sqlite.org/json1.html)
_SPELLING = {"varchar": "TEXT", "float": "REAL", "binary": "BLOB", "date": "DATE", "boolean": "BOOLEAN",
             "variant": "TEXT", "object": "TEXT", "array": "TEXT"}
# What SQLite runs (https://sqlite.org/lang.html): no roles, grants, schemas, databases, stages or shares.
_STATEMENTS = (exp.Select, exp.SetOperation, exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Alter,
               exp.Pragma, exp.Transaction, exp.Commit, exp.Rollback, exp.Attach, exp.Detach)
_OBJECTS = {"TABLE", "VIEW", "INDEX", "TRIGGER"}


def foreign_sql(sql: str) -> str | None:
    """Why `sql` is not SQLite's SQL (None when it is): sqlglot's sqlite dialect must parse it into statements
    SQLite has, on objects SQLite has, and SQLite's own parser must compile it (an unknown table is no matter)."""
    try:
        statements = sqlglot.parse(sql, read="sqlite", error_level=sqlglot.ErrorLevel.RAISE)
    except SqlglotError as exc:
        return f"sqlglot's sqlite dialect cannot parse it: {str(exc).splitlines()[0]}"
    for statement in statements:
        if isinstance(statement, exp.Command):
            return f"sqlglot's sqlite dialect knows no {statement.name.upper()} statement of this form"
        if not isinstance(statement, _STATEMENTS):
            return f"SQLite has no {type(statement).__name__.upper()} statement"
        kind = str(statement.args.get("kind") or "TABLE").upper()
        if isinstance(statement, exp.Create | exp.Drop | exp.Alter) and kind not in _OBJECTS:
            return f"SQLite has no {kind} objects"
        if isinstance(statement, exp.Create) and statement.args.get("replace"):
            return "SQLite has no CREATE OR REPLACE"
    try:
        sqlite3.connect(":memory:").execute(f"EXPLAIN {sql}")
    except sqlite3.OperationalError as exc:
        if not str(exc).startswith("no such table"):
            return f"SQLite refuses it: {exc}"
    return None


class SQLiteEngine(Engine):
    """An account engine whose account is one SQLite connection; its SHOW state is recorded (empty by default)."""

    adapter_type = "sqlite_test"
    dbt_package = "dbt-core"   # no dbt-sqlite here: any installed distribution keys the parse cache
    embedded = False
    sqlglot_dialect = "sqlite"

    def __init__(self, config: MeshConfig, target: str, connection: sqlite3.Connection | None = None,
                 state: dict[str, list[dict[str, Any]]] | None = None) -> None:
        super().__init__(config, target)
        self._connection = connection
        self._state = state or {}

    @classmethod
    def driver_errors(cls) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def with_connection(self, connection: Any) -> SQLiteEngine:
        return type(self)(self.config, self.target, connection, self._state)

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
        return RecordedState(self._state)

    @classmethod
    def spell_type(cls, data_type: DataType) -> str | None:
        if data_type.base == "number":
            return "INTEGER" if data_type.size[1] == 0 else f"NUMERIC({data_type.size[0]},{data_type.size[1]})"
        return _SPELLING.get(data_type.base)

    def server(self, domain: str, schema: str, setting: Callable[[str], str]) -> dict[str, Any]:
        # ODCS names no SQLite server type: a `custom` one (odcs-json-schema-v3.2.0.json, ServerSource/CustomServer)
        return {"type": "custom", "database": setting("database") or ":memory:", "schema": schema}
