"""Where a domain's shares are read and applied: the backend its target's engine gives (`Engine.share_backend`:
a live account, an offline empty one for a plan without credentials, the DuckDB emulation). One engine, so one
connection, serves every domain of a target."""

from __future__ import annotations

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.plan import Backend, OfflineBackend
from mesh_cli.engines.registry import Engine, engine_class

_engines: dict[tuple[str, str], Engine] = {}


def backend_for(config: MeshConfig, target: str, domain: str, adapter: str, plan_only: bool) -> Backend:
    """The backend of a domain's target (bad input when it cannot be reached and more than a plan is asked)."""
    key = (str(config.root), target)
    engine = _engines.get(key) or engine_class(adapter)(config, target)
    backend = engine.share_backend(domain, plan_only)
    if not backend.offline:
        _engines[key] = engine
    return backend


__all__ = ["OfflineBackend", "backend_for"]
