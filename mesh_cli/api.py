"""The package's public Python API (docs/architecture.md "Public API"): what scripts, the benchmarks and other
tools may import besides the `mesh` command. Every other module of `mesh_cli` is internal and may move.

Each name is loaded on first use (PEP 562), so `import mesh_cli.api` imports nothing of the mesh and a script pays
only for what it uses (`transpile` does not import dbt, `load_config` does not import DuckDB):

>>> import mesh_cli.api as api
>>> api.STORAGE_VERSION
'v1.0.0'
>>> api.nothing_here
Traceback (most recent call last):
...
AttributeError: module 'mesh_cli.api' has no attribute 'nothing_here'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:   # explicit re-exports for type checkers: the names of _EXPORTS (tests/test_api.py keeps them equal)
    from mesh_cli.core.config import MeshConfig as MeshConfig
    from mesh_cli.core.config import load_config as load_config
    from mesh_cli.core.domains import Domain as Domain
    from mesh_cli.core.domains import discover_domains as discover_domains
    from mesh_cli.core.domains import load_domain as load_domain
    from mesh_cli.core.graph import DomainGraph as DomainGraph
    from mesh_cli.core.plan import Plan as Plan
    from mesh_cli.core.plan import RecordedState as RecordedState
    from mesh_cli.core.plan import StateReader as StateReader
    from mesh_cli.core.plan import apply as apply
    from mesh_cli.core.profiles import target_database as target_database
    from mesh_cli.core.share_access import mounts_of as mounts_of
    from mesh_cli.core.share_settings import share_settings as share_settings
    from mesh_cli.core.state import domain_state_dir as domain_state_dir
    from mesh_cli.core.state import fingerprint as fingerprint
    from mesh_cli.core.state import load_target_manifest as load_target_manifest
    from mesh_cli.core.state import save_build as save_build
    from mesh_cli.dbt.parse import missing_parses as missing_parses
    from mesh_cli.dbt.parse import parse_domains as parse_domains
    from mesh_cli.dbt.parse import parsed_manifest_path as parsed_manifest_path
    from mesh_cli.dbt.parse_cache import ParseCache as ParseCache
    from mesh_cli.deployed.folder import FolderStore as FolderStore
    from mesh_cli.deployed.sync import Deploy as Deploy
    from mesh_cli.deployed.sync import pull_records as pull_records
    from mesh_cli.engines.duckdb import STORAGE_VERSION as STORAGE_VERSION
    from mesh_cli.engines.duckdb_shares import EmulatedAccount as EmulatedAccount
    from mesh_cli.engines.duckdb_transpile import transpile as transpile
    from mesh_cli.engines.registry import engine_class as engine_class
    from mesh_cli.engines.snowflake import SnowflakeEngine as SnowflakeEngine
    from mesh_cli.engines.snowflake_provision import flatten as flatten
    from mesh_cli.engines.snowflake_provision import plan_snowflake as plan_snowflake
    from mesh_cli.ingest import load_ingest_tables as load_ingest_tables
    from mesh_cli.provision import declared_footprint as declared_footprint
    from mesh_cli.shares.diff import plan_shares as plan_shares
    from mesh_cli.shares.diff import read_current as read_current
    from mesh_cli.shares.spec import desired_shares as desired_shares

# Where each public name is defined.
_EXPORTS: dict[str, tuple[str, ...]] = {
    # the mesh: its configuration (mesh.yml), its domains and their graph
    "mesh_cli.core.config": ("MeshConfig", "load_config"),
    "mesh_cli.core.domains": ("Domain", "discover_domains", "load_domain"),
    "mesh_cli.core.graph": ("DomainGraph",),
    # saved builds in the state folder, as `mesh build` saves them
    "mesh_cli.core.state": ("domain_state_dir", "fingerprint", "load_target_manifest", "save_build"),
    # the plan/apply contract every warehouse change goes through
    "mesh_cli.core.plan": ("Plan", "RecordedState", "StateReader", "apply"),
    # each feature's plan read against any state reader, as its `--plan` shows it: the declared footprint and its
    # Snowflake plan (`flatten`: the roles it declares), a domain's raw tables and the database its target writes
    # (the engine's `plan_ingestion` plans them), a domain's desired shares and mounts, their diff against what a
    # reader shows, the engine of an adapter (its `share_statements` write the share plan) and the share emulation
    "mesh_cli.provision": ("declared_footprint",),
    "mesh_cli.engines.snowflake_provision": ("flatten", "plan_snowflake"),
    "mesh_cli.ingest": ("load_ingest_tables",),
    "mesh_cli.core.profiles": ("target_database",),
    "mesh_cli.core.share_settings": ("share_settings",),
    "mesh_cli.shares.spec": ("desired_shares",),
    "mesh_cli.core.share_access": ("mounts_of",),
    "mesh_cli.shares.diff": ("plan_shares", "read_current"),
    "mesh_cli.engines.registry": ("engine_class",),
    "mesh_cli.engines.duckdb_shares": ("EmulatedAccount",),
    # parsing domains upstreams first, with the content-addressed parse cache
    "mesh_cli.dbt.parse": ("missing_parses", "parse_domains", "parsed_manifest_path"),
    "mesh_cli.dbt.parse_cache": ("ParseCache",),
    # deployed state: a folder store, a domain's deploy (push) and the pull of records
    "mesh_cli.deployed.folder": ("FolderStore",),
    "mesh_cli.deployed.sync": ("Deploy", "pull_records"),
    # engines: the DuckDB storage format of domain databases, the Snowflake-to-DuckDB transpiler, the Snowflake
    # engine on a connection of the caller's
    "mesh_cli.engines.duckdb": ("STORAGE_VERSION",),
    "mesh_cli.engines.duckdb_transpile": ("transpile",),
    "mesh_cli.engines.snowflake": ("SnowflakeEngine",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """A public name, imported from its module the first time it is asked for."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value   # later lookups find it without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
