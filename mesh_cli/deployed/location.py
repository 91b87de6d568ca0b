"""Which store a target deploys to: `state: stores:` in mesh.yml (or MESH_STORE), the local folder by default.

    state:
      stores:
        prod: s3://acme-mesh-state/retail        # object storage: s3://, gs://, az://
        # prod: "@MESH_ADMIN.STATE.RECORDS"      # a Snowflake internal stage, through the prod profile's connection
        # prod: /mnt/shared/mesh-state           # a folder every deploying machine mounts
      lease_seconds: 600                         # how long a deploy's lease lasts without renewal
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mesh_cli.core.config import MESH_FILE, MeshConfig
from mesh_cli.core.errors import MeshError
from mesh_cli.core.store import LEASE_SECONDS_ENV, STORE_ENV, StateStore
from mesh_cli.core.strict import check_keys
from mesh_cli.deployed.folder import FolderStore
from mesh_cli.deployed.lease import DEFAULT_LEASE_SECONDS
from mesh_cli.deployed.objects import SCHEMES, ObjectStore

STATE_KEYS = ("stores", "lease_seconds")
LOCAL = "local"


@dataclass(frozen=True)
class TargetStore:
    """The store of a target, and whether it is the default local one (where an upstream built by plain dbt,
    with no record, is still read from its own folder, as before stores existed)."""

    store: StateStore
    default: bool


def _section(config: MeshConfig) -> dict[str, object]:
    section = config.section("state")
    check_keys(section, STATE_KEYS, path=config.root / MESH_FILE, where="state")
    return section


def _stores(config: MeshConfig) -> dict[str, str]:
    stores = _section(config).get("stores") or {}
    if not isinstance(stores, dict) or not all(isinstance(v, str) and v.strip() for v in stores.values()):
        raise MeshError("`state: stores:` must map targets to store locations, e.g. {prod: s3://bucket/prefix}",
                        path=config.root / MESH_FILE)
    return {str(target): str(location) for target, location in stores.items()}


def lease_term(config: MeshConfig) -> float:
    """Seconds a deploy's lease lasts without renewal: MESH_LEASE_SECONDS, else `state: lease_seconds`, else 600."""
    value = os.environ.get(LEASE_SECONDS_ENV) or _section(config).get("lease_seconds") or DEFAULT_LEASE_SECONDS
    try:
        seconds = float(value)   # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = 0.0
    if seconds <= 0:
        raise MeshError(f"`state: lease_seconds:` must be a positive number of seconds, not {value!r}",
                        path=config.root / MESH_FILE)
    return seconds


def open_store(config: MeshConfig, location: str) -> StateStore:
    """The store at `location`: `local`, a folder path, `file://PATH`, `s3://`/`gs://`/`az://`, or `@STAGE`."""
    location = location.strip()
    if location == LOCAL:
        return FolderStore(config.state_dir / "store", f"the local store {config.state_dir / 'store'}")
    if location.startswith("@"):
        from mesh_cli.engines.registry import stage_store

        return stage_store(location)
    if location.startswith(SCHEMES):
        return ObjectStore(location)
    if "://" in location and not location.startswith("file://"):
        raise MeshError(f"state store {location!r} is not a store location: use a folder, file://PATH, s3://, "
                        "gs://, az:// or @DATABASE.SCHEMA.STAGE", path=config.root / MESH_FILE)
    path = Path(location.removeprefix("file://"))
    return FolderStore(path if path.is_absolute() else config.root / path, location)


def target_store(config: MeshConfig, target: str) -> TargetStore:
    """The store `target` deploys to: MESH_STORE, else `state: stores: <target>`, else the local folder."""
    location = os.environ.get(STORE_ENV) or _stores(config).get(target) or LOCAL
    return TargetStore(open_store(config, location), location == LOCAL)
