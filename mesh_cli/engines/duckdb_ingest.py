"""Ingestion on DuckDB: a domain's raw files land in its landing tables, each file once.

A load-history table per domain database (`mesh_ingest.load_history`) records every file loaded into each
landing table by name, size and modification time; a file is loaded when that triple is new (so an edited file
is loaded again, Snowflake's rule) and its rows and its history row are written in one transaction, so a load
interrupted midway leaves nothing behind and the next run loads every file exactly once. Each file is first
read into a temporary table as text; rows whose values do not cast to the declared types are rejected, and
`on_error` decides: `abort_statement` loads nothing (the run fails: exit 1), `skip_file` skips the file,
`continue` loads its good rows.
The landing tables and the history are reconciled with the one plan/apply engine (`landing_plan`: `--plan` shows
it, a destructive change needs `--full-refresh` and `--allow-destroy`, as on Snowflake); the loads that follow
decide per row (`on_error`), so the engine runs them itself rather than as planned statements.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from mesh_cli.core.destroy import refuse_destruction
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import EngineError, MeshError, RunFailed
from mesh_cli.core.identifiers import quote
from mesh_cli.core.ingest_spec import (
    BLOCKED,
    Ingested,
    IngestOptions,
    IngestTable,
    LocalFile,
    TableLoad,
    blocked,
    list_files,
)
from mesh_cli.core.plan import Plan, Statement, apply
from mesh_cli.core.sql_literals import duckdb_string
from mesh_cli.engines.duckdb_types import duckdb_column_type

if TYPE_CHECKING:
    from mesh_cli.engines.duckdb import DuckDBEngine

HISTORY_SCHEMA = "mesh_ingest"
HISTORY = f"{HISTORY_SCHEMA}.load_history"
HISTORY_TABLE = (f"create table if not exists {HISTORY} (target varchar, file varchar, size bigint, "
                 "last_modified timestamp, status varchar, rows_loaded bigint, rows_rejected bigint, "
                 "loaded_at timestamp)")
METADATA_COLUMNS = (("_file", "VARCHAR"), ("_file_row", "BIGINT"), ("_file_last_modified", "TIMESTAMP"),
                    ("_loaded_at", "TIMESTAMP"))
KAFKA_COLUMNS = (("record_metadata", "JSON"), ("record_content", "JSON"))
# the typed view's columns after the declared ones, with the types DuckDB gives them (kafka_view_sql)
KAFKA_VIEW_METADATA = (("_loaded_at", "TIMESTAMP"), ("_topic", "VARCHAR"), ("_partition", "INTEGER"),
                       ("_offset", "BIGINT"), ("_file", "VARCHAR"))
MAX_REPORTED = 5


class MissingColumns(Exception):
    """A Parquet file without a column its table declares (found before reading it: DuckDB's error for that, a
    BinderException, is also what a fault in the SQL written here raises)."""


# What a file DuckDB cannot read as declared raises (a malformed CSV row, broken JSON or Parquet, a Parquet file
# without a declared column, a file that vanished): reported per file under `on_error`; with `abort_statement` the
# load fails, as Snowflake's COPY does. Anything else (a bug in the SQL written here) propagates.
UNREADABLE_FILE = (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException, MissingColumns)
# What DuckDB raises when the database cannot take the load (disk full, out of memory, a write conflict): the run
# fails whole and says so (an EngineError: exit 1); a fault in the SQL written here propagates.
WRITE_FAILED = (duckdb.IOException, duckdb.OutOfMemoryException, duckdb.TransactionException,
                duckdb.PermissionException)


def landing_columns(table: IngestTable) -> list[tuple[str, str]]:
    """The landing table's columns with their DuckDB types, metadata columns last."""
    declared = KAFKA_COLUMNS if table.mode == "kafka" else tuple(
        (column.name, duckdb_column_type(column)) for column in (*table.columns, *table.partitions))
    return [*declared, *METADATA_COLUMNS]


def _rows(connection: Any, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
    return connection.execute(sql, parameters or []).fetchall()


def _target(table: IngestTable) -> str:
    return f"{table.schema}.{table.landing_identifier}"


def _relation(table: IngestTable) -> str:
    return f"{quote(table.schema)}.{quote(table.landing_identifier)}"


def landing_rows(connection: Any, table: IngestTable) -> int:
    """The rows the table's landing relation holds after its loads."""
    return int(connection.execute(f"select count(*) from {_relation(table)}").fetchone()[0])


def _columns(connection: Any, schema: str, name: str) -> list[tuple[str, str]]:
    """The columns and types of a relation of the domain's database, in their order (none: no relation)."""
    return [(column, kind.upper()) for column, kind in _rows(
        connection, "select column_name, data_type from information_schema.columns where table_catalog = "
        "current_database() and table_schema = ? and table_name = ? order by ordinal_position", [schema, name])]


def _existing_columns(connection: Any, table: IngestTable) -> dict[str, str]:
    return dict(_columns(connection, table.schema, table.landing_identifier))


def landing_plan(connection: Any | None, domain: str, tables: list[IngestTable], full_refresh: bool) -> Plan:
    """The statements that make the landing tables (and the load history) match the declarations, in the domain's
    database as `connection` holds it (None: no database yet). A new column is added in place; a removed or retyped
    one needs `full_refresh`, which recreates the table and forgets its load history (every file loads again), and
    is otherwise a note starting with BLOCKED, as on Snowflake. The plan of a converged database is empty."""
    plan = Plan(f"ingestion of {domain}")
    if connection is None or not _has_history(connection):
        plan.extend([Statement(f"create schema if not exists {HISTORY_SCHEMA}", "create", "schema", HISTORY_SCHEMA,
                               "load history"),
                     Statement(HISTORY_TABLE, "create", "table", HISTORY, "the files each landing table holds")])
    for table in tables:
        plan.extend(_landing_statements(connection, table, full_refresh, plan))
    plan.statements = list(dict.fromkeys(plan.statements))   # one `create schema` per schema
    return plan


def _landing_statements(connection: Any | None, table: IngestTable, full_refresh: bool,
                        plan: Plan) -> list[Statement]:
    wanted = landing_columns(table)
    existing = _existing_columns(connection, table) if connection is not None else {}
    broken = [f"{name} ({kind} → {dict(wanted).get(name, 'removed')})" for name, kind in existing.items()
              if dict(wanted).get(name) != kind]
    statements = []
    if existing and broken:
        if not full_refresh:
            plan.notes.append(f"{BLOCKED}: landing table {_target(table)} of {table.label}: column(s) "
                              f"{', '.join(broken)} changed; run with --full-refresh to recreate it and reload every "
                              "file")
            return []
        statements += [Statement(f"drop table {_relation(table)}", "drop", "table", _target(table),
                                 f"{', '.join(broken)} (--full-refresh: its rows are dropped)", destructive=True),
                       Statement(f"delete from {HISTORY} where target = {duckdb_string(_target(table))}", "delete",
                                 "load history", _target(table), "every file loads again", destructive=True)]
        existing = {}
    if not existing:
        body = ", ".join(f"{quote(name)} {kind}" for name, kind in wanted)
        statements += [Statement(f"create schema if not exists {quote(table.schema)}", "create", "schema",
                                 table.schema, "landing schema"),
                       Statement(f"create table {_relation(table)} ({body})", "create", "table", _target(table),
                                 f"landing table ({table.mode})")]
    statements += [Statement(f"alter table {_relation(table)} add column {quote(name)} {kind}", "alter", "table",
                             _target(table), f"column {name} added in YAML")
                   for name, kind in wanted if existing and name not in existing]
    if table.mode == "kafka" and (not existing or _view_columns(connection, table) != _kafka_view_columns(table)):
        statements.append(Statement(kafka_view_sql(table), "replace", "view", f"{table.schema}.{table.identifier}",
                                    f"typed view over the records of topic {table.topic}"))
    return statements


def _view_columns(connection: Any | None, table: IngestTable) -> list[tuple[str, str]]:
    """The columns and types of the Kafka source's typed view as the database holds it (none: no view)."""
    return [] if connection is None else _columns(connection, table.schema, table.identifier)


def _kafka_view_columns(table: IngestTable) -> list[tuple[str, str]]:
    return [*((column.name, duckdb_column_type(column)) for column in table.columns), *KAFKA_VIEW_METADATA]


def kafka_view_sql(table: IngestTable) -> str:
    """The typed view over a Kafka landing table: declared columns out of RECORD_CONTENT, the record's
    CreateTime as `_loaded_at` (what freshness reads), and its topic, partition and offset."""
    typed = []
    for column in table.columns:
        kind = duckdb_column_type(column)
        value = f"record_content->{duckdb_string(column.name)}" if kind == "JSON" else \
            f"try_cast(record_content->>{duckdb_string(column.name)} as {kind})"
        typed.append(f"{value} as {quote(column.name)}")
    return (f"create or replace view {quote(table.schema)}.{quote(table.identifier)} as select "
            + ", ".join(typed)
            + ", epoch_ms(try_cast(record_metadata->>'CreateTime' as bigint)) as _loaded_at"
            + ", record_metadata->>'topic' as _topic, try_cast(record_metadata->>'partition' as integer) as _partition"
            + ", try_cast(record_metadata->>'offset' as bigint) as _offset, _file"   # KAFKA_VIEW_METADATA
            + f" from {_relation(table)}")


def _loaded(connection: Any, table: IngestTable) -> set[tuple[str, int, datetime]]:
    return {(file, size, modified) for file, size, modified in _rows(
        connection, f"select file, size, last_modified from {HISTORY} where target = ?", [_target(table)])}


def pending_files(connection: Any | None, table: IngestTable, files: list[LocalFile]) -> list[LocalFile]:
    """The files a run would load: those whose (name, size, mtime) the history does not hold. An external
    table reloads every file whenever the set of files changed."""
    loaded = _loaded(connection, table) if connection is not None and _has_history(connection) else set()
    current = {(f.name, f.size, f.last_modified) for f in files}
    if table.mode == "external_table":
        return [] if current == loaded else files
    return [f for f in files if (f.name, f.size, f.last_modified) not in loaded]


def _has_history(connection: Any) -> bool:
    return bool(_rows(connection, "select 1 from information_schema.tables where table_catalog = current_database()"
                      " and table_schema = ? and table_name = 'load_history'", [HISTORY_SCHEMA]))


def _reader(table: IngestTable, file: LocalFile) -> tuple[str, list[tuple[str, str]]]:
    """A SELECT of one file's rows as text, and the (column, raw expression) pairs it yields."""
    path = duckdb_string(str(file.path))
    fmt = table.file_format
    if fmt.type == "csv":
        names = [c.name for c in table.columns]
        options = [f"header = false, skip = {int(fmt.option('skip_header', 0))}", "auto_detect = false",
                   "columns = {" + ", ".join(f"{duckdb_string(n)}: 'VARCHAR'" for n in names) + "}",
                   f"delim = {duckdb_string(fmt.option('field_delimiter', ','))}",
                   f"quote = {duckdb_string(fmt.option('field_optionally_enclosed_by', chr(34)))}"]
        if fmt.option("null_if"):
            options.append("nullstr = [" + ", ".join(duckdb_string(v) for v in fmt.option("null_if")) + "]")
        return f"select * from read_csv({path}, {', '.join(options)})", [(n, quote(n)) for n in names]
    if fmt.type == "json":
        layout = "array" if fmt.option("strip_outer_array") else "newline_delimited"
        source = f"select json from read_json_objects({path}, format = {duckdb_string(layout)})"
        if table.mode == "kafka":
            return source, [(name, f"cast(json->{duckdb_string(name.upper())} as varchar)") for name, _ in
                            KAFKA_COLUMNS]
        return source, [(c.name, f"cast(json->{duckdb_string(c.name)} as varchar)" if duckdb_column_type(c) == "JSON"
                         else f"json->>{duckdb_string(c.name)}") for c in table.columns]
    return f"select * from read_parquet({path})", [(c.name, f"cast({quote(c.name)} as varchar)")
                                                    for c in table.columns]


def _partition_values(table: IngestTable, file: LocalFile) -> list[tuple[str, str]]:
    values = []
    for column in table.partitions:
        found = re.search(rf"(?:^|/){re.escape(column.name)}=([^/]+)/", file.name)
        values.append((column.name, duckdb_string(found.group(1)) if found else "null"))
    return values


def _typed(table: IngestTable) -> dict[str, str]:
    return dict(landing_columns(table))


def _require_columns(connection: Any, table: IngestTable, file: LocalFile) -> None:
    """Raise MissingColumns when the Parquet file lacks a declared column (DuckDB matches names case-blind)."""
    found = {str(row[0]).lower() for row in _rows(
        connection, f"describe select * from read_parquet({duckdb_string(str(file.path))})")}
    missing = [column.name for column in table.columns if column.name.lower() not in found]
    if missing:
        raise MissingColumns(f"the file has no column {', '.join(missing)} (its columns: {', '.join(sorted(found))})")


def _stage_file(connection: Any, table: IngestTable, file: LocalFile, temp: str) -> tuple[list[str], int, list[str]]:
    """Read one file into a temporary table of text values; returns its value columns, the number of rows
    whose values do not cast, and a few of them."""
    if table.file_format.type == "parquet":
        _require_columns(connection, table, file)
    source, raw = _reader(table, file)
    raw = raw + _partition_values(table, file)
    selects = ", ".join(f"{expression} as {quote(name)}" for name, expression in raw)
    connection.execute(f"create or replace temp table {temp} as select {selects}, "
                       f"row_number() over () as _file_row from ({source})")
    types = _typed(table)
    checks = [f"({quote(name)} is not null and try_cast({quote(name)} as {types[name]}) is null)"
              for name, _ in raw]
    if table.mode == "kafka":
        checks += [f"({quote(name)} is null)" for name, _ in KAFKA_COLUMNS]
    bad = " or ".join(checks) or "false"
    count = _rows(connection, f"select count(*) from {temp} where {bad}")[0][0]
    examples = []
    if count:
        for row in _rows(connection, f"select _file_row, {', '.join(quote(n) for n, _ in raw)} from {temp} "
                         f"where {bad} order by _file_row limit {MAX_REPORTED}"):
            for (name, _), value in zip(raw, row[1:], strict=True):
                if (value is None and table.mode == "kafka") or (value is not None and _rows(
                        connection, f"select try_cast(? as {types[name]}) is null", [value])[0][0]):
                    examples.append(f"{file.name} row {row[0]}: {name} = {value!r}")
                    break
    return [name for name, _ in raw], count, examples


def load_table(connection: Any, table: IngestTable, files: list[LocalFile]) -> TableLoad:
    """Load the table's new files into its landing table (as `landing_plan` made it) in one transaction (rows and
    history rows together)."""
    result = TableLoad(table.label, table.mode)
    todo = pending_files(connection, table, files)
    if not todo:
        return result
    staged: list[tuple[LocalFile, str, list[str], int]] = []
    try:
        for index, file in enumerate(todo):
            temp = quote(f"_mesh_ingest_{index}")
            try:
                names, bad, examples = _stage_file(connection, table, file, temp)
            except UNREADABLE_FILE as exc:
                reason = str(exc).splitlines()[0]
                if "CSV Error" in reason:   # DuckDB names the line, not the cause: most often a column too many
                    reason += (f" (a row has more or fewer fields than the {len(table.columns)} declared "
                               "columns: compare the file's header with `columns:`)")
                if table.on_error == "abort_statement":
                    raise RunFailed(f"{table.label}: cannot read {file.name}: {reason}; nothing loaded "
                                    "(on_error: abort_statement)", path=table.path) from exc
                result.files_skipped.append(f"{file.name}: {reason}")
                continue
            if bad and table.on_error == "abort_statement":
                raise RunFailed(f"{table.label}: {bad} row(s) of {file.name} do not cast to the declared types "
                                f"(first: {examples[0] if examples else '?'}); nothing loaded "
                                "(on_error: abort_statement)", path=table.path)
            if bad and table.on_error == "skip_file":
                result.files_skipped.append(f"{file.name}: {bad} row(s) do not cast (on_error: skip_file)")
                result.rejected.extend(examples)
                continue
            result.rejected.extend(examples)
            staged.append((file, temp, names, bad))
        _commit(connection, table, staged, result)
    finally:
        for index in range(len(todo)):
            connection.execute(f"drop table if exists {quote(f'_mesh_ingest_{index}')}")
    return result


def _commit(connection: Any, table: IngestTable, staged: list[tuple[LocalFile, str, list[str], int]],
            result: TableLoad) -> None:
    types = _typed(table)
    connection.execute("begin transaction")
    try:
        connection.execute("create temp table if not exists _mesh_now as select "
                           "current_timestamp at time zone 'UTC' as now")
        if table.mode == "external_table":  # an external table shows exactly the files there are now
            connection.execute(f"delete from {_relation(table)}")
            connection.execute(f"delete from {HISTORY} where target = ?", [_target(table)])
        for file, temp, names, bad in staged:
            casts = [f"try_cast({quote(n)} as {types[n]})" for n in names]
            ok = " and ".join(f"({quote(n)} is null or try_cast({quote(n)} as {types[n]}) is not null)"
                              for n in names) or "true"
            if table.mode == "kafka":
                ok += " and " + " and ".join(f"{quote(n)} is not null" for n, _ in KAFKA_COLUMNS)
            columns = ", ".join(quote(n) for n in [*names, *dict(METADATA_COLUMNS)])
            # an external table's rows are as recent as its files (Snowflake: METADATA$FILE_LAST_MODIFIED)
            loaded_at = "?" if table.mode == "external_table" else "(select max(now) from _mesh_now)"
            parameters = [file.name, file.last_modified] + ([file.last_modified] if loaded_at == "?" else [])
            inserted = _rows(connection, f"insert into {_relation(table)} ({columns}) select {', '.join(casts)}, "
                             f"?, _file_row, ?, {loaded_at} from {temp} where {ok}", parameters)[0][0]
            connection.execute(f"insert into {HISTORY} select ?, ?, ?, ?, ?, ?, ?, max(now) from _mesh_now",
                               [_target(table), file.name, file.size, file.last_modified,
                                "partially_loaded" if bad else "loaded", inserted, bad])
            result.files_loaded.append(file.name)
            result.rows_loaded += inserted
            result.rows_rejected += bad
        connection.execute("drop table _mesh_now")
        connection.execute("commit")
    except WRITE_FAILED as exc:   # the engine's error, not the rollback's, in one line: a failed run, not bad input
        with contextlib.suppress(duckdb.Error):   # a failed commit may have ended the transaction already
            connection.execute("rollback")
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EngineError(f"{table.path}: {table.label}: loading failed: {reason}; nothing loaded (free disk space "
                          "or fix the cause, then run again)") from exc
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            connection.execute("rollback")
        raise


def missing_location(table: IngestTable, domain: Domain, files: list[LocalFile]) -> str | None:
    """Why a table's declared location is wrong (it matches no file and may not be empty), or None."""
    if files or table.may_be_empty:
        return None
    return (f"source {table.source}.{table.name}: location {table.location!r} matches no file in {domain.path}; "
            "fix `location:`, or set `may_be_empty: true` in its ingest block")


def load_domain(engine: DuckDBEngine, domain: Domain, tables: list[IngestTable], options: IngestOptions) -> Ingested:
    """Apply the domain's landing plan to its database, then load its new files (with `plan_only`: the plan and
    the files a run would load, changing nothing)."""
    if options.plan_only:
        return _planned(engine, domain, tables, options.full_refresh)
    found = {table.label: list_files(table, domain.path) for table in tables}
    for table in tables:   # checked before the database opens: a typo in `location` never publishes nothing
        if (problem := missing_location(table, domain, found[table.label])) is not None:
            raise MeshError(problem, path=table.path)
    connection = engine.open_database(domain.name)
    try:
        plan = landing_plan(connection, domain.name, tables, options.full_refresh)
        if stopped := blocked(plan):
            raise MeshError(stopped[0].removeprefix(f"{BLOCKED}: "),
                            path=next(table.path for table in tables if table.label in stopped[0]))
        refuse_destruction([plan], allow=options.allow_destroy, what=f"ingestion of {domain.name}")
        done = Ingested(plan=plan, applied=apply(plan, engine.guarded(connection.execute)))
        if done.applied is not None and not done.applied.ok:
            return done
        for table in tables:
            done.tables.append(load_table(connection, table, found[table.label]))
        for table, load in zip(tables, done.tables, strict=True):   # files, yet nothing landed: say why
            if not table.may_be_empty and landing_rows(connection, table) == 0:
                why = "; ".join([*load.files_skipped, *load.rejected][:2]) or "the files hold no rows"
                raise MeshError(f"source {table.source}.{table.name}: its landing table is empty after ingestion "
                                f"({why}); fix the files, or set `may_be_empty: true`", path=table.path)
    finally:
        connection.close()
    return done


def _planned(engine: DuckDBEngine, domain: Domain, tables: list[IngestTable], full_refresh: bool) -> Ingested:
    """The landing plan and, per table, the files a run would load (every file when there is no database yet)."""
    connection = engine.open_database(domain.name, read_only=True) if engine.has_database(domain.name) else None
    try:
        done = Ingested(plan=landing_plan(connection, domain.name, tables, full_refresh))
        for table in tables:
            load = TableLoad(table.label, table.mode)
            load.pending = [f.name for f in pending_files(connection, table, list_files(table, domain.path))]
            done.tables.append(load)
    finally:
        if connection is not None:
            connection.close()
    return done
