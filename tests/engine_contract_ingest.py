"""Ingestion on the SQLite test engine (tests/engine_contract.py), built from the engine-neutral `IngestTable`s
alone, as docs/engines.md asks of a new engine.

A landing schema is an attached database (SQLite's schemas are attached databases,
https://sqlite.org/lang_attach.html), named `<database>_<schema>`; a landing table has the declared columns in the
engine's spellings (`SQLiteEngine.spell_type`), then the metadata columns. `plan_landing` reconciles them with the
one plan/apply engine from what the state reader shows (a new column is added, a removed or retyped one needs
`--full-refresh`, otherwise a BLOCKED note); `load_files` then loads each file not loaded yet (by name, size and
mtime, kept in `main.mesh_load_history`) in one transaction with its history row, its values converted in Python
by their declared type (SQLite reads no CSV, JSON or Parquet file itself): a re-run loads nothing. External tables
are tables reloaded whole when their files change; Kafka records land as JSON text under a typed view.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from mesh_cli.core.errors import EngineError
from mesh_cli.core.ingest_spec import BLOCKED, Column, IngestTable, LocalFile, TableLoad
from mesh_cli.core.plan import Plan, Statement, StateReader
from mesh_cli.core.types import DataType

HISTORY = "main.mesh_load_history"
HISTORY_TABLE = (f"CREATE TABLE {HISTORY} (target TEXT, file TEXT, size INTEGER, last_modified TIMESTAMP, "
                 "rows_loaded INTEGER, loaded_at TIMESTAMP)")
METADATA = (("_file", "TEXT"), ("_file_row", "INTEGER"), ("_file_last_modified", "TIMESTAMP"),
            ("_loaded_at", "TIMESTAMP"))
KAFKA_RECORD = (("record_metadata", "TEXT"), ("record_content", "TEXT"))
BATCH = 500   # rows per INSERT


def text(value: object) -> str:
    """A SQLite string constant: quotes doubled (https://sqlite.org/lang_expr.html#literal_values_constants_)."""
    return "'" + str(value).replace("'", "''") + "'"


def literal(value: object) -> str:
    if value is None:
        return "NULL"
    return str(value) if isinstance(value, int | float | Decimal) else text(value)


def schema_name(table: IngestTable, database: str) -> str:
    return f"{table.database or database}_{table.schema}".lower()


def relation(table: IngestTable, database: str, name: str | None = None) -> str:
    return f"{schema_name(table, database)}.{name or table.landing_identifier}"


def landing_columns(table: IngestTable, spell: Callable[[DataType], str | None]) -> list[tuple[str, str]]:
    declared = KAFKA_RECORD if table.mode == "kafka" else tuple(
        (column.name, spell(column.data_type) or "") for column in (*table.columns, *table.partitions))
    return [*declared, *METADATA]


def kafka_view_sql(table: IngestTable, database: str, spell: Callable[[DataType], str | None]) -> str:
    """The typed view over the records (unqualified inside: a view reads its own schema only)."""
    typed = []
    for column in table.columns:
        value = f"json_extract(record_content, {text('$.' + column.name)})"
        kind = spell(column.data_type)
        typed.append(f"{f'CAST({value} AS {kind})' if kind in ('INTEGER', 'REAL') else value} AS {column.name}")
    typed += ["datetime(json_extract(record_metadata, '$.CreateTime') / 1000.0, 'unixepoch') AS _loaded_at",
              "json_extract(record_metadata, '$.topic') AS _topic",
              "json_extract(record_metadata, '$.partition') AS _partition",
              "json_extract(record_metadata, '$.offset') AS _offset", "_file"]
    return (f"CREATE VIEW {relation(table, database, table.identifier)} AS SELECT {', '.join(typed)} "
            f"FROM {table.landing_identifier}")


def plan_landing(domain: str, tables: list[IngestTable], database: str, reader: StateReader,
                 spell: Callable[[DataType], str | None], *, full_refresh: bool, offline: bool) -> Plan:
    """The statements that make the landing schemas, tables, Kafka views and load history match `tables`."""
    plan = Plan(f"ingestion of {domain}", offline=offline)
    schemas = {str(row["name"]) for row in reader.show("SCHEMAS")}
    if "mesh_load_history" not in _names(reader, "TABLES", "main", schemas):
        plan.extend([Statement(HISTORY_TABLE, "create", "table", HISTORY, "the files each landing table holds")])
    for schema in sorted({schema_name(table, database) for table in tables} - schemas):
        plan.extend([Statement(f"ATTACH DATABASE ':memory:' AS {schema}", "create", "schema", schema,
                               "landing schema (an attached database)")])
    for table in tables:
        plan.extend(_table_statements(table, database, reader, spell, full_refresh, schemas, plan))
    return plan


def _names(reader: StateReader, kind: str, schema: str, schemas: set[str]) -> dict[str, str]:
    """Name -> SQL of the tables or views of an existing schema."""
    if schema not in schemas:
        return {}
    return {str(row["name"]): str(row.get("text") or "") for row in reader.show(kind, scope=f"IN SCHEMA {schema}")}


def _table_statements(table: IngestTable, database: str, reader: StateReader, spell: Callable[[DataType], str | None],
                      full_refresh: bool, schemas: set[str], plan: Plan) -> list[Statement]:
    name, wanted = relation(table, database), landing_columns(table, spell)
    exists = table.landing_identifier in _names(reader, "TABLES", schema_name(table, database), schemas)
    existing = {str(row["column_name"]): str(row["data_type"]) for row in
                reader.show("COLUMNS", scope=f"IN TABLE {name}")} if exists else {}
    broken = [f"{column} {kind} → {dict(wanted).get(column, 'removed')}" for column, kind in existing.items()
              if dict(wanted).get(column) != kind]
    statements = []
    if broken and not full_refresh:
        plan.notes.append(f"{BLOCKED}: landing table {name} of {table.label}: {', '.join(broken)}; run with "
                          "--full-refresh to recreate it and reload every file")
        return []
    if broken:
        statements += [Statement(f"DROP TABLE {name}", "drop", "table", name, f"{', '.join(broken)} "
                                 "(--full-refresh: its rows are dropped)", destructive=True),
                       Statement(f"DELETE FROM {HISTORY} WHERE target = {text(name)}", "delete", "load history",
                                 name, "every file loads again", destructive=True)]
        existing = {}
    if not existing:
        body = ", ".join(f"{column} {kind}" for column, kind in wanted)
        statements.append(Statement(f"CREATE TABLE {name} ({body})", "create", "table", name,
                                    f"landing table ({table.mode})"))
    statements += [Statement(f"ALTER TABLE {name} ADD COLUMN {column} {kind}", "alter", "table", name,
                             f"column {column} added in YAML") for column, kind in wanted
                   if existing and column not in existing]
    if table.mode == "kafka":
        view = kafka_view_sql(table, database, spell)
        shown = _names(reader, "VIEWS", schema_name(table, database), schemas).get(table.identifier)
        if shown is None or shown.split(" AS SELECT ", 1)[-1] != view.split(" AS SELECT ", 1)[1]:
            drop = [] if shown is None else [Statement(f"DROP VIEW {relation(table, database, table.identifier)}",
                                                       "drop", "view", table.identifier, "its columns change")]
            statements += [*drop, Statement(view, "create", "view", relation(table, database, table.identifier),
                                            f"typed view over the records of topic {table.topic}")]
    return statements


def loaded(execute: Callable[[str], list[dict[str, Any]]], table: IngestTable,
           database: str) -> set[tuple[str, int, str]]:
    """(file, size, mtime) of every file the load history holds for the table (none: no history yet)."""
    if not execute(f"SELECT name FROM main.sqlite_schema WHERE name = {text('mesh_load_history')}"):
        return set()
    return {(row["file"], row["size"], row["last_modified"]) for row in execute(
        f"SELECT file, size, last_modified FROM {HISTORY} WHERE target = {text(relation(table, database))}")}


def pending(files: list[LocalFile], history: set[tuple[str, int, str]], table: IngestTable) -> list[LocalFile]:
    """The files a run loads: those the history does not hold (an external table: all, when any changed)."""
    current = {(f.name, f.size, f.last_modified.isoformat(" ")) for f in files}
    if table.mode == "external_table":
        return [] if current == history else files
    return [f for f in files if (f.name, f.size, f.last_modified.isoformat(" ")) not in history]


def load_files(execute: Callable[[str], list[dict[str, Any]]], table: IngestTable, database: str,
               files: list[LocalFile], spell: Callable[[DataType], str | None]) -> TableLoad:
    """Load the table's pending files, each in one transaction with its history row."""
    result = TableLoad(table.label, table.mode)
    todo = pending(files, loaded(execute, table, database), table)
    name = relation(table, database)
    if todo and table.mode == "external_table":   # it shows exactly the files there are now
        _transaction(execute, [f"DELETE FROM {name}", f"DELETE FROM {HISTORY} WHERE target = {text(name)}"])
    columns = ", ".join(column for column, _ in landing_columns(table, spell))
    for file in todo:
        rows, rejected = _rows(table, file)
        if rejected and table.on_error == "abort_statement":
            raise EngineError(f"{table.label}: {len(rejected)} row(s) of {file.name} do not cast to the declared "
                              f"types (first: {rejected[0]}); nothing loaded (on_error: abort_statement)")
        result.rejected.extend(rejected)
        if rejected and table.on_error == "skip_file":
            result.files_skipped.append(f"{file.name}: {len(rejected)} row(s) do not cast (on_error: skip_file)")
            continue
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        modified = file.last_modified.isoformat(" ")
        loaded_at = modified if table.mode == "external_table" else now
        values = [f"({', '.join(literal(v) for v in (*row, file.name, n, modified, loaded_at))})"
                  for n, row in rows]
        inserts = [f"INSERT INTO {name} ({columns}) VALUES {', '.join(values[i:i + BATCH])}"
                   for i in range(0, len(values), BATCH)]
        history = (f"INSERT INTO {HISTORY} VALUES ({text(name)}, {text(file.name)}, {file.size}, {text(modified)}, "
                   f"{len(rows)}, {text(now)})")
        _transaction(execute, [*inserts, history])
        result.files_loaded.append(file.name)
        result.rows_loaded += len(rows)
        result.rows_rejected += len(rejected)
    return result


def _transaction(execute: Callable[[str], list[dict[str, Any]]], statements: list[str]) -> None:
    execute("BEGIN")
    try:
        for sql in statements:
            execute(sql)
    except BaseException:
        execute("ROLLBACK")
        raise
    execute("COMMIT")


def _rows(table: IngestTable, file: LocalFile) -> tuple[list[tuple[int, tuple[Any, ...]]], list[str]]:
    """The file's rows as landing values (its file row number first), and the rows whose values do not cast."""
    rows: list[tuple[int, tuple[Any, ...]]] = []
    rejected: list[str] = []
    for number, record in enumerate(_records(table, file), start=1):
        if table.mode == "kafka":
            rows.append((number, tuple(json.dumps(record.get(n.upper())) for n, _ in KAFKA_RECORD)))
            continue
        values: list[Any] = []
        for column in table.columns:
            raw = record.get(column.name)
            try:
                values.append(None if raw is None else _converted(raw, column))
            except (ValueError, TypeError, InvalidOperation):
                rejected.append(f"{file.name} row {number}: {column.name} = {raw!r}")
                break
        else:
            partitions = [_partition(file.name, column) for column in table.partitions]
            rows.append((number, (*values, *partitions)))
    return rows, rejected


def _records(table: IngestTable, file: LocalFile) -> Iterator[dict[str, Any]]:
    """The file's records as dicts of the declared column names (CSV: by position)."""
    kind = table.file_format.type
    if kind == "parquet":
        import pyarrow.parquet

        yield from pyarrow.parquet.read_table(file.path).to_pylist()
        return
    raw = file.path.read_bytes()
    content = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
    if kind == "json":
        documents = json.loads(content) if table.file_format.option("strip_outer_array") else \
            [json.loads(line) for line in content.splitlines() if line.strip()]
        yield from documents
        return
    option = table.file_format.option
    reader = csv.reader(io.StringIO(content), delimiter=option("field_delimiter", ","),
                        quotechar=option("field_optionally_enclosed_by", '"'))
    nulls = set(option("null_if", ()))
    for line in list(reader)[int(option("skip_header", 0)):]:
        yield {column.name: None if value in nulls else value
               for column, value in zip(table.columns, line, strict=False)}


def _converted(raw: Any, column: Column) -> Any:
    """A raw value as the declared type holds it in SQLite; ValueError (or TypeError) when it does not cast."""
    base, size = column.data_type.base, column.data_type.size
    if base == "number":
        number = Decimal(str(raw))
        if not number.is_finite():
            raise ValueError(raw)
        scale = size[1] if len(size) > 1 else 0
        return int(number.to_integral_value()) if scale == 0 else number.quantize(Decimal(1).scaleb(-scale))
    if base == "float":
        return float(raw)
    if base == "boolean":
        return {"true": 1, "false": 0, "1": 1, "0": 0}[str(raw).lower()] if not isinstance(raw, bool) else int(raw)
    if base == "date":
        return date.fromisoformat(str(raw)).isoformat()
    if base.startswith("timestamp"):
        return datetime.fromisoformat(str(raw)).isoformat(" ")
    if base in ("variant", "object", "array"):
        return json.dumps(json.loads(raw) if isinstance(raw, str) else raw)
    return str(raw)


def _partition(name: str, column: Column) -> str | None:
    """A Hive-style partition value (`category=Toys/`) in the file's path."""
    marker = f"{column.name}="
    return next((part[len(marker):] for part in name.split("/")[:-1] if part.startswith(marker)), None)
