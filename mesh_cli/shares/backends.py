"""Where shares are read and applied: a live Snowflake account, an offline empty account (plans without
credentials), or the DuckDB emulation. Each gives a StateReader and an `execute` for plan/apply."""

from __future__ import annotations

from typing import Any, Protocol

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.errors import MeshError
from mesh_cli.core.plan import RecordedState, StateReader
from mesh_cli.core.state import domain_state_dir
from mesh_cli.engines.registry import Engine, engine_class
from mesh_cli.shares.emulation import EmulatedAccount


class Backend(Protocol):
    """What publishing needs of an engine."""

    offline: bool

    @property
    def reader(self) -> StateReader: ...

    def execute(self, sql: str) -> Any: ...

    def commit(self) -> None: ...


class AccountBackend:
    """A live account through the target's engine (one connection per target)."""

    offline = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.reader = engine.state_reader()

    def execute(self, sql: str) -> Any:
        return self.engine.execute(sql)

    def commit(self) -> None:
        """Snowflake DDL commits itself."""


class OfflineBackend:
    """No credentials: plan against an empty account; applying is refused."""

    offline = True

    def __init__(self) -> None:
        self.reader = RecordedState()

    def execute(self, sql: str) -> Any:
        raise MeshError("no Snowflake credentials (SNOWFLAKE_ACCOUNT is not set): only `--plan` works offline")

    def commit(self) -> None:
        """Nothing to keep."""


class DuckDBBackend:
    """The DuckDB emulation: the domain's shares live in `<state>/state/<target>/<domain>/shares.json`."""

    offline = False

    def __init__(self, config: MeshConfig, target: str, domain: str) -> None:
        self.account = EmulatedAccount(domain_state_dir(config, target, domain) / "shares.json")
        self.reader = self.account.reader()

    def execute(self, sql: str) -> Any:
        return self.account.execute(sql)

    def commit(self) -> None:
        self.account.save()


_engines: dict[tuple[str, str], Engine] = {}


def backend_for(config: MeshConfig, target: str, domain: str, adapter: str, plan_only: bool) -> Backend:
    """The backend of a domain's target: DuckDB emulation, live Snowflake, or offline for a plan without
    credentials. One Snowflake connection serves every domain of a target."""
    engine_type = engine_class(adapter)
    if engine_type.embedded:
        return DuckDBBackend(config, target, domain)
    key = (str(config.root), target)
    engine = _engines.get(key) or engine_type(config, target)
    if engine.offline_reason is not None:
        if plan_only:
            return OfflineBackend()
        raise MeshError(engine.offline_reason)
    _engines[key] = engine
    return AccountBackend(engine)
