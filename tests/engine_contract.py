"""A minimal third engine, for tests only: an account engine over an in-memory SQLite database.

It implements exactly what docs/engines.md asks of a new engine, and passes the same contract tests
(tests/test_engine_contract.py) as the DuckDB and Snowflake engines, which shows the interface is complete.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.plan import RecordedState, StateReader
from mesh_cli.core.types import DataType
from mesh_cli.engines.base import Engine

_SPELLING = {"varchar": "TEXT", "float": "REAL", "binary": "BLOB", "date": "DATE", "boolean": "BOOLEAN"}


class SQLiteEngine(Engine):
    """An account engine whose account is one SQLite connection; its SHOW state is recorded (empty by default)."""

    adapter_type = "sqlite_test"
    dbt_package = "dbt-core"   # no dbt-sqlite here: any installed distribution keys the parse cache
    embedded = False

    def __init__(self, config: MeshConfig, target: str, connection: sqlite3.Connection | None = None,
                 state: dict[str, list[dict[str, Any]]] | None = None) -> None:
        super().__init__(config, target)
        self._connection = connection
        self._state = state or {}

    @classmethod
    def driver_errors(cls) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def with_connection(self, connection: Any) -> SQLiteEngine:
        return SQLiteEngine(self.config, self.target, connection, self._state)

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
        return {"type": self.adapter_type, "database": setting("path") or ":memory:", "schema": schema}
