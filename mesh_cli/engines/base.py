"""The engine interface: what the mesh needs of a warehouse, whichever it is.

Features reach a warehouse only through these methods (found with `mesh_cli.engines.registry`), never by
`isinstance` or an adapter-name string. docs/engines.md says which a new engine must implement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Protocol

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.destroy import refuse_destruction
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import EngineError, MeshError
from mesh_cli.core.footprint import Provisioner
from mesh_cli.core.ingest_spec import Ingested, IngestOptions, IngestTable, blocked
from mesh_cli.core.plan import Backend, OfflineBackend, Plan, RecordedState, StateReader, apply
from mesh_cli.core.policy_bodies import LibraryPolicy, parse_problems
from mesh_cli.core.profile_outputs import LocalOutput, ProfileOutput, ProfileProblem
from mesh_cli.core.share_statements import ShareStatements
from mesh_cli.core.types import DataType, parse_type

SNOWFLAKE_SQL = "snowflake"   # the `sql_dialect` of models written in Snowflake's SQL (docs/snowflake-sql-locally.md)


class TypedColumn(Protocol):
    """A column with a name and a canonical type (an ingestion column, a contract column)."""

    @property
    def name(self) -> str: ...

    @property
    def data_type(self) -> DataType: ...


class Engine:
    """One warehouse behind dbt's adapter of the same type. A new engine is one more subclass, registered in
    `mesh_cli.engines.registry`.

    Two kinds exist: an *embedded* engine keeps one database per domain that the mesh opens itself
    (`open_database`, `connect`; ingestion loads files into it, shares are emulated beside it); an *account*
    engine is reconciled with plan/apply (`state_reader` reads it with SHOW, `execute` runs the statements)."""

    adapter_type: ClassVar[str]                       # dbt's adapter type, as `type:` in profiles.yml
    dbt_package: ClassVar[str]                        # the adapter's distribution (the parse cache keys on it)
    embedded: ClassVar[bool]                          # one database per domain the mesh opens itself
    local_dirs_env: ClassVar[tuple[str, ...]] = ()    # variables naming local folders (no parse depends on them)
    # Models written in Snowflake's SQL run here through a transpile of their compiled SQL, and the package's local
    # preview macros (contracts by Snowflake's types, Snowpark models) apply (docs/snowflake-sql-locally.md).
    previews_snowflake_sql: ClassVar[bool] = False
    database_suffix: ClassVar[str] = ""               # how the names of its database files end (`write_copy`)
    # dbt's adapter reports no rows for the tables it builds: `mesh build` counts them with `stored_rows`.
    counts_built_rows: ClassVar[bool] = False
    # `datacontract test` reads copies the mesh writes per reader (`write_copy`), not the domain's data in place.
    contract_tests_read_copies: ClassVar[bool] = False
    replace_drops_grants: ClassVar[bool] = False      # a rebuild (CREATE OR REPLACE) drops the object's grants
    sqlglot_dialect: ClassVar[str]                    # sqlglot's name for the SQL it runs (how the mesh parses it)
    # Governance (roles, policies) is emulated in its sessions: a session statement or a file read would step around
    # it, so the side-door rule refuses those as well (core/compiled_guard.py); else the warehouse's grants decide.
    emulates_governance: ClassVar[bool] = False
    # Its objects live in the accounts mesh.yml's `snowflake.topology` lays out: with `account_per_domain` each
    # domain's own, so a provisioning plan covers one domain, with that account's credentials.
    accounts_follow_topology: ClassVar[bool] = False
    # Shares (mesh publish): the statements in the engine's language, and whether an account-per-domain consumer
    # reads an upstream's products from the database it mounted from their share (or from the upstream's own).
    share_statements: ClassVar[ShareStatements | None] = None
    mounts_shares: ClassVar[bool] = False

    def __init__(self, config: MeshConfig, target: str) -> None:
        self.config = config
        self.target = target

    # --- dbt ----------------------------------------------------------------------------------------------------
    def dbt_env(self) -> dict[str, str]:
        """Environment variables the domain profiles read on this engine."""
        return {}

    def domain_env(self, domain: Domain) -> dict[str, str]:
        """The same, for dbt running inside the domain's folder (paths relative to it where the engine can)."""
        return self.dbt_env()

    def prepare(self) -> None:
        """Make the engine ready for a build (create local folders, check settings)."""

    @classmethod
    def release_connections(cls) -> None:
        """Free what dbt's adapter keeps open after an invocation in a long-lived worker process."""

    @classmethod
    def install_statement_guard(cls) -> None:
        """Have dbt's adapter judge every statement a run issues outside the nodes' compiled SQL (hooks,
        `run_query`) by `core.compiled_guard.statement_refusal` before it runs (idempotent): an engine that
        `emulates_governance` does; none by default, where the warehouse's own grants decide."""

    # --- connect and execute ------------------------------------------------------------------------------------
    def _unsupported(self, what: str) -> EngineError:
        kind = "an embedded" if self.embedded else "an account"
        return EngineError(f"the {self.adapter_type} engine ({kind} engine) has no {what}")

    def has_database(self, domain: str) -> bool:
        """Whether the domain's own database exists (embedded engines)."""
        raise self._unsupported("database per domain")

    def open_database(self, domain: str, read_only: bool = False) -> Any:
        """A DB-API connection to the domain's own database alone, for what the mesh writes itself (embedded)."""
        raise self._unsupported("database per domain")

    def connect(self, domain: Domain, roles: list[str] | None = None, *, locked: bool = False) -> Any:
        """A read-only DB-API connection to a domain's database as dbt sees it, its upstreams readable, whose
        session holds `roles` and every role they inherit (embedded engines; `mesh query`). `locked`: only
        roles the databases know, no file access outside them, the configuration locked."""
        raise self._unsupported("read-only query sessions (query it with your own client and role)")

    def write_copy(self, domain: Domain, roles: list[str], relations: dict[str, str], stored: set[str],
                   dest: Path) -> dict[str, int]:
        """Write into a new database file `dest` each relation of `relations` (`schema.table` in the copy -> the
        relation as the domain's sessions name it) as `roles` read it; those named in `stored` from their stored
        rows, as the owner reads them. The rows of each (embedded engines)."""
        raise self._unsupported("database files to copy")

    def stored_rows(self, domain: str, relations: list[str]) -> dict[str, int]:
        """The rows each of the domain's relations (as dbt names them) holds, counted where its rows are stored
        (a governed model's protected table, as its owner reads it), for a built model whose adapter reported
        none (engines that `counts_built_rows`)."""
        raise self._unsupported("rows to count")

    def check_single_select(self, connection: Any, sql: str) -> None:
        """Refuse anything but exactly one read-only SELECT on a `connect` session (`mesh query`)."""
        raise self._unsupported("read-only query sessions (query it with your own client and role)")

    def session_roles(self, connection: Any) -> list[str]:
        """The roles in session of a connection from `connect`."""
        raise self._unsupported("query sessions")

    def read_through_share(self, connection: Any, share: str, database_roles: tuple[str, ...]) -> None:
        """Make a `connect` session read as a consumer account reads through `share`: account roles decide
        nothing in the policies, only the share's `database_roles` it holds count
        (https://docs.snowflake.com/en/sql-reference/functions/is_database_role_in_session)."""
        raise self._unsupported("query sessions")

    def session_tables(self, connection: Any, schema: str) -> list[tuple[str, str]]:
        """(database, table) of every table in `schema` of the databases a `connect` session reads."""
        raise self._unsupported("query sessions")

    def session_schemas(self, connection: Any, database: str) -> set[str]:
        """The schemas of `database` in a `connect` session, lower-cased."""
        raise self._unsupported("query sessions")

    def with_connection(self, connection: Any) -> Engine:
        """The same engine over a connection the caller opened (account engines)."""
        raise self._unsupported("account to connect to")

    def execute(self, sql: str) -> list[dict[str, Any]]:
        """Run one account-level statement; rows as dicts with lower-case keys (account engines)."""
        raise self._unsupported("account to run statements in")

    # --- shares -------------------------------------------------------------------------------------------------
    def share_backend(self, domain: str, plan_only: bool) -> Backend:
        """Where `domain`'s shares are read and applied: the account itself (an account engine), planned against
        an empty account when it cannot be reached and only a plan is asked (otherwise that is bad input)."""
        if self.offline_reason is not None:
            if plan_only:
                return OfflineBackend(self.offline_reason)
            raise MeshError(self.offline_reason)
        if self.embedded or self.share_statements is None:
            raise self._unsupported("shares to publish")
        from mesh_cli.engines.account_backend import AccountBackend

        return AccountBackend(self)

    # --- state for the plan engine ------------------------------------------------------------------------------
    def state_reader(self) -> StateReader:
        """Reads the account's current state with SHOW (account engines)."""
        raise self._unsupported("account state to read")

    @property
    def offline_reason(self) -> str | None:
        """Why the engine cannot be reached (no credentials), or None when it can. An embedded engine always can."""
        return None

    @property
    def offline(self) -> bool:
        """The one "offline?" answer: a plan then reads an empty state, and applying is refused."""
        return self.offline_reason is not None

    # --- provisioning -------------------------------------------------------------------------------------------
    def provisioner(self, *, plan_only: bool) -> Provisioner:
        """Plans and applies a `core.footprint.MeshFootprint` on this engine (`mesh provision`); `plan_only`: the
        plans are only shown (an account engine without credentials plans against an empty account)."""
        raise self._unsupported("provisioning")

    # --- errors -------------------------------------------------------------------------------------------------
    @classmethod
    def driver_errors(cls) -> tuple[type[BaseException], ...]:
        """The driver's exception types, which `errors()` wraps into EngineError."""
        return ()

    @classmethod
    def wrap_error(cls, error: BaseException) -> EngineError:
        """The driver's error as an EngineError: its first line, and its error number where it has one."""
        if isinstance(error, EngineError):
            return error
        code = getattr(error, "errno", None)
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        wrapped = EngineError(message, code=code if isinstance(code, int) else None)
        wrapped.__cause__ = error
        return wrapped

    @classmethod
    @contextmanager
    def errors(cls) -> Iterator[None]:
        """Raise the driver's errors inside the block as EngineError."""
        try:
            yield
        except cls.driver_errors() as error:
            raise cls.wrap_error(error) from error

    @classmethod
    def guarded(cls, execute: Callable[[str], object]) -> Callable[[str], object]:
        """`execute` with the driver's errors raised as EngineError, the failures `core.plan.apply` records."""
        def run(sql: str) -> object:
            with cls.errors():
                return execute(sql)
        return run

    # --- the governance library ----------------------------------------------------------------------------------
    @classmethod
    def policy_problems(cls, policies: Sequence[LibraryPolicy]) -> list[str]:
        """What this engine's build would refuse in the library's policy bodies, one line each: every `body` is
        Snowflake SQL and must parse as one expression (sqlglot's Snowflake dialect); an engine that runs the
        bodies itself adds what its own creation of the policies refuses."""
        return parse_problems(policies)

    # --- Snowflake SQL previewed (engines with `previews_snowflake_sql`) -----------------------------------------
    @classmethod
    def sql_dialects(cls) -> tuple[str, ...]:
        """The `sql_dialect`s a model may be written in on this engine: Snowflake's where the engine previews it
        (transpiled), and its own, the last, in which nothing is transpiled."""
        return (SNOWFLAKE_SQL, cls.adapter_type) if cls.previews_snowflake_sql else (cls.adapter_type,)

    @classmethod
    def columns_query(cls, relations: list[tuple[str, str, str]]) -> str:
        """The query for the columns and types of the (database, schema, table) relations a model reads."""
        raise NotImplementedError

    @classmethod
    def transpile_snowflake(cls, sql: str, model: str, cache: Path | None, columns: Iterable[Sequence[Any]]) -> str:
        """The engine's SQL of Snowflake `sql` (the compiled SQL of `model`), given the rows of `columns_query` for
        the relations it reads (their types decide Snowflake's arithmetic); kept in `cache` when given."""
        raise NotImplementedError

    # --- ingestion ----------------------------------------------------------------------------------------------
    def ingest(self, domain: Domain, tables: list[IngestTable], options: IngestOptions) -> Ingested:
        """Land one domain's raw data. By default the ingestion objects and this run's loads are reconciled with
        the one plan/apply engine from `plan_ingestion` (an engine that loads files itself overrides this). Bad
        input, or a plan blocked without `full_refresh`, raises MeshError before anything is applied; a failed
        statement ends in `applied`."""
        offline = options.plan_only and self.offline
        reader = RecordedState() if offline else self.state_reader()
        plan = self.plan_ingestion(domain, tables, reader, full_refresh=options.full_refresh, offline=offline)
        if options.plan_only:
            return Ingested(plan=plan)
        if stopped := blocked(plan):
            raise MeshError(f"ingestion of {domain.name}: {stopped[0]}")
        refuse_destruction([plan], allow=options.allow_destroy, what=f"ingestion of {domain.name}")
        return Ingested(plan=plan, applied=apply(plan, self.execute))

    def plan_ingestion(self, domain: Domain, tables: list[IngestTable], reader: StateReader, *, full_refresh: bool,
                       offline: bool) -> Plan:
        """The statements that make the domain's ingestion objects match `tables` in the state `reader` shows,
        then this run's loads; a change it cannot make without `full_refresh` is a note starting with BLOCKED."""
        raise self._unsupported("ingestion")

    def ingestion_problems(self, domain: Domain, tables: list[IngestTable]) -> list[str]:
        """What would stop the domain's ingestion, found before a build runs (one line each; none by default)."""
        return []

    # --- local database files -----------------------------------------------------------------------------------
    def database_file(self, domain: str) -> Path | None:
        """The file holding the domain's own database, where the engine keeps one (None where it does not)."""
        return None

    @classmethod
    def is_database_file(cls, path: Path) -> bool:
        """Whether `path` holds a database of this engine, not a corrupt or truncated one (engines with files)."""
        raise NotImplementedError

    # --- profile outputs (`mesh init --adopt`) -------------------------------------------------------------------
    @classmethod
    def profile_problems(cls, outputs: list[ProfileOutput], target: str) -> Iterator[ProfileProblem]:
        """What stands in the way of building these outputs of `target` with the mesh (a path dbt resolves from
        the folder it runs in, an upstream's data a project cannot read), each with its fix; none by default."""
        return iter(())

    @classmethod
    def output_collisions(cls, outputs: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Project -> why its rendered output cannot be built by the mesh beside another project's of `outputs`
        (both keep their data in one place); none by default."""
        return {}

    @classmethod
    def local_profile_output(cls, project: str, folder: Path, state_dir: Path,
                             upstreams: tuple[str, ...]) -> LocalOutput:
        """The output that builds `project` (in `folder`) with the mesh on this engine, the mesh's state kept in
        `state_dir` and its `upstreams` readable (the mesh's local default engine: `mesh init --adopt`)."""
        raise NotImplementedError

    # --- column types -------------------------------------------------------------------------------------------
    @classmethod
    def spell_type(cls, data_type: DataType) -> str | None:
        """The engine's spelling of a canonical type, or None when it cannot hold it."""
        raise NotImplementedError

    @classmethod
    def contract_type_error(cls, data_type: str) -> str | None:
        """Why the engine cannot create a contract column declared as `data_type` (None when it can)."""
        return None if cls.spell_type(parse_type(data_type)) is not None else f"no {cls.adapter_type} type"

    @classmethod
    def native_spelling(cls, data_type: str) -> str | None:
        """The engine's own spelling of a contract type written in Snowflake's terms, if it has one."""
        return cls.spell_type(parse_type(data_type))

    @classmethod
    def build_roles(cls, output: dict[str, Any]) -> list[str] | None:
        """The roles a domain's build sessions hold, as its profile `output` for this engine sets them (None when
        the profile does not say: the domain's deployer role)."""
        return None

    # --- exports ------------------------------------------------------------------------------------------------
    def server(self, domain: str, schema: str, setting: Callable[[str], str]) -> dict[str, Any]:
        """Where the domain's models live on this target, as an ODCS `servers` entry (without `server` and
        `environment`, which the exporter adds); `setting` renders a key of the target's profile output."""
        raise NotImplementedError
