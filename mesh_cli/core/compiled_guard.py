"""What a domain's compiled SQL may not do: the side-door rule read from SQL after Jinja, so that however a relation
or statement is spelled (a name built in Jinja, from `var()`, by a macro), what runs is what is judged.

A node's or hook's SQL is refused when it
- names a relation in another domain's database that is not one of the public relations the node reaches by
  `ref` (on Snowflake a consumer reads another domain only through the objects granted to it: its shares or the
  product's reader database role, https://docs.snowflake.com/en/user-guide/security-access-control-overview);
- changes the session (ATTACH, DETACH, SET, RESET, USE, INSTALL, LOAD, PRAGMA, CALL, EXPORT, IMPORT): a session
  variable would change the emulated roles, which on Snowflake change only by the user's own grants
  (https://docs.snowflake.com/en/sql-reference/sql/use-role);
- copies or reads files (COPY, read_csv, read_parquet, read_json, glob, a file named in FROM, ...): files are
  outside every policy; on Snowflake a query reaches files only through a stage the role may use
  (https://docs.snowflake.com/en/sql-reference/sql/copy-into-location).

The session and file rules apply on an engine that emulates governance (`Engine.emulates_governance`: DuckDB),
whose emulation they would step around; on Snowflake (`USE WAREHOUSE` in a hook, say) the warehouse's own grants
decide them, and only the relation rule applies.

Pure: sqlglot only, no dbt, no database; `mesh_cli/plugin/dialect.py` calls it on every compiled node and the
engine's statement guard (`Engine.install_statement_guard`) on every statement a run issues outside the nodes'
compiled SQL.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

# Statements that change the session or touch files, by their first keyword.
SESSION_KEYWORDS = ("ATTACH", "DETACH", "SET", "RESET", "USE", "INSTALL", "FORCE", "LOAD", "PRAGMA", "CALL",
                    "EXPORT", "IMPORT", "COPY")
_SESSION_NODES: tuple[type[exp.Expr], ...] = (exp.Attach, exp.Detach, exp.Set, exp.Use, exp.Install,
                                                    exp.Pragma, exp.Copy)
# DuckDB's table functions that read files (and those of its extensions); any `read_*` or `*_scan` too; and
# `query`/`query_table` and every `pragma_*` function, which read a relation named in a string no check sees
# (`pragma_storage_info('<table>')` shows each column's minimum and maximum: clear values of a protected table).
FILE_FUNCTIONS = frozenset({"query", "query_table", "glob", "sniff_csv", "parquet_metadata", "parquet_schema",
                            "parquet_file_metadata", "parquet_kv_metadata", "parquet_bloom_probe", "st_read",
                            "iceberg_metadata", "iceberg_snapshots", "sqlite_attach", "postgres_attach",
                            "mysql_attach"})
_FILE_FUNCTION = re.compile(r"^(read_\w+|\w+_scan|pragma_\w+)$")
_EXTENSIONS = r"csv|tsv|txt|parquet|json|jsonl|ndjson|xlsx|gz|zst|duckdb|db|sqlite"
_FILE_NAME = re.compile(rf"[/\\]|\.({_EXTENSIONS})$", re.I)
# What may make SQL worth parsing, besides a session keyword and a foreign database's name.
_MAY_READ_FILES = re.compile(rf"read_|_scan|pragma_|glob|query|['\"][^'\"]*(?:[/\\]|\.(?:{_EXTENSIONS})\b)", re.I)
_FIRST_WORD = re.compile(r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*([A-Za-z]+)", re.S)
_STATEMENT_WORD = re.compile(rf"(?:^|;)\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*({'|'.join(SESSION_KEYWORDS)})\b",
                             re.S | re.I)
_FILE_CALL = re.compile(r"\b(read_\w+|\w+_scan|pragma_\w+|glob|query|query_table)\s*\(", re.I)
_SQLGLOT_LOG = logging.getLogger("sqlglot")
_STRINGS_AND_COMMENTS = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.S)
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_DOTTED = re.compile(rf"({_IDENT})\s*\.\s*({_IDENT})(?:\s*\.\s*({_IDENT}))?")


METADATA_SCHEMAS = ("information_schema", "pg_catalog")   # names and types, no rows of any relation
PROJECT_SCOPE = ""     # the key of the project-wide scope in APPROVED: statements of no node (run hooks)


@dataclass(frozen=True)
class Scope:
    """What a node may read outside its own database: `foreign` maps each other domain's database (upper-cased)
    to that domain; `allowed` holds the upper-cased `database.schema.name` of the public relations it refs."""

    foreign: dict[str, str]
    allowed: frozenset[str]
    public: dict[str, tuple[str, ...]]    # a foreign database (upper-cased) -> its public models, for the fix
    dialect: str | None                   # the SQL's dialect (sqlglot's name; None: sqlglot's generic SQL)
    # The SQL runs in an engine's emulation of governance, where session statements and files would step around it
    # (`Engine.emulates_governance`); on Snowflake the warehouse's own grants decide those: the relation rule only.
    emulated: bool


def _relation_refusal(parts: list[str], scope: Scope) -> str | None:
    """A relation named by its parts, refused when it lies in another domain's database and is not ref'd."""
    if len(parts) < 2 or parts[0].upper() not in scope.foreign:
        return None
    name = ".".join(parts)
    if len(parts) == 3 and (name.upper() in scope.allowed or parts[1].lower() in METADATA_SCHEMAS):
        return None
    owner = scope.foreign[parts[0].upper()]
    models = ", ".join(scope.public.get(parts[0].upper(), ())) or "none referenced"
    return (f"reads {name} of domain {owner} directly, a side door around its shares and policies; read a public "
            f"model of {owner} with {{{{ ref('{owner}', '<model>') }}}} (its public models here: {models})")


def _statement_refusal(kind: str) -> str:
    return (f"runs {kind.upper()}, which changes the session or touches files around the governance policies; "
            "remove it (files come in through `mesh ingest`, session settings belong to the profile)")


def function_name(function: exp.Func) -> str:
    """A function's name, lower-cased, as DuckDB calls it (an unknown function by its own name)."""
    name = function.name if isinstance(function, exp.Anonymous) else function.sql_name()
    return str(name).lower()


def reads_files(name: str) -> bool:
    """Whether a table function of this name reads files (or a relation named in a string)."""
    return name in FILE_FUNCTIONS or _FILE_FUNCTION.match(name) is not None


def _tree_refusal(statement: exp.Expr, scope: Scope) -> str | None:
    if isinstance(statement, _SESSION_NODES) and scope.emulated:
        return _statement_refusal(statement.key)
    if isinstance(statement, exp.Command):
        word = str(statement.this).split()[0].upper() if str(statement.this).split() else ""
        return _statement_refusal(word) if word in SESSION_KEYWORDS and scope.emulated else None
    for function in statement.find_all(exp.Func):
        name = function_name(function)
        if reads_files(name) and scope.emulated:
            return (f"reads files or a relation named in a string with {name}(), outside every policy; read files "
                    "as a source `mesh ingest` loads, relations by `ref`")
    for table in statement.find_all(exp.Table):
        if isinstance(table.this, exp.Identifier) and _FILE_NAME.search(table.name) and not table.db and scope.emulated:
            return f"reads the file '{table.name}', outside every policy; declare it as a source `mesh ingest` loads"
        refusal = _relation_refusal([p for p in (table.catalog, table.db, table.name) if p], scope)
        if refusal:
            return refusal
    return None


def _text_refusal(sql: str, scope: Scope) -> str | None:
    """What sqlglot cannot parse is read as text: its first keyword, file-reading calls, dotted names."""
    word = _FIRST_WORD.match(sql)
    if word and word.group(1).upper() in SESSION_KEYWORDS and scope.emulated:
        return _statement_refusal(word.group(1))
    bare = _STRINGS_AND_COMMENTS.sub(" ", sql)
    call = _FILE_CALL.search(bare)
    if call and scope.emulated:
        return (f"reads files or a relation named in a string with {call.group(1).lower()}(), outside every "
                "policy; read files as a source `mesh ingest` loads, relations by `ref`")
    for match in _DOTTED.finditer(bare):
        refusal = _relation_refusal([p.strip('"') for p in match.groups() if p], scope)
        if refusal:
            return refusal
    return None


def _parse(sql: str, dialect: str | None) -> list[exp.Expr]:
    """sqlglot's statements; its warning for each statement read as a generic Command (RESET, CALL, LOAD: refused
    or let through on purpose here) is silenced, or a dbt run would print it for every hook."""
    level = _SQLGLOT_LOG.level
    _SQLGLOT_LOG.setLevel(logging.ERROR)
    try:
        return [statement for statement in sqlglot.parse(sql, read=dialect) if statement is not None]
    finally:
        _SQLGLOT_LOG.setLevel(level)


def refusal(sql: str, scope: Scope) -> str | None:
    """Why this compiled SQL (one or more statements) may not run, or None."""
    try:
        statements = _parse(sql, scope.dialect)
    except SqlglotError:
        return _text_refusal(sql, scope)
    for statement in statements:
        found = _tree_refusal(statement, scope)
        if found:
            return found
    return None


def may_need_parsing(sql: str, foreign: Iterable[str]) -> bool:
    """A cheap test before parsing: whether the SQL has a statement starting with a session keyword, may read a
    file, or names something in a foreign database. SQL without any of these is let through unparsed."""
    if _STATEMENT_WORD.search(sql) or _MAY_READ_FILES.search(sql):
        return True
    naming = _naming(tuple(sorted(foreign)))
    return naming is not None and naming.search(sql) is not None


@functools.lru_cache(maxsize=64)
def _naming(databases: tuple[str, ...]) -> re.Pattern[str] | None:
    """A database's name, quoted or not, then (across spaces) a dot: what a relation in it must contain."""
    if not databases:
        return None
    names = "|".join(sorted((re.escape(name) for name in databases), key=len, reverse=True))
    return re.compile(rf'(?<![\w$"])"?(?:{names})"?\s*\.', re.I)


def scope_of(own_database: str, databases: Collection[str], public: dict[str, tuple[str, ...]],
             owners: dict[str, str], allowed: Iterable[str], *, dialect: str | None, emulated: bool) -> Scope:
    """The scope of a node in `own_database`: every other of `databases` is foreign (named after its domain in
    `owners`, else itself); `allowed` are the relations it refs there; `dialect` and `emulated` are its engine's
    answers (`Engine.sqlglot_dialect`, `Engine.emulates_governance`)."""
    foreign = {name.upper(): owners.get(name.upper(), name) for name in databases
               if name and name.upper() != own_database.upper()}
    return Scope(foreign, frozenset(name.upper() for name in allowed), {k.upper(): v for k, v in public.items()},
                 dialect, emulated)


@dataclass(frozen=True)
class Approval:
    """A node whose compiled SQL was judged: where it comes from (`file: node`), its scope, and that SQL."""

    label: str
    scope: Scope
    compiled: str


# unique_id of each node judged in this run -> its approval (PROJECT_SCOPE: the project's own scope)
APPROVED: dict[str, Approval] = {}
_GUARDED = [True]     # whether this process's current run judges its statements (`start_run`)


def _loads_a_seed(sql: str, dialect: str) -> bool:
    """dbt-duckdb loads a seed with one `COPY <its table> FROM '<its file>'` (the session reads files of its own
    project only: `engines/duckdb_session.py`)."""
    try:
        statements = _parse(sql, dialect)
    except SqlglotError:
        return False
    return len(statements) == 1 and isinstance(statements[0], exp.Copy) and statements[0].args.get("kind") is True


def statement_refusal(sql: str, node_id: str | None, dialect: str) -> str | None:
    """Why a statement a run issues (hooks, `run_query`, the materialization around an approved node's SQL) in
    an engine's governance emulation, in its `dialect`, may not run, as one line naming its file and node; None
    when it may. The approved compiled SQL inside it is not read again. Before any node is judged (a run's first
    statements) no other database is known yet: session statements and files are refused all the same."""
    approval = (APPROVED.get(node_id or PROJECT_SCOPE) or APPROVED.get(PROJECT_SCOPE)
                or Approval("dbt run", Scope({}, frozenset(), {}, dialect, emulated=True), ""))
    if not _GUARDED[0]:
        return None
    rest = sql.replace(approval.compiled, " ") if approval.compiled else sql
    if not may_need_parsing(rest, approval.scope.foreign):
        return None
    if (node_id or "").startswith("seed.") and _loads_a_seed(sql, dialect):
        return None
    found = refusal(rest, approval.scope)
    return f"{approval.label}: a statement it runs (a hook, run_query) {found}" if found else None


def start_run(guarded: bool) -> None:
    """A new dbt invocation: what earlier runs in this process judged no longer applies, and its statements are
    judged only when it builds a mesh domain (`guarded`)."""
    APPROVED.clear()
    _GUARDED[0] = guarded
