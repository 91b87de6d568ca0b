"""The engine interface: what the mesh needs of a warehouse, whichever it is."""

from __future__ import annotations

from typing import ClassVar

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain


class Engine:
    """One warehouse behind dbt's adapter of the same type. A new engine is one more subclass."""

    adapter_type: ClassVar[str]

    def __init__(self, config: MeshConfig, target: str) -> None:
        self.config = config
        self.target = target

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
