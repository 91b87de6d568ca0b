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
  (https://docs.snowflake.com/en/sql-reference/sql/copy-into-location);
- calls a table function that is not on the allow-list of harmless ones (`HARMLESS_TABLE_FUNCTIONS`: series,
  `unnest`, the catalog's metadata): `json_execute_serialized_sql` runs a SELECT given as a string, `query()` and
  `pragma_*` read a relation named in one, others read files; a function not known to be harmless is refused;
- writes the emulated governance state or a relation its node does not build (`Writer`): an INSERT, UPDATE,
  DELETE, MERGE, TRUNCATE, CREATE, DROP or ALTER on the `governance` schema (its role grants, entitlements and
  policy macros decide every read) outside the package's own preparation, or on any relation but the node's own.

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
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

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
# DuckDB table functions known to read neither files nor a relation named in a string: series, lists, a JSON value's
# elements (`json_each`, `json_tree`: Snowflake's FLATTEN as engines/duckdb_transpile.py writes it), and the catalog's
# metadata (names, types, settings; no rows of any relation). Every other one is refused, whatever its name
# (https://duckdb.org/docs/stable/sql/query_syntax/from: a table function is called in FROM).
# `flatten`: Snowflake's FLATTEN as written in SQL compiled without the transpile (which writes unnest/json_each
# for it); it explodes one value, and DuckDB has no table function of that name (the query fails when run).
HARMLESS_TABLE_FUNCTIONS = frozenset({
    "range", "generate_series", "unnest", "json_each", "json_tree", "flatten", "duckdb_columns", "duckdb_constraints",
    "duckdb_databases", "duckdb_dependencies", "duckdb_functions", "duckdb_indexes", "duckdb_keywords",
    "duckdb_schemas", "duckdb_sequences", "duckdb_settings", "duckdb_tables", "duckdb_types", "duckdb_views"})
# A function called where a relation goes (FROM, JOIN, LATERAL, a FROM list, a parenthesised FROM item).
_TABLE_CALL = re.compile(r'(?:\bfrom|\bjoin|\blateral|,)\s*(?:\(\s*)*(?:"?\w+"?\s*\.\s*)*"?(\w+)"?\s*\(', re.I)
WRITE_KEYWORDS = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "CREATE", "DROP", "ALTER")
_WRITE_WORD = re.compile(rf"\b({'|'.join(WRITE_KEYWORDS)})\b", re.I)
_SQLGLOT_LOG = logging.getLogger("sqlglot")
_STRINGS_AND_COMMENTS = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.S)
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_DOTTED = re.compile(rf"({_IDENT})\s*\.\s*({_IDENT})(?:\s*\.\s*({_IDENT}))?")


METADATA_SCHEMAS = ("information_schema", "pg_catalog")   # names and types, no rows of any relation
PROJECT_SCOPE = ""     # the key of the project-wide scope in APPROVED: statements of no node (run hooks)
GOVERNANCE_SCHEMA = "governance"       # the emulated governance state (macros/governance/prepare)
PROTECTED_SCHEMA = "mesh_protected"    # governed models' clear rows (macros/governance/protect/create_table_as.sql)
# The records the package's post-hook rewrites for the relation it protects (no policy reads them).
_RECORDS = ("tag_references", "policy_references")
_WRITES: tuple[type[exp.Expr], ...] = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.TruncateTable, exp.Create,
                                       exp.Drop, exp.Alter)


@dataclass(frozen=True)
class Writer:
    """Who issues the SQL, for the write rule: the relation its node builds (lower-cased database, schema,
    identifier; None for a project hook or `run_query` of no node), whether that node is the data_mesh package's
    own (`governance.mesh_entitlements`), and whether the SQL is the package's governance preparation (the
    `on-run-start` hook `{{ data_mesh.prepare_governance() }}`, the one writer of the emulated governance state),
    with the objects that preparation created so far (each is created once: a second definition is a domain's
    entry taking the name of the package's own, `is_role_in_session` say)."""

    builds: tuple[str, str, str] | None = None
    package: bool = False
    prepares_governance: bool = False
    created: set[str] = field(default_factory=set)


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


def refused_table_function(statement: exp.Expr) -> str | None:
    """The first table function the statement calls that is not known to be harmless, or None."""
    for table in statement.find_all(exp.Table, exp.Lateral):
        if isinstance(table.this, exp.Func):
            name = function_name(table.this)
            if name not in HARMLESS_TABLE_FUNCTIONS:
                return name
    return None


def _table_function_refusal(name: str) -> str:
    return (f"calls the table function {name}(), which is not known to be harmless (it may run SQL given as a "
            "string or read files, outside every policy); read relations by `ref`, files as a source "
            "`mesh ingest` loads (known harmless: range, generate_series, unnest, json_each, json_tree, flatten, "
            "the duckdb_* metadata functions)")


def _written(statement: exp.Expr) -> list[exp.Table]:
    """The relations (and macros) a write statement creates, changes or drops; a rename's new name included, in
    the renamed relation's schema."""
    if isinstance(statement, exp.Drop):
        parts: list[exp.Expr] = list(statement.args.get("tables") or [])
    elif isinstance(statement, exp.TruncateTable):
        parts = list(statement.expressions)
    else:
        parts = [statement.this, *(a for a in statement.args.get("actions") or [] if isinstance(a, exp.AlterRename))]
    written: list[exp.Table] = []
    for part in parts:
        table = part if isinstance(part, exp.Table) else part.find(exp.Table) if part is not None else None
        if table is None:
            continue
        if written and not table.db:      # ALTER ... RENAME TO <name>: the new name stays in the same schema
            table = exp.table_(table.name, db=written[0].db or None, catalog=written[0].catalog or None)
        written.append(table)
    return written


def _builds(table: exp.Table, builds: tuple[str, str, str]) -> bool:
    """Whether `table` is the node's own relation as dbt and the package build it: its name (dbt's `__dbt_tmp`
    and `__dbt_backup` beside it), or its clear storage `mesh_protected.<schema>__<name>`."""
    database, schema, name = builds     # "" for a database or schema not known (`_named_by`): any
    catalog, db, table_name = table.catalog.lower(), table.db.lower(), table.name.lower()
    if catalog not in ("", database, "temp") and database:
        return False
    if db == PROTECTED_SCHEMA:
        if not schema:
            return False
        name, db = f"{schema}__{name}", schema
    return (db in ("", schema) or not schema) and (table_name == name or table_name.startswith(f"{name}__dbt_"))


def _preparation_refusal(statement: exp.Expr, created: set[str]) -> str | None:
    """The package's preparation only creates, each object once."""
    if not isinstance(statement, _WRITES):
        return None
    if not isinstance(statement, exp.Create):
        return (f"runs {statement.key.upper()} while preparing the governance state, which only creates its objects; "
                "a domain's governance entry must not carry SQL of its own (check its `vars: data_mesh:` bodies)")
    for table in _written(statement):
        name = ".".join(part for part in (table.db, table.name) if part).lower()
        if name in created:
            return (f"creates {name} a second time while preparing the governance state: a domain's entry under "
                    "`vars: data_mesh:` takes the name of the package's own object; rename it")
        created.add(name)
    return None


def _write_refusal(statement: exp.Expr, writer: Writer) -> str | None:
    """A write outside the node's own relation, or to the emulated governance state (DuckDB-only hardening: on
    Snowflake the governance schema holds real policies, which the warehouse's grants protect)."""
    if writer.prepares_governance:
        return _preparation_refusal(statement, writer.created)
    if not isinstance(statement, _WRITES):
        return None
    kind = str(statement.args.get("kind") or "").upper()
    if kind == "SCHEMA" and isinstance(statement, exp.Create):
        return None       # dbt creates its schemas; creating one changes no relation
    for table in _written(statement):
        relation = ".".join(part for part in (table.catalog, table.db, table.name) if part)
        own = writer.builds is not None and _builds(table, writer.builds)
        if table.db.lower() == GOVERNANCE_SCHEMA:
            literals = {str(lit.this).lower() for lit in statement.find_all(exp.Literal) if lit.is_string}
            records = (isinstance(statement, (exp.Insert, exp.Delete)) and table.name.lower() in _RECORDS
                       and writer.builds is not None and writer.builds[2] in literals)
            if not (records or (own and writer.package)):
                return (f"writes {relation}, the emulated governance state (roles, grants, entitlements, policies) "
                        "that decides every read, which only the data_mesh package's prepare_governance writes; "
                        "remove it (roles and grants come from governance.yml and `mesh provision`)")
        elif not own:
            return (f"writes {relation}, which its node does not build; a model, seed or hook writes only its own "
                    "relation: build another relation as its own model")
    return None


def _unreadable_write(kind: str) -> str:
    return (f"runs a {kind.upper()} statement the side-door check cannot read, so cannot tell what it writes; write "
            "it as SQL the check parses, or remove it")


def _tree_refusal(statement: exp.Expr, scope: Scope, writer: Writer) -> str | None:
    if isinstance(statement, _SESSION_NODES) and scope.emulated:
        return _statement_refusal(statement.key)
    if isinstance(statement, exp.Command):
        word = str(statement.this).split()[0].upper() if str(statement.this).split() else ""
        if word in SESSION_KEYWORDS and scope.emulated:
            return _statement_refusal(word)
        return _unreadable_write(word) if word in WRITE_KEYWORDS and scope.emulated else None
    for function in statement.find_all(exp.Func):
        name = function_name(function)
        if reads_files(name) and scope.emulated:
            return (f"reads files or a relation named in a string with {name}(), outside every policy; read files "
                    "as a source `mesh ingest` loads, relations by `ref`")
    called = refused_table_function(statement) if scope.emulated else None
    if called:
        return _table_function_refusal(called)
    for table in statement.find_all(exp.Table):
        if isinstance(table.this, exp.Identifier) and _FILE_NAME.search(table.name) and not table.db and scope.emulated:
            return f"reads the file '{table.name}', outside every policy; declare it as a source `mesh ingest` loads"
        refusal = _relation_refusal([p for p in (table.catalog, table.db, table.name) if p], scope)
        if refusal:
            return refusal
    return _write_refusal(statement, writer) if scope.emulated else None


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
    called = next((m.group(1).lower() for m in _TABLE_CALL.finditer(bare) if not m.group(0).startswith(",")
                   and m.group(1).lower() not in HARMLESS_TABLE_FUNCTIONS), None)
    if called and scope.emulated:
        return _table_function_refusal(called)
    if word and word.group(1).upper() in WRITE_KEYWORDS and scope.emulated:
        return _unreadable_write(word.group(1))
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


def refusal(sql: str, scope: Scope, writer: Writer = Writer()) -> str | None:
    """Why this compiled SQL (one or more statements) may not run, issued by `writer`, or None."""
    try:
        statements = _parse(sql, scope.dialect)
    except SqlglotError:
        return _text_refusal(sql, scope)
    if writer.prepares_governance and len(statements) > 1:
        return ("runs several statements at once while preparing the governance state, which runs one at a time: a "
                "domain's governance entry must not carry SQL of its own (check its `vars: data_mesh:` bodies)")
    for statement in statements:
        found = _tree_refusal(statement, scope, writer)
        if found:
            return found
    return None


def may_need_parsing(sql: str, foreign: Iterable[str]) -> bool:
    """A cheap test before parsing: whether the SQL has a statement starting with a session keyword, may read a
    file, calls a function where a relation goes, writes, or names something in a foreign database. SQL without any
    of these is let through unparsed."""
    if _STATEMENT_WORD.search(sql) or _MAY_READ_FILES.search(sql) or _TABLE_CALL.search(sql) or _WRITE_WORD.search(sql):
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
# unique_id of each node of the project run (and of the data_mesh package) -> the relation it builds, lower-cased
BUILDS: dict[str, tuple[str, str, str]] = {}
_GUARDED = [True]     # whether this process's current run judges its statements (`start_run`)
_RENDERING = threading.local()   # `prepares_governance`: this thread renders the package's preparation hook


def rendering(prepares_governance: bool) -> None:
    """A node's Jinja starts rendering in this thread (dbt renders a hook where its `run_query` statements run):
    whether it is the package's governance preparation, whose statements may create the governance state."""
    _RENDERING.prepares_governance = prepares_governance
    _RENDERING.created = set()


def _named_by(node_id: str) -> tuple[str, str, str] | None:
    """The relation a node builds when no compiled node of this run said so (a `dbt seed` with no hook compiles
    nothing): the name in its unique_id (`seed.<project>.<name>`), in whichever database and schema."""
    kind, _, rest = node_id.partition(".")
    name = rest.partition(".")[2]
    return ("", "", name.lower()) if kind in ("seed", "model", "snapshot") and name and "." not in name else None


def writer_of(node_id: str | None) -> Writer:
    """Who issues a statement under dbt's connection `node_id` (a node's unique_id, else `master` or the like)."""
    node = node_id or ""
    return Writer(BUILDS.get(node) or _named_by(node), node.startswith("model.data_mesh."),
                  getattr(_RENDERING, "prepares_governance", False), getattr(_RENDERING, "created", set()))


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
    # the approved SQL stands as a query that parses (`create view x as ( select null )`), not read again
    rest = sql.replace(approval.compiled, " select null ") if approval.compiled else sql
    if not may_need_parsing(rest, approval.scope.foreign):
        return None
    if (node_id or "").startswith("seed.") and _loads_a_seed(sql, dialect):
        return None
    found = refusal(rest, approval.scope, writer_of(node_id))
    return f"{approval.label}: a statement it runs (a hook, run_query) {found}" if found else None


def start_run(guarded: bool) -> None:
    """A new dbt invocation: what earlier runs in this process judged no longer applies, and its statements are
    judged only when it builds a mesh domain (`guarded`)."""
    APPROVED.clear()
    BUILDS.clear()
    rendering(False)
    _GUARDED[0] = guarded
