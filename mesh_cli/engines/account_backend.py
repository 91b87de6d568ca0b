"""An account engine as the backend of a plan: read with its SHOW statements, applied statement by statement."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mesh_cli.engines.base import Engine


class AccountBackend:
    """A live account through an account engine (`execute`, `state_reader`): a `core.plan.Backend`."""

    offline = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.reader = engine.state_reader()

    def execute(self, sql: str) -> Any:
        return self.engine.execute(sql)

    def commit(self) -> None:
        """Each statement commits itself."""
