"""The embedded engine: DuckDB, one database file per domain, upstream files attached read-only."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.ingest_spec import Ingested, IngestOptions, IngestTable
from mesh_cli.core.plan import Backend
from mesh_cli.core.policy_bodies import ENTITLEMENTS_TABLE, LibraryPolicy, snowflake_body_problem
from mesh_cli.core.profile_outputs import LocalOutput, ProfileOutput, ProfileProblem
from mesh_cli.core.types import DataType
from mesh_cli.engines.base import Engine
from mesh_cli.engines.duckdb_provision import DuckDBProvisioner
from mesh_cli.engines.duckdb_roles import roles_literal, set_expanded_roles_sql, set_roles_sql
from mesh_cli.engines.duckdb_shares import EmulatedBackend
from mesh_cli.engines.snowflake_shares import SnowflakeShareStatements

if TYPE_CHECKING:   # duckdb and the type model (sqlglot) load when used: reads like `mesh list` need neither
    import duckdb

DUCKDB_DIR_ENV = "MESH_DUCKDB_DIR"
DATABASE_SUFFIX = ".duckdb"
# The storage format new database files are written in: v1.0.0's (storage version 64), which every DuckDB 1.x reader
# opens (DuckDB CLIs and notebook kernels beside the mesh, datacontract-cli's duckdb<1.6); duckdb 2.0's own format
# (69) opens in 2.x only. Domain profiles set the same value (`config_options`) for the files dbt creates. Its
# cost is measured in bench/ (docs/benchmarks.md); https://duckdb.org/docs/stable/sql/statements/attach
STORAGE_VERSION = "v1.0.0"
MAGIC = b"DUCK"   # a DuckDB database file carries it at bytes 8-12 of its header
SESSION_PLUGIN = "mesh_cli.engines.duckdb_session"   # the dbt-duckdb plugin that sets a session's roles


def default_database_dir(state_dir: Path) -> Path:
    """Where the domains' database files lie when `MESH_DUCKDB_DIR` does not say: in the mesh's state folder."""
    return state_dir / "duckdb"


def _unreadable(path: Path, name: str, error: Exception) -> MeshError:
    """A database file DuckDB cannot open: held by a writer, or not a database (corrupt or truncated)."""
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    if "lock" in first.lower():
        return MeshError(f"the database of {name} is held by another process ({first}); run the command again "
                         "when it ends", path=path)
    return MeshError(f"the database file of {name} cannot be opened ({first}); delete it and rebuild it with "
                     f"`mesh build {name}`", path=path)


def _open_read_only(path: Path, name: str) -> duckdb.DuckDBPyConnection:
    import duckdb

    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise _unreadable(path, name, exc) from exc


GOVERNANCE_SCHEMA = "governance"   # the package's governance_schema()
# What a policy body reads on DuckDB, empty: the emulated role functions and the entitlements table the package
# creates before its policies (macros/governance/prepare/governance_statements.sql)
POLICY_SCAFFOLD = (f"create schema {GOVERNANCE_SCHEMA}; "
                   f"create macro {GOVERNANCE_SCHEMA}.is_role_in_session(r) as (null::boolean); "
                   f"create macro {GOVERNANCE_SCHEMA}.is_database_role_in_session(r) as (null::boolean); "
                   f"create table {ENTITLEMENTS_TABLE} (role_name varchar, dimension varchar, "
                   "value varchar)")


def duckdb_policy_body(policy: dict[str, Any]) -> str:
    """The body DuckDB runs for a library policy, as the package's duckdb__policy_body writes it
    (macros/governance/policies/policy_body.sql): `body_duckdb` or `body`, the two role checks and
    `@entitlements` pointed at the governance schema."""
    body = str(policy.get("body_duckdb") or policy.get("body") or "")
    body = body.replace("is_database_role_in_session(", "@database_role_check(")
    body = body.replace("is_role_in_session(", f"{GOVERNANCE_SCHEMA}.is_role_in_session(")
    body = body.replace("@database_role_check(", f"{GOVERNANCE_SCHEMA}.is_database_role_in_session(")
    return body.replace("@entitlements", ENTITLEMENTS_TABLE)


class DuckDBEngine(Engine):
    """Each domain builds into `<state>/duckdb/<domain>.duckdb`; its profile attaches its upstreams' files."""

    adapter_type = "duckdb"
    dbt_package = "dbt-duckdb"
    embedded = True
    local_dirs_env = (DUCKDB_DIR_ENV,)
    previews_snowflake_sql = True      # engines/duckdb_transpile.py, macros/contracts_local/, macros/python/
    database_suffix = DATABASE_SUFFIX
    counts_built_rows = True           # dbt-duckdb's adapter response has no rows_affected
    contract_tests_read_copies = True  # a governed model's name is a view showing a session without roles no rows
    share_statements = SnowflakeShareStatements()   # shares are an emulated Snowflake account (duckdb_shares.py)
    sqlglot_dialect = "duckdb"
    emulates_governance = True         # roles are the session variable `mesh_roles` (duckdb_session.py)

    def share_backend(self, domain: str, plan_only: bool) -> Backend:
        return EmulatedBackend(self.config, self.target, domain)

    @property
    def database_dir(self) -> Path:
        configured = os.environ.get(DUCKDB_DIR_ENV)
        return Path(configured).resolve() if configured else default_database_dir(self.config.state_dir)

    def database_path(self, domain: str) -> Path:
        return self.database_dir / f"{domain}{DATABASE_SUFFIX}"

    def dbt_env(self) -> dict[str, str]:
        return {DUCKDB_DIR_ENV: str(self.database_dir)}

    def domain_env(self, domain: Domain) -> dict[str, str]:
        # Relative, as the profiles' own default (`../../.mesh/duckdb`) is: dbt's partial-parse state hashes the
        # rendered connection, so `mesh build` and a plain `dbt build` in the domain then share it.
        return {DUCKDB_DIR_ENV: os.path.relpath(self.database_dir, domain.path)}

    def prepare(self) -> None:
        self.database_dir.mkdir(parents=True, exist_ok=True)

    @classmethod
    def policy_problems(cls, policies: Sequence[LibraryPolicy]) -> list[str]:
        """The Snowflake parse, then each policy created as the DuckDB macro the build creates, in an in-memory
        database holding the emulated role functions and entitlements table: an unknown function or a body
        DuckDB cannot parse fails here as it would fail every build."""
        import duckdb

        unparsed = [snowflake_body_problem(policy.entry.get("body")) for policy in policies]
        problems = [policy.refusal("body", problem) for policy, problem in zip(policies, unparsed, strict=True)
                    if problem is not None]
        connection = duckdb.connect()
        try:
            connection.execute(POLICY_SCAFFOLD)
            for policy, problem in zip(policies, unparsed, strict=True):
                field = "body_duckdb" if policy.entry.get("body_duckdb") else "body"
                if field == "body" and problem is not None:
                    continue    # refused by the parse already: one line per policy
                try:
                    connection.execute(f"create or replace macro {GOVERNANCE_SCHEMA}.{policy.name}"
                                       f"({', '.join(policy.arguments)}) as ({duckdb_policy_body(policy.entry)})")
                except duckdb.Error as exc:
                    problems.append(policy.refusal(field, f"fails on DuckDB ({str(exc).splitlines()[0]})"))
        finally:
            connection.close()
        return problems

    @classmethod
    def release_connections(cls) -> None:
        # dbt-duckdb keeps its database open in a class attribute between invocations; a worker that built
        # an upstream must let go of the file before a downstream attaches it from another process.
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
        DuckDBConnectionManager.close_all_connections()

    @classmethod
    def install_statement_guard(cls) -> None:
        """dbt-duckdb's connection manager judges each statement (engines/duckdb_session.py)."""
        try:
            from mesh_cli.engines.duckdb_session import install_statement_guard
        except ImportError:   # no dbt-duckdb: no DuckDB session to guard
            return
        install_statement_guard()

    @classmethod
    def driver_errors(cls) -> tuple[type[BaseException], ...]:
        import duckdb

        return (duckdb.Error,)

    def has_database(self, domain: str) -> bool:
        return self.database_path(domain).is_file()

    def database_file(self, domain: str) -> Path:
        return self.database_path(domain)

    @classmethod
    def is_database_file(cls, path: Path) -> bool:
        try:
            with path.open("rb") as handle:
                return handle.read(12)[8:12] == MAGIC
        except OSError:
            return False

    def ingest(self, domain: Domain, tables: list[IngestTable], options: IngestOptions) -> Ingested:
        """The landing plan applied to the domain's database, then the files under each table's local `location`
        loaded into it (engines/duckdb_ingest.py); with `plan_only`, the plan and the files a run would load."""
        from mesh_cli.engines.duckdb_ingest import load_domain

        return load_domain(self, domain, tables, options)

    def ingestion_problems(self, domain: Domain, tables: list[IngestTable]) -> list[str]:
        from mesh_cli.core.ingest_spec import list_files
        from mesh_cli.engines.duckdb_ingest import missing_location

        return [f"{table.path}: {problem}" for table in tables
                if (problem := missing_location(table, domain, list_files(table, domain.path))) is not None]

    def open_database(self, domain: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection to a domain's own database alone (created when missing unless `read_only`), for what
        the mesh writes itself (ingestion); no dbt process may hold the file meanwhile."""
        import duckdb

        self.prepare()
        with self.errors():
            return duckdb.connect(str(self.database_path(domain)), read_only=read_only,
                                  config={"storage_compatibility_version": STORAGE_VERSION})

    def stored_rows(self, domain: str, relations: list[str]) -> dict[str, int]:
        # one count(*) per table, read-only
        with self.errors(), self.open_database(domain, read_only=True) as connection:
            return {relation: connection.execute(f"select count(*) from {_stored_relation(connection, relation)}")
                    .fetchall()[0][0] for relation in relations}

    def provisioner(self, *, plan_only: bool) -> DuckDBProvisioner:
        return DuckDBProvisioner(self)

    def check_single_select(self, connection: duckdb.DuckDBPyConnection, sql: str) -> None:
        single_select(connection, sql)

    def connect(self, domain: Domain, roles: list[str] | None = None, *,
                locked: bool = False) -> duckdb.DuckDBPyConnection:
        """A read-only connection to a domain's database with its upstreams attached, as dbt sees it, whose
        session holds `roles` and every role they inherit (governance reads them). `locked`: every role must be
        one the attached databases know, files outside them cannot be read or written, and the configuration is
        locked (`mesh query`)."""
        import duckdb

        path = self.database_path(domain.name)
        if not path.is_file():
            raise MeshError(f"{domain.name} has no database at {path}; run `mesh build -s +{domain.name}`")
        connection = _open_read_only(path, domain.name)
        for upstream in domain.upstreams:
            upstream_path = self.database_path(upstream)
            if not upstream_path.is_file():
                connection.close()
                raise MeshError(f"upstream {upstream} of {domain.name} has no database at {upstream_path}; "
                                f"run `mesh build -s +{domain.name}`")
            try:
                connection.execute(f"ATTACH '{_sql_string(str(upstream_path))}' AS \"{upstream}\" (READ_ONLY)")
            except duckdb.Error as exc:
                connection.close()
                raise _unreadable(upstream_path, upstream, exc) from exc
        try:
            _set_session_roles(connection, [domain.name, *domain.upstreams], roles or [])
            if locked:
                _known_roles_only(connection, [domain.name, *domain.upstreams], roles or [])
            if locked:
                connection.execute("set enable_external_access = false")
                connection.execute("set lock_configuration = true")
        except (ValueError, MeshError) as exc:
            connection.close()
            raise MeshError(str(exc)) from exc
        return connection

    def write_copy(self, domain: Domain, roles: list[str], relations: dict[str, str], stored: set[str],
                   dest: Path) -> dict[str, int]:
        """The copy is written in STORAGE_VERSION, beside `dest` until it is whole; the domain's database and its
        upstreams' are attached read-only under their names, and the session holds `roles` as `connect` sets them.
        A governed model's stored rows are `mesh_protected.<schema>__<name>`
        (macros/governance/protect/create_table_as.sql). The copy keeps a macro `is_role_in_session(role)` that
        answers for the roles its reader held, as Snowflake's function does
        (https://docs.snowflake.com/en/sql-reference/functions/is_role_in_session)."""
        import duckdb

        catalogs = [domain.name, *domain.upstreams]
        missing = [name for name in catalogs if not self.has_database(name)]
        if missing:
            raise MeshError(f"{', '.join(missing)} has no database in {self.database_dir}; "
                            f"run `mesh build -s +{domain.name}`")
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".partial")
        partial.unlink(missing_ok=True)
        counts = {}
        try:
            with self.errors(), duckdb.connect(str(partial),
                                               config={"storage_compatibility_version": STORAGE_VERSION}) as copy:
                for name in catalogs:
                    copy.execute(f"ATTACH '{_sql_string(str(self.database_path(name)))}' AS \"{name}\" (READ_ONLY)")
                _set_session_roles(copy, catalogs, roles)
                for name, relation in relations.items():
                    schema, table = name.split(".")
                    source = _stored_relation(copy, relation) if name in stored else relation
                    copy.execute(f'create schema if not exists "{schema}"')
                    copy.execute(f'create table "{schema}"."{table}" as select * from {source}')
                    counts[name] = copy.execute(f'select count(*) from "{schema}"."{table}"').fetchall()[0][0]
                # after the copying: the governed views' policies call the attached databases' own macro
                held = copy.execute("select getvariable('mesh_roles')").fetchall()[0][0] or []
                copy.execute(f"create macro main.is_role_in_session(role) as list_contains({roles_literal(held)}, "
                             "upper(role))")
            partial.replace(dest)
        finally:   # a failed copy leaves nothing behind
            partial.unlink(missing_ok=True)
            partial.with_name(partial.name + ".wal").unlink(missing_ok=True)
        return counts

    def session_roles(self, connection: Any) -> list[str]:
        return sorted(connection.execute("select getvariable('mesh_roles')").fetchone()[0] or [])

    def read_through_share(self, connection: Any, share: str, database_roles: tuple[str, ...]) -> None:
        # the package's context functions read these (macros/governance/prepare/governance_statements.sql)
        connection.execute("set variable mesh_share = ?", [share.upper()])
        connection.execute(f"set variable mesh_database_roles = {roles_literal(list(database_roles))}")

    def session_tables(self, connection: Any, schema: str) -> list[tuple[str, str]]:
        return [(str(catalog), str(name)) for catalog, name in connection.execute(
            "select table_catalog, table_name from information_schema.tables where table_schema = ?",
            [schema]).fetchall()]

    def session_schemas(self, connection: Any, database: str) -> set[str]:
        return {str(row[0]).lower() for row in connection.execute(
            "select schema_name from information_schema.schemata where catalog_name = ?", [database]).fetchall()}

    @classmethod
    def columns_query(cls, relations: list[tuple[str, str, str]]) -> str:
        from mesh_cli.engines.duckdb_transpile import columns_query

        return columns_query(relations)

    @classmethod
    def transpile_snowflake(cls, sql: str, model: str, cache: Path | None, columns: Iterable[Sequence[Any]]) -> str:
        from mesh_cli.engines.duckdb_transpile import cached_transpile, snowflake_schema

        return cached_transpile(sql, model, cache, snowflake_schema(columns))

    @classmethod
    def spell_type(cls, data_type: DataType) -> str | None:
        from mesh_cli.engines.duckdb_types import duckdb_type

        return duckdb_type(data_type)

    @classmethod
    def contract_type_error(cls, data_type: str) -> str | None:
        from mesh_cli.engines.duckdb_types import duckdb_type_error

        return duckdb_type_error(data_type)

    @classmethod
    def native_spelling(cls, data_type: str) -> str | None:
        from mesh_cli.engines.duckdb_types import duckdb_spelling

        return duckdb_spelling(data_type)

    @classmethod
    def build_roles(cls, output: dict[str, Any]) -> list[str] | None:
        """The roles of the profile's session plugin (engines/duckdb_session.py)."""
        for plugin in output.get("plugins") or []:
            if isinstance(plugin, dict) and plugin.get("module") == SESSION_PLUGIN:
                return [str(role) for role in (plugin.get("config") or {}).get("roles") or []]
        return None

    @classmethod
    def profile_problems(cls, outputs: list[ProfileOutput], target: str) -> Iterator[ProfileProblem]:
        from mesh_cli.engines.duckdb_profiles import profile_problems

        return profile_problems(outputs, target)

    @classmethod
    def output_collisions(cls, outputs: dict[str, dict[str, Any]]) -> dict[str, str]:
        from mesh_cli.engines.duckdb_profiles import output_collisions

        return output_collisions(outputs)

    @classmethod
    def local_profile_output(cls, project: str, folder: Path, state_dir: Path,
                             upstreams: tuple[str, ...]) -> LocalOutput:
        from mesh_cli.engines.duckdb_profiles import local_profile_output

        return local_profile_output(project, folder, state_dir, upstreams)

    def server(self, domain: str, schema: str, setting: Callable[[str], str]) -> dict[str, Any]:
        path = self.database_path(domain)
        root = self.config.root
        return {"type": self.adapter_type, "database": str(path.relative_to(root) if path.is_relative_to(root)
                                                         else path), "schema": schema}


def single_select(connection: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but exactly one SELECT (SET, COPY, ATTACH, PRAGMA, INSTALL/LOAD, CREATE, several
    statements): a session variable or a file written would step around the governance emulation."""
    import duckdb

    try:
        statements = connection.extract_statements(sql)
    except duckdb.Error as exc:
        raise MeshError(f"the query does not parse: {str(exc).splitlines()[0]}") from exc
    kinds = [str(statement.type).rsplit(".", 1)[-1] for statement in statements]
    if kinds != ["SELECT"]:
        raise MeshError(f"mesh query runs exactly one read-only SELECT; got {', '.join(kinds) or 'no statement'}")


def _known_roles_only(connection: duckdb.DuckDBPyConnection, catalogs: list[str], roles: list[str]) -> None:
    """Every role asked for is one the attached databases' governance tables name (as grantee or granted)."""
    columns = connection.execute(
        "select table_catalog, table_name, column_name from information_schema.columns where table_schema = "
        "'governance' and column_name in ('role_name', 'holder', 'granted_to')").fetchall()
    parts = [f'select "{column}" as role from "{catalog}".governance."{table}"'
             for catalog, table, column in columns if catalog in catalogs]
    known = {str(row[0]).upper() for row in connection.execute(" union ".join(parts)).fetchall()} if parts else set()
    unknown = [role for role in roles if role.upper() not in known]
    if unknown:
        raise MeshError(f"unknown role(s) {', '.join(unknown)}; the roles of {catalogs[0]} and its upstreams: "
                        f"{', '.join(sorted(known)) or 'none (no governance tables: build the domain first)'}")


def _set_session_roles(connection: duckdb.DuckDBPyConnection, catalogs: list[str], roles: list[str]) -> None:
    """Set `mesh_roles`, expanding the roles over the role hierarchies of every attached domain database."""
    governed = [row[0] for row in connection.execute(
        "select table_catalog from information_schema.tables where table_schema = 'governance' "
        "and table_name = 'mesh_role_closure'").fetchall() if row[0] in catalogs]
    if not governed:
        connection.execute(set_roles_sql(roles))
        return
    closure = "(" + " union all ".join(
        f'select role_name, holder from "{catalog}".governance.mesh_role_closure' for catalog in governed) + ")"
    connection.execute(set_expanded_roles_sql(roles, closure))


def _stored_relation(connection: duckdb.DuckDBPyConnection, relation: str) -> str:
    """Where a relation's rows are stored: `mesh_protected.<schema>__<name>` of its database when it is governed."""
    database, schema, table = relation.replace('"', "").split(".")
    protected = connection.execute(
        "select 1 from information_schema.tables where table_catalog = ? and table_schema = 'mesh_protected' "
        "and table_name = ?", [database, f"{schema}__{table}"]).fetchone()
    return f'"{database}".mesh_protected."{schema}__{table}"' if protected else relation


def _sql_string(text: str) -> str:
    return text.replace("'", "''")
