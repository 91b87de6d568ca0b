"""A state store on a Snowflake internal stage, through the connection the prod profile describes (the
SNOWFLAKE_* variables the domain profiles read: README), so `mesh.yml` holds no credentials.

A stage has no conditional PUT (https://docs.snowflake.com/en/sql-reference/sql/put: `OVERWRITE` is all or
nothing), so the generation of each object lives in a table beside the stage, `<db>.<schema>.MESH_STATE_OBJECTS`:
a write first PUTs its bytes under a file name of their own (nothing existing is touched), then moves the
object's row to that file only if the row still holds the generation the writer read, in one UPDATE (or a
MERGE that inserts only when no row exists). UPDATE, MERGE and DELETE on one table wait for each other's lock
(https://docs.snowflake.com/en/sql-reference/transactions#resource-locking), so exactly one of two racing
writers moves the row; the loser's file is removed. A writer killed before its UPDATE leaves the previous row and
file as they were; the file a row no longer names is removed after the row moved on.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mesh_cli.core.errors import EngineError, MeshError
from mesh_cli.core.store import StaleGeneration, StateStore, StoredObject, StoreUnavailable
from mesh_cli.engines.snowflake import SnowflakeEngine, connect

TABLE = "MESH_STATE_OBJECTS"
_IDENTIFIER = r"(?:[A-Za-z_][A-Za-z0-9_$]*|\"[^\"]+\")"
_STAGE = re.compile(rf"^@({_IDENTIFIER})\.({_IDENTIFIER})\.({_IDENTIFIER})((?:/[A-Za-z0-9_.=-]+)*)/?$")
_KEY = re.compile(r"^[A-Za-z0-9_.=-]+(/[A-Za-z0-9_.=-]+)*$")


def parse_stage(location: str) -> tuple[str, str, str]:
    """(`DB.SCHEMA`, `DB.SCHEMA.STAGE`, path) of `@DB.SCHEMA.STAGE[/path]`; anything else is refused.

    >>> parse_stage("@MESH_ADMIN.STATE.RECORDS/retail")
    ('MESH_ADMIN.STATE', 'MESH_ADMIN.STATE.RECORDS', 'retail')
    """
    match = _STAGE.match(location.strip())
    if not match:
        raise MeshError(f"state store {location!r} is not a stage location: write @DATABASE.SCHEMA.STAGE[/PATH] "
                        "(a fully qualified internal stage; path parts of letters, digits, _ . = -)")
    database, schema, stage, path = match.groups()
    return f"{database}.{schema}", f"{database}.{schema}.{stage}", path.strip("/")


def store_statements(schema: str) -> dict[str, str]:
    """The statements of the stage store, with `%s` for the values the connector binds."""
    table = f"{schema}.{TABLE}"
    return {
        "create": f"CREATE TABLE IF NOT EXISTS {table} (OBJECT_KEY VARCHAR NOT NULL, GENERATION NUMBER(38, 0) "
                  "NOT NULL, FILE_NAME VARCHAR NOT NULL, WRITTEN_AT TIMESTAMP_LTZ)",
        "read": f"SELECT GENERATION, FILE_NAME FROM {table} WHERE OBJECT_KEY = %s",
        "insert": f"MERGE INTO {table} AS T USING (SELECT %s AS OBJECT_KEY) AS S ON T.OBJECT_KEY = S.OBJECT_KEY "
                  "WHEN NOT MATCHED THEN INSERT (OBJECT_KEY, GENERATION, FILE_NAME, WRITTEN_AT) "
                  "VALUES (S.OBJECT_KEY, 1, %s, CURRENT_TIMESTAMP())",
        "update": f"UPDATE {table} SET GENERATION = GENERATION + 1, FILE_NAME = %s, WRITTEN_AT = CURRENT_TIMESTAMP() "
                  "WHERE OBJECT_KEY = %s AND GENERATION = %s",
        "delete": f"DELETE FROM {table} WHERE OBJECT_KEY = %s AND GENERATION = %s",
        "keys": f"SELECT OBJECT_KEY FROM {table} WHERE STARTSWITH(OBJECT_KEY, %s) ORDER BY OBJECT_KEY",
    }


class StageStore(StateStore):
    """Objects as files on an internal stage, their generations in a table of the stage's schema."""

    def __init__(self, location: str, connection_factory: Callable[[], Any] = connect) -> None:
        self.location = location
        self.schema, self.stage, self.path = parse_stage(location)
        self.statements = store_statements(self.schema)
        self._factory = connection_factory
        self._connection: Any = None

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[tuple[Any, ...]], int]:
        """Rows and the number of rows changed."""
        import snowflake.connector

        if self._connection is None:
            try:
                self._connection = self._factory()
                self._connection.cursor().execute(self.statements["create"])
            except (EngineError, snowflake.connector.errors.Error) as exc:   # a setting or a grant to fix: exit 2
                self._connection = None
                raise StoreUnavailable(f"state store {self.location} cannot be reached: {exc}; check the SNOWFLAKE_* "
                                       "variables and that the role may use the stage's schema") from exc
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql, params or None)
            rows = cursor.fetchall() if cursor.description else []
            return [tuple(row) for row in rows], cursor.rowcount or 0
        except snowflake.connector.errors.Error as exc:   # connected, then the warehouse failed: a failed run
            failed = SnowflakeEngine.wrap_error(exc)
            raise EngineError(f"state store {self.location}: {failed}", code=failed.code) from exc
        finally:
            cursor.close()

    def _full_key(self, key: str) -> str:
        if not _KEY.match(key):
            raise MeshError(f"state store key {key!r} has characters a stage path cannot hold")
        return f"{self.path}/{key}" if self.path else key

    def _folder(self, full_key: str) -> str:
        return f"@{self.stage}/{full_key.rsplit('/', 1)[0]}/" if "/" in full_key else f"@{self.stage}/"

    def get(self, key: str) -> StoredObject | None:
        full = self._full_key(key)
        rows, _ = self._run(self.statements["read"], (full,))
        if not rows:
            return None
        generation, file_name = rows[0]
        with tempfile.TemporaryDirectory(prefix="mesh-stage-") as scratch:
            self._run(f"GET {self._folder(full)}{file_name} 'file://{Path(scratch).as_posix()}/'")
            fetched = Path(scratch) / str(file_name)
            if not fetched.is_file():
                raise StoreUnavailable(f"state store {self.location}: {full} names {file_name}, which the stage "
                                       "does not hold; deploy the domain again to rewrite it")
            return StoredObject(fetched.read_bytes(), str(generation))

    def head(self, key: str) -> str | None:
        rows, _ = self._run(self.statements["read"], (self._full_key(key),))
        return str(rows[0][0]) if rows else None

    def put(self, key: str, data: bytes, expected: str | None) -> str:
        full = self._full_key(key)
        file_name = f"{full.rsplit('/', 1)[-1]}.{uuid.uuid4().hex[:12]}"
        previous = self._run(self.statements["read"], (full,))[0]
        with tempfile.TemporaryDirectory(prefix="mesh-stage-") as scratch:
            local = Path(scratch) / file_name
            local.write_bytes(data)
            self._run(f"PUT 'file://{local.as_posix()}' {self._folder(full)} AUTO_COMPRESS = FALSE "
                      "OVERWRITE = FALSE")
        if expected is None:
            _, changed = self._run(self.statements["insert"], (full, file_name))
        else:
            _, changed = self._run(self.statements["update"], (file_name, full, int(expected)))
        if changed != 1:
            self._run(f"REMOVE {self._folder(full)}{file_name}")
            raise StaleGeneration(f"state store {self.location}: {key} changed since it was read")
        for generation, old_file in previous:   # the file the row named before this write
            if expected is not None and str(generation) == expected:
                self._run(f"REMOVE {self._folder(full)}{old_file}")
        return "1" if expected is None else str(int(expected) + 1)

    def delete(self, key: str, expected: str) -> None:
        full = self._full_key(key)
        rows, _ = self._run(self.statements["read"], (full,))
        _, changed = self._run(self.statements["delete"], (full, int(expected)))
        if changed == 1 and rows:
            self._run(f"REMOVE {self._folder(full)}{rows[0][1]}")

    def keys(self, prefix: str) -> list[str]:
        full = f"{self.path}/{prefix}" if self.path else prefix
        rows, _ = self._run(self.statements["keys"], (full,))
        return [str(row[0])[len(self.path) + 1:] if self.path else str(row[0]) for row in rows]
