"""Ingestion on Snowflake: stages, file formats, landing tables, pipes, external tables and Kafka views as
objects reconciled with the shared plan engine, and the loads each run issues (`COPY INTO`, external table
refreshes).

State is read with one SHOW per object kind, columns included, over the smallest scope holding the domain's
landing schemas (the schema when there is one, else their database). A missing object is created, a new YAML
column becomes `ALTER TABLE ... ADD COLUMN`; a change that would drop data or load history (a removed or retyped
column, a changed pipe, a stage changing between internal and external) is planned only with `full_refresh`, and
otherwise reported as a note starting with `BLOCKED`. So is a change to a stage or file format that external
tables read: Snowflake refuses to recreate either, or to alter the stage's URL, while dependent external tables
exist (behaviour change 2025_05, https://docs.snowflake.com/en/release-notes/bcr-bundles/2025_05/bcr-1989); with
`full_refresh` those external tables are dropped first and created again after the change.
"""

from __future__ import annotations

import glob
import json
import re
from dataclasses import dataclass
from typing import Any

from mesh_cli.core.identifiers import qualified
from mesh_cli.core.ingest_spec import BLOCKED, Column, IngestTable
from mesh_cli.core.plan import Plan, Statement, StateReader, show_within
from mesh_cli.core.sql_literals import snowflake_string
from mesh_cli.core.types import DataType, parse_type
from mesh_cli.engines.snowflake_types import shown_column_type, snowflake_column_type

DEPENDENCY_CHECKS = "https://docs.snowflake.com/en/release-notes/bcr-bundles/2025_05/bcr-1989"
METADATA = (("_FILE", "VARCHAR", "METADATA$FILENAME"), ("_FILE_ROW", "NUMBER(38,0)", "METADATA$FILE_ROW_NUMBER"),
            ("_FILE_LAST_MODIFIED", "TIMESTAMP_NTZ", "METADATA$FILE_LAST_MODIFIED"),
            ("_LOADED_AT", "TIMESTAMP_TZ", "METADATA$START_SCAN_TIME"))
KAFKA_METADATA = ("RECORD_METADATA", "VARIANT")



@dataclass(frozen=True)
class Names:
    """The Snowflake objects of one ingest table."""

    schema: str
    table: str
    landing: str
    file_format: str
    stage: str
    pipe: str


def names(table: IngestTable, database: str) -> Names:
    db = (table.database or database).upper()
    schema = qualified(db, table.schema.upper(), what="schema")
    return Names(schema, f"{schema}.{table.identifier.upper()}", f"{schema}.{table.landing_identifier.upper()}",
                 f"{schema}.{table.identifier.upper()}_FORMAT", f"{schema}.{table.stage.name.upper()}",
                 f"{schema}.{table.identifier.upper()}_PIPE")


def _option_sql(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(snowflake_string(v) for v in value) + ")"
    return snowflake_string(value)


def file_format_sql(table: IngestTable, n: Names, replace: bool = False) -> str:
    options = "".join(f" {key.upper()} = {_option_sql(value)}" for key, value in table.file_format.options)
    return f"CREATE {'OR REPLACE ' if replace else ''}FILE FORMAT {n.file_format} " \
           f"TYPE = {table.file_format.type.upper()}{options}"


def stage_sql(table: IngestTable, n: Names, replace: bool = False) -> str:
    sql = f"CREATE {'OR REPLACE ' if replace else ''}STAGE {n.stage}"
    if table.stage.url:
        sql += f" URL = {snowflake_string(table.stage.url)}"
    if table.stage.storage_integration:
        sql += f" STORAGE_INTEGRATION = {qualified(table.stage.storage_integration, what='storage integration')}"
    return sql


def _folder_and_glob(location: str) -> tuple[str, str]:
    parts = location.strip("/").split("/")
    cut = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    return "/".join(parts[:cut]), "/".join(parts[cut:])


def stage_path(table: IngestTable, n: Names) -> str:
    """`@stage/path`: the location's folder part (a glob's wildcard part becomes the PATTERN)."""
    path = _folder_and_glob(table.location)[0]
    return f"@{n.stage}/{path}/" if path else f"@{n.stage}/"


def pattern(table: IngestTable) -> str | None:
    """The declared pattern, else the location's glob as a regular expression over the whole path."""
    if table.pattern:
        return table.pattern
    folder, wildcard = _folder_and_glob(table.location)
    if not wildcard:
        return None
    regex = re.escape(wildcard).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
    return ".*" + (re.escape(folder + "/") if folder else "") + regex


def _value(table: IngestTable, column: Column, position: int, prefix: str) -> str:
    if table.file_format.type == "csv":
        raw = f"{prefix}{position}" if prefix == "$" else f"VALUE:c{position}"
    else:
        raw = f"{'$1' if prefix == '$' else 'VALUE'}:{json.dumps(column.name)}"
    return f"{raw}::{snowflake_column_type(column)}"


def _partition_value(column: Column) -> str:
    return (f"SPLIT_PART(SPLIT_PART(METADATA$FILENAME, {snowflake_string(column.name + '=')}, 2), '/', 1)"
            f"::{snowflake_column_type(column)}")


def landing_columns(table: IngestTable) -> list[tuple[str, str]]:
    """The landing table's columns and Snowflake types (Kafka: the connector's table)."""
    if table.mode == "kafka":
        declared = [(c.name.upper(), snowflake_column_type(c)) for c in table.columns] if table.schematized else \
            [("RECORD_CONTENT", "VARIANT")]
        return [KAFKA_METADATA, *declared]
    return [*((c.name.upper(), snowflake_column_type(c)) for c in (*table.columns, *table.partitions)),
            *((name, kind) for name, kind, _ in METADATA)]


def copy_sql(table: IngestTable, n: Names) -> str:
    """`COPY INTO` the landing table with its metadata columns, from the stage path, with the options."""
    values = [_value(table, column, i, "$") for i, column in enumerate(table.columns, start=1)]
    values += [_partition_value(column) for column in table.partitions]
    values += [expression for _, _, expression in METADATA]
    columns = ", ".join(name for name, _ in landing_columns(table))
    sql = (f"COPY INTO {n.landing} ({columns}) FROM (SELECT {', '.join(values)} FROM {stage_path(table, n)}) "
           f"FILE_FORMAT = (FORMAT_NAME = {snowflake_string(n.file_format)})")
    if pattern(table):
        sql += f" PATTERN = {snowflake_string(pattern(table))}"
    return sql + f" ON_ERROR = {table.on_error.upper()}"


def create_table_sql(table: IngestTable, n: Names, replace: bool = False) -> str:
    body = ", ".join(f"{name} {kind}" for name, kind in landing_columns(table))
    sql = f"CREATE {'OR REPLACE ' if replace else ''}TABLE {n.landing} ({body})"
    return sql + (" ENABLE_SCHEMA_EVOLUTION = TRUE" if table.mode == "kafka" and table.schematized else "")


def pipe_sql(table: IngestTable, n: Names, replace: bool = False) -> str:
    sql = f"CREATE {'OR REPLACE ' if replace else ''}PIPE {n.pipe} AUTO_INGEST = {_option_sql(table.auto_ingest)}"
    if table.aws_sns_topic:
        sql += f" AWS_SNS_TOPIC = {snowflake_string(table.aws_sns_topic)}"
    if table.integration:
        sql += f" INTEGRATION = {snowflake_string(table.integration)}"
    return f"{sql} AS {copy_sql(table, n)}"


def external_table_sql(table: IngestTable, n: Names, replace: bool = False) -> str:
    columns = [f"{c.name.upper()} {snowflake_column_type(c)} AS ({_value(table, c, i, 'VALUE')})"
               for i, c in enumerate(table.columns, start=1)]
    columns += [f"{c.name.upper()} {snowflake_column_type(c)} AS ({_partition_value(c)})" for c in table.partitions]
    columns += ["_FILE VARCHAR AS (METADATA$FILENAME)",
                "_FILE_LAST_MODIFIED TIMESTAMP_NTZ AS (METADATA$FILE_LAST_MODIFIED::TIMESTAMP_NTZ)",
                "_LOADED_AT TIMESTAMP_NTZ AS (METADATA$FILE_LAST_MODIFIED::TIMESTAMP_NTZ)"]
    sql = f"CREATE {'OR REPLACE ' if replace else ''}EXTERNAL TABLE {n.table} ({', '.join(columns)})"
    if table.partitions:
        sql += f" PARTITION BY ({', '.join(c.name.upper() for c in table.partitions)})"
    sql += f" LOCATION = {stage_path(table, n)} AUTO_REFRESH = {_option_sql(table.auto_refresh)}"
    if pattern(table):
        sql += f" PATTERN = {snowflake_string(pattern(table))}"
    return sql + f" FILE_FORMAT = (FORMAT_NAME = {snowflake_string(n.file_format)})"


def kafka_view_sql(table: IngestTable, n: Names) -> str:
    """The typed view over the connector's table; `_LOADED_AT` is the record's CreateTime."""
    if table.schematized:
        typed = [f"{c.name.upper()}::{snowflake_column_type(c)} AS {c.name.upper()}" for c in table.columns]
    else:
        typed = [f"RECORD_CONTENT:{json.dumps(c.name)}::{snowflake_column_type(c)} AS {c.name.upper()}"
                 for c in table.columns]
    typed += ["TO_TIMESTAMP(RECORD_METADATA:CreateTime::NUMBER, 3) AS _LOADED_AT",
              "RECORD_METADATA:topic::VARCHAR AS _TOPIC", "RECORD_METADATA:partition::NUMBER AS _PARTITION",
              "RECORD_METADATA:offset::NUMBER AS _OFFSET"]
    return f"CREATE OR REPLACE VIEW {n.table} AS SELECT {', '.join(typed)} FROM {n.landing}"


@dataclass(frozen=True)
class _Scope:
    """Where one database's existing landing schemas are read: the schema when there is one, else the database."""

    database: str
    schemas: tuple[str, ...]       # unqualified, sorted

    @property
    def sql(self) -> str:
        if len(self.schemas) == 1:
            return f"IN SCHEMA {self.database}.{self.schemas[0]}"
        return f"IN DATABASE {self.database}"

    @property
    def narrower(self) -> list[str]:
        """One scope per schema, read instead when Snowflake refuses the database-wide SHOW for its size."""
        return [f"IN SCHEMA {self.database}.{schema}" for schema in self.schemas] if len(self.schemas) > 1 else []

    def qualified(self, row: dict[str, Any], name: Any) -> str:
        """`DB.SCHEMA.NAME` of a SHOW row (its `schema_name`; a one-schema scope needs none)."""
        return f"{self.database}.{str(row.get('schema_name') or self.schemas[0]).upper()}.{str(name).upper()}"


def _existing_schemas(reader: StateReader, database: str, wanted: set[str]) -> tuple[str, ...]:
    """Which of the wanted landing schemas exist in the database: one SHOW SCHEMAS (with LIKE for a single one)."""
    like = next(iter(wanted)) if len(wanted) == 1 else None
    shown = {str(row.get("name", "")).upper() for row in reader.show("SCHEMAS", scope=f"IN DATABASE {database}",
                                                                     like=like)}
    return tuple(sorted(wanted & shown))  # exact names: LIKE's `_` matches any character


class _State:
    """What exists in the landing schemas, read once per kind; columns once, when a landing table exists."""

    def __init__(self, reader: StateReader, tables: list[IngestTable], all_names: list[Names]) -> None:
        self.reader = reader
        self.landings = [n.landing for n in all_names]
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self._columns: dict[str, dict[str, DataType]] | None = None
        wanted: dict[str, set[str]] = {}
        for n in all_names:
            database, schema = n.schema.split(".")
            wanted.setdefault(database, set()).add(schema)
        self.scopes = [_Scope(database, existing) for database, schemas in sorted(wanted.items())
                       if (existing := _existing_schemas(reader, database, schemas))]
        kinds = {"FILE FORMATS", "STAGES", "TABLES"}
        kinds |= {"VIEWS" for t in tables if t.mode == "kafka"}
        kinds |= {"PIPES" for t in tables if t.mode == "snowpipe"}
        kinds |= {"EXTERNAL TABLES" for t in tables if t.mode == "external_table"}
        for scope in self.scopes:
            for kind in sorted(kinds):
                for row in show_within(reader, kind, scope.sql, scope.narrower):
                    self.rows[(kind, scope.qualified(row, row["name"]))] = row

    @property
    def schemas(self) -> set[str]:
        return {f"{scope.database}.{schema}" for scope in self.scopes for schema in scope.schemas}

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        return self.rows.get((kind, name))

    def columns(self, table: str) -> dict[str, DataType]:
        """The columns of an existing landing table; the first call reads those of every table in the scopes
        (table by table when Snowflake refuses that for its size)."""
        if self._columns is None:
            self._columns = {}
            for scope in self.scopes:
                tables = [f"IN TABLE {name}" for name in self.landings
                          if name.startswith(f"{scope.database}.") and self.get("TABLES", name) is not None]
                for row in show_within(self.reader, "COLUMNS", scope.sql, tables):
                    shown = row.get("data_type")
                    found = self._columns.setdefault(scope.qualified(row, row["table_name"]), {})
                    found[str(row["column_name"]).upper()] = shown_column_type(
                        json.loads(shown) if isinstance(shown, str) else dict(shown or {}))
        return self._columns.get(table, {})


def _format_differs(table: IngestTable, row: dict[str, Any]) -> bool:
    shown = row.get("format_options")
    options = json.loads(shown) if isinstance(shown, str) and shown else {}
    if str(row.get("type", options.get("TYPE", ""))).upper() != table.file_format.type.upper():
        return True
    for key, value in table.file_format.options:
        current = options.get(key.upper())
        wanted = list(value) if isinstance(value, tuple) else value
        if isinstance(wanted, str) and isinstance(current, str):
            same = wanted.upper() == current.upper()
        else:
            same = current == wanted
        if not same:
            return True
    return False


def _normal(sql: str | None) -> str:
    return " ".join(str(sql or "").upper().replace("CREATE OR REPLACE", "CREATE").split())


def plan_domain(domain: str, tables: list[IngestTable], database: str, reader: StateReader,
                full_refresh: bool = False, offline: bool = False) -> Plan:
    """The ordered statements that make the domain's ingestion objects match its declarations, then the
    loads of this run."""
    plan = Plan(f"ingestion of {domain}", offline=offline)
    all_names = [names(table, database) for table in tables]
    state = _State(reader, tables, all_names)
    objects: list[Statement] = []
    loads: list[Statement] = []
    done: set[str] = set()
    for schema in sorted({n.schema for n in all_names} - state.schemas):
        objects.append(Statement(f"CREATE SCHEMA IF NOT EXISTS {schema}", "create", "schema", schema,
                                 "landing schema"))
    held = _held_by_external_tables(tables, all_names, state, full_refresh, plan)
    objects.extend(Statement(f"DROP EXTERNAL TABLE {name}", "drop", "external table", name,
                             f"reads {', '.join(changed)}, which change (--full-refresh; created again below)",
                             destructive=True) for name, changed in sorted(held.dropped.items()))
    for table, n in zip(tables, all_names, strict=True):
        if n.stage not in held.blocked:
            objects.extend(_stage_statements(table, n, state, full_refresh, plan, done))
        if n.file_format not in held.blocked:
            objects.extend(_format_statements(table, n, state))
        objects.extend(_table_statements(table, n, state, full_refresh, plan))
        more, run = _mode_statements(table, n, state, full_refresh, plan, recreate=n.table in held.dropped)
        objects.extend(more)
        loads.extend(run)
    plan.extend(objects)
    plan.extend(loads)
    return plan


def _stage_changes(table: IngestTable, n: Names, state: _State) -> bool:
    """Whether the stage exists with another URL (or kind) than declared."""
    row = state.get("STAGES", n.stage)
    return row is not None and str(row.get("url") or "") != (table.stage.url or "")


def _format_changes(table: IngestTable, n: Names, state: _State) -> bool:
    row = state.get("FILE FORMATS", n.file_format)
    return row is not None and _format_differs(table, row)


def _shown_name(value: Any) -> str:
    """An object name as SHOW EXTERNAL TABLES prints it in `stage` / `file_format_name` (`@`, quotes removed)."""
    return str(value or "").lstrip("@").replace('"', "").split("/")[0].upper()


@dataclass
class _Held:
    """Stages and file formats that external tables read and that change: blocked, or their readers dropped."""

    blocked: set[str]
    dropped: dict[str, list[str]]          # external table -> the stage / file format it reads that changes


def _held_by_external_tables(tables: list[IngestTable], all_names: list[Names], state: _State, full_refresh: bool,
                             plan: Plan) -> _Held:
    """The existing external tables reading a stage or file format this plan changes. Without `full_refresh` the
    change is blocked (Snowflake refuses it, 2025_05); with it, the declared readers are dropped before it and
    created again after it. A reader the domain does not declare blocks the change either way."""
    changed = {n.stage for t, n in zip(tables, all_names, strict=True) if _stage_changes(t, n, state)}
    changed |= {n.file_format for t, n in zip(tables, all_names, strict=True) if _format_changes(t, n, state)}
    declared = {n.table: n for t, n in zip(tables, all_names, strict=True) if t.mode == "external_table"}
    readers: dict[str, set[str]] = {}
    for (kind, name), row in state.rows.items():
        if kind != "EXTERNAL TABLES":
            continue
        reads = {_shown_name(row.get("stage")), _shown_name(row.get("file_format_name"))}
        if name in declared:
            reads |= {declared[name].stage, declared[name].file_format}
        for held in reads & changed:
            readers.setdefault(held, set()).add(name)
    result = _Held(set(), {})
    for held, reading in sorted(readers.items()):
        foreign = sorted(reading - set(declared))
        if foreign or not full_refresh:
            result.blocked.add(held)
            fix = f"drop {', '.join(foreign)} (not declared here) first" if foreign else "run with --full-refresh " \
                "(drops and recreates them around the change)"
            plan.notes.append(f"{BLOCKED}: {held} changes and external tables read it ({', '.join(sorted(reading))}); "
                              f"Snowflake refuses to recreate it or alter its URL while they exist "
                              f"({DEPENDENCY_CHECKS}): {fix}")
            continue
        for name in reading:
            result.dropped.setdefault(name, []).append(held)
    return result


def _stage_statements(table: IngestTable, n: Names, state: _State, full_refresh: bool, plan: Plan,
                      done: set[str]) -> list[Statement]:
    if n.stage in done:
        return []
    done.add(n.stage)
    row = state.get("STAGES", n.stage)
    kind = "external stage" if table.stage.url else "internal stage"
    if row is None:
        return [Statement(stage_sql(table, n), "create", "stage", n.stage, kind)]
    current = str(row.get("url") or "")
    if current == (table.stage.url or ""):
        return []
    if current and table.stage.url:
        return [Statement(f"ALTER STAGE {n.stage} SET URL = {snowflake_string(table.stage.url)}", "alter", "stage",
                          n.stage, f"URL {current} → {table.stage.url}")]
    if not full_refresh:
        plan.notes.append(f"{BLOCKED}: stage {n.stage} changes between internal and external; recreating it "
                          "loses the files staged in it: run with --full-refresh")
        return []
    return [Statement(stage_sql(table, n, replace=True), "replace", "stage", n.stage,
                      "internal/external change (--full-refresh)", destructive=True)]


def _format_statements(table: IngestTable, n: Names, state: _State) -> list[Statement]:
    row = state.get("FILE FORMATS", n.file_format)
    if row is None:
        return [Statement(file_format_sql(table, n), "create", "file format", n.file_format,
                          f"{table.file_format.type} files of {table.label}")]
    if _format_differs(table, row):
        return [Statement(file_format_sql(table, n, replace=True), "replace", "file format", n.file_format,
                          "options changed (a file format holds no data)")]
    return []


def _table_statements(table: IngestTable, n: Names, state: _State, full_refresh: bool,
                      plan: Plan) -> list[Statement]:
    if table.mode == "external_table":
        return []
    if state.get("TABLES", n.landing) is None:
        return [Statement(create_table_sql(table, n), "create", "table", n.landing, f"landing table ({table.mode})")]
    existing = state.columns(n.landing)
    wanted = landing_columns(table)
    wanted_types = {name: parse_type(kind) for name, kind in wanted}
    broken = [f"{name} {existing[name]} → {wanted_types.get(name, 'removed')}" for name in existing
              if wanted_types.get(name) != existing[name] and not (table.mode == "kafka" and table.schematized)]
    if broken:
        if not full_refresh:
            plan.notes.append(f"{BLOCKED}: landing table {n.landing}: {', '.join(broken)}; recreating it drops its "
                              "rows and load history (every staged file loads again): run with --full-refresh")
            return []
        return [Statement(create_table_sql(table, n, replace=True), "replace", "table", n.landing,
                          f"{', '.join(broken)} (--full-refresh: rows and load history dropped)", destructive=True)]
    return [Statement(f"ALTER TABLE {n.landing} ADD COLUMN {name} {kind}", "alter", "table", n.landing,
                      "column added in YAML") for name, kind in wanted if name not in existing]


def _mode_statements(table: IngestTable, n: Names, state: _State, full_refresh: bool, plan: Plan,
                     recreate: bool = False) -> tuple[list[Statement], list[Statement]]:
    if table.mode == "copy":
        return [], [Statement(copy_sql(table, n), "load", "table", n.landing,
                              "loads the files not loaded yet (Snowflake skips loaded files)")]
    if table.mode == "snowpipe":
        return _pipe_statements(table, n, state, full_refresh, plan), []
    if table.mode == "external_table":
        row = None if recreate else state.get("EXTERNAL TABLES", n.table)
        objects = []
        if row is None or full_refresh:
            objects.append(Statement(external_table_sql(table, n, replace=row is not None),
                                     "create" if row is None else "replace", "external table", n.table,
                                     "external table over the stage" + (" (--full-refresh)" if row else "")))
        elif row is not None:
            plan.notes.append(f"external table {n.table} exists: column changes apply with --full-refresh "
                              "(it holds no data)")
        refresh = [] if table.auto_refresh or row is None else [Statement(
            f"ALTER EXTERNAL TABLE {n.table} REFRESH", "refresh", "external table", n.table,
            "not auto-refreshed: register new and changed files")]
        return objects, refresh
    view = kafka_view_sql(table, n)
    row = state.get("VIEWS", n.table)
    if row is not None and _normal(view).split(" AS SELECT ", 1)[1] in _normal(row.get("text")):
        return [], []
    return [Statement(view, "create" if row is None else "replace", "view", n.table,
                      f"typed view over the Kafka connector's table for topic {table.topic}")], []


def _pipe_statements(table: IngestTable, n: Names, state: _State, full_refresh: bool, plan: Plan) -> list[Statement]:
    row = state.get("PIPES", n.pipe)
    wanted = pipe_sql(table, n)
    statements = []
    if row is None:
        statements.append(Statement(wanted, "create", "pipe", n.pipe, "Snowpipe; loads files as they arrive"))
    elif _normal(row.get("definition")) != _normal(copy_sql(table, n)):
        if not full_refresh:
            plan.notes.append(f"{BLOCKED}: pipe {n.pipe} changed; recreating a pipe drops its load history "
                              "(files staged in the last 14 days may load again): run with --full-refresh")
            return []
        statements.append(Statement(pipe_sql(table, n, replace=True), "replace", "pipe", n.pipe,
                                    "definition changed (--full-refresh: pipe load history dropped)",
                                    destructive=True))
    else:
        return []
    if table.backfill:
        statements.append(Statement(f"ALTER PIPE {n.pipe} REFRESH", "refresh", "pipe", n.pipe,
                                    "explicit backfill (backfill: true): queues files staged in the last 7 days"))
    return statements
