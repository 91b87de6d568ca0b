"""Files on a Snowflake stage: the deployed mesh's manifests, read by `mesh check --baseline-stage`.

The stage holds one folder per domain with its `manifest.json` (plain or gzipped, as `PUT` leaves it), e.g.
`@MESH.STATE.MANIFESTS/prod/customers/manifest.json.gz`. The connection uses the variables the domain
profiles read (README: SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, ...).
"""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path
from typing import Any, Protocol

from mesh_cli.core.errors import EngineError, MeshError
from mesh_cli.engines.snowflake import connect, environment_profile

MANIFEST_PATTERN = ".*manifest[.]json([.]gz)?"
_STAGE = re.compile(r"^@?([\w$.\"]+?)(/.*)?$")


class Connection(Protocol):
    def cursor(self) -> Any: ...
    def close(self) -> None: ...


def _connect() -> Connection:
    profile = environment_profile()
    if not profile.get("account"):
        raise MeshError("reading a Snowflake stage needs SNOWFLAKE_ACCOUNT (and SNOWFLAKE_USER with "
                        "SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH) in the environment")
    try:
        connection: Connection = connect(profile)
    except EngineError as exc:
        raise MeshError(f"cannot connect to Snowflake: {exc}") from exc
    return connection


def download_manifests(stage: str, dest: Path, connection: Connection | None = None) -> list[Path]:
    """Download every `<domain>/manifest.json[.gz]` under `stage` into `dest/<domain>/manifest.json`."""
    match = _STAGE.match(stage.strip())
    if not match:
        raise MeshError(f"{stage!r} is not a stage location; write it as @[db.schema.]stage[/path]")
    root = "@" + match.group(1)
    location = root + (match.group(2) or "")
    conn = connection or _connect()
    saved = []
    try:
        cursor = conn.cursor()
        rows = cursor.execute(f"LIST {location} PATTERN = '{MANIFEST_PATTERN}'").fetchall()
        for row in rows:
            name = str(row[0])                       # `<stage name>/<path>/<domain>/manifest.json.gz`
            relative = name.split("/", 1)[1] if "/" in name else name
            domain = Path(relative).parent.name
            if not domain:
                continue
            folder = dest / domain
            folder.mkdir(parents=True, exist_ok=True)
            cursor.execute(f"GET '{root}/{relative}' 'file://{folder.as_posix()}/'")
            saved.append(_unpack(folder / Path(relative).name))
    finally:
        if connection is None:
            conn.close()
    if not saved:
        raise MeshError(f"no manifests under {location}: expected <domain>/manifest.json files there")
    return saved


def _unpack(path: Path) -> Path:
    target = path.with_name("manifest.json")
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as source, target.open("wb") as out:
            shutil.copyfileobj(source, out)
        path.unlink()
    return target
