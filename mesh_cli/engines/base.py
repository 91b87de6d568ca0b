"""The engine interface: what the mesh needs of a warehouse, whichever it is.

Features reach a warehouse only through these methods (found with `mesh_cli.engines.registry`), never by
`isinstance` or an adapter-name string. docs/engines.md says which a new engine must implement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import EngineError, MeshError
from mesh_cli.core.plan import Backend, OfflineBackend, StateReader
from mesh_cli.core.share_statements import ShareStatements
from mesh_cli.core.types import DataType, parse_type


class TypedColumn(Protocol):
    """A column with a name and a canonical type (an ingestion column, a contract column)."""

    @property
    def name(self) -> str: ...

    @property
    def data_type(self) -> DataType: ...


@dataclass(frozen=True)
class PolicyFunctions:
    """How an engine evaluates the context functions that masking and row access policy bodies call, given the
    roles in session: the roles the session was opened with followed by every role they inherit.

    The defaults are Snowflake's: IS_ROLE_IN_SESSION is true for the primary or a secondary role or a role either
    inherits (https://docs.snowflake.com/en/sql-reference/functions/is_role_in_session);
    IS_DATABASE_ROLE_IN_SESSION likewise for a database role
    (https://docs.snowflake.com/en/sql-reference/functions/is_database_role_in_session); CURRENT_ROLE is the
    primary role, NULL inside a share consumer's query
    (https://docs.snowflake.com/en/sql-reference/functions/current_role)."""

    # Role names compare case-insensitively (unquoted identifiers are upper-cased by Snowflake).
    database_roles_apart: bool = True    # False: a database role counts as an account role of the same name

    def is_role_in_session(self, role: str, in_session: list[str], *, shared: bool = False) -> bool | None:
        """NULL in a policy on an object read through a share (as CURRENT_ROLE is: the provider's account roles
        mean nothing in the consumer's account)."""
        return None if shared else role.upper() in {name.upper() for name in in_session}

    def is_database_role_in_session(self, role: str, in_session: list[str], database_roles: list[str]) -> bool:
        held = database_roles if self.database_roles_apart else [*database_roles, *in_session]
        return role.upper() in {name.upper() for name in held}

    def current_role(self, in_session: list[str], *, shared: bool = False) -> str | None:
        return None if shared or not in_session else in_session[0].upper()


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
    policy_functions: ClassVar[PolicyFunctions] = PolicyFunctions()
    replace_drops_grants: ClassVar[bool] = False      # a rebuild (CREATE OR REPLACE) drops the object's grants
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

    def check_single_select(self, connection: Any, sql: str) -> None:
        """Refuse anything but exactly one read-only SELECT on a `connect` session (`mesh query`)."""
        raise self._unsupported("read-only query sessions (query it with your own client and role)")

    def session_roles(self, connection: Any) -> list[str]:
        """The roles in session of a connection from `connect`."""
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

    # --- column types -------------------------------------------------------------------------------------------
    @classmethod
    def spell_type(cls, data_type: DataType) -> str | None:
        """The engine's spelling of a canonical type, or None when it cannot hold it."""
        raise NotImplementedError

    @classmethod
    def read_type(cls, spelled: str) -> DataType:
        """The canonical type of the engine's spelling (spelling, reading and spelling again gives the same)."""
        return parse_type(spelled)

    @classmethod
    def contract_type_error(cls, data_type: str) -> str | None:
        """Why the engine cannot create a contract column declared as `data_type` (None when it can)."""
        return None if cls.spell_type(parse_type(data_type)) is not None else f"no {cls.adapter_type} type"

    @classmethod
    def native_spelling(cls, data_type: str) -> str | None:
        """The engine's own spelling of a contract type written in Snowflake's terms, if it has one."""
        return cls.spell_type(parse_type(data_type))

    # --- exports ------------------------------------------------------------------------------------------------
    def server(self, domain: str, schema: str, setting: Callable[[str], str]) -> dict[str, Any]:
        """Where the domain's models live on this target, as an ODCS `servers` entry (without `server` and
        `environment`, which the exporter adds); `setting` renders a key of the target's profile output."""
        raise NotImplementedError
