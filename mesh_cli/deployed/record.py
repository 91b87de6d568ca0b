"""A domain's deployed record: the files of its last successful deploy on a target, packed as one object.

The record holds what the working state folder keeps for the domain (`core/state.py`): its manifest, run
results, fingerprint (with the commit it was built from), publish state, model index and the emulated shares'
state, and `record.json`, which says who wrote it, when, from which commit and with which dbt. One object per
record makes a write whole or absent on every store. The history kept for the catalogue (`history/`) stays in
the working folder of the machine that built it.
"""

from __future__ import annotations

import getpass
import io
import json
import os
import socket
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from mesh_cli.core.errors import MeshError
from mesh_cli.core.safe_io import write_text_atomic

RECORD_META = "record.json"          # in the packed record, and beside the unpacked files of the working folder
RECORD_FORMAT = 1
_KEPT_LOCAL = {"history", RECORD_META}


@dataclass(frozen=True)
class RecordMeta:
    """What a record says of itself."""

    domain: str
    target: str
    written_at: str
    writer: str
    commit: str | None
    dbt_version: str | None
    manifest_schema: str | None
    generation: str | None = None      # the store's generation it was read at (in the working folder's copy)

    def to_dict(self) -> dict[str, Any]:
        return {"format": RECORD_FORMAT, "domain": self.domain, "target": self.target,
                "written_at": self.written_at, "writer": self.writer, "commit": self.commit,
                "dbt_version": self.dbt_version, "manifest_schema": self.manifest_schema,
                "generation": self.generation}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> RecordMeta:
        if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT or not data.get("domain"):
            raise MeshError(f"{where} is not a deployed record of format {RECORD_FORMAT}; deploy the domain again "
                            "with this version of mesh (`mesh build DOMAIN --target TARGET`)")
        return cls(str(data["domain"]), str(data.get("target")), str(data.get("written_at")),
                   str(data.get("writer")), data.get("commit"), data.get("dbt_version"),
                   data.get("manifest_schema"), data.get("generation"))


def writer_identity(command: str) -> str:
    """Who writes: user@host, pid and command, for messages naming the holder of a record or a lease."""
    return f"{getpass.getuser()}@{socket.gethostname()} pid {os.getpid()} ({command})"


def installed_dbt_version() -> str | None:
    try:
        return version("dbt-core")
    except PackageNotFoundError:
        return None


@cache
def readable_manifest_schema() -> str | None:
    """The manifest schema this dbt writes and reads (`v12`), found without importing dbt: the newest version
    folder of dbt's manifest schemas."""
    spec = find_spec("dbt.artifacts.schemas.manifest")
    folders = list(spec.submodule_search_locations or []) if spec else []
    found = sorted((p.name for f in folders for p in Path(f).iterdir() if p.is_dir() and p.name[1:].isdigit()),
                   key=lambda name: int(name[1:]))
    return found[-1] if found else None


def manifest_schema_of(manifest_path: Path) -> str | None:
    """`v12` from a manifest's `metadata.dbt_schema_version` (read from the head of the file, not all of it)."""
    with manifest_path.open("rb") as handle:
        head = handle.read(4096).decode("utf-8", "replace")
    marker = "/dbt/manifest/"
    start = head.find(marker)
    if start < 0:
        return None
    return head[start + len(marker):].split(".json", 1)[0]


def pack_record(folder: Path, meta: RecordMeta) -> bytes:
    """The domain's files in `folder` (not its history) and `record.json`, as one gzipped tar."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as archive:
        _add(archive, RECORD_META, json.dumps(meta.to_dict(), indent=1).encode())
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.is_file() and path.name not in _KEPT_LOCAL and not path.name.startswith("."):
                _add(archive, path.name, path.read_bytes())
    return buffer.getvalue()


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def read_packed(data: bytes, where: str) -> tuple[RecordMeta, dict[str, bytes]]:
    """The meta and files of a packed record; a damaged one is named with the fix."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            files = {}
            for member in archive.getmembers():
                if not member.isfile() or "/" in member.name or member.name.startswith("."):
                    continue    # a record holds flat file names only: nothing may land outside its folder
                extracted = archive.extractfile(member)
                files[member.name] = extracted.read() if extracted else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise MeshError(f"{where} is damaged ({exc}); deploy the domain again to rewrite it") from exc
    try:
        meta = RecordMeta.from_dict(json.loads(files.pop(RECORD_META, b"null")), where)
    except ValueError as exc:
        raise MeshError(f"{where} has an unreadable {RECORD_META}; deploy the domain again to rewrite it") from exc
    return meta, files


def unpack_record(meta: RecordMeta, files: dict[str, bytes], folder: Path) -> None:
    """Write a record's files into the domain's working folder; `record.json` last, so a folder whose meta names a
    generation holds that generation's files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORD_META).unlink(missing_ok=True)
    for stale in folder.iterdir():
        if stale.is_file() and stale.name not in files and stale.name not in _KEPT_LOCAL:
            stale.unlink()
    for name, data in files.items():
        temporary = folder / f".{name}.pulled"
        temporary.write_bytes(data)
        temporary.replace(folder / name)
    write_meta(folder, meta)


def write_meta(folder: Path, meta: RecordMeta) -> None:
    """Note which record (and generation) the working folder holds."""
    write_text_atomic(folder / RECORD_META, json.dumps(meta.to_dict(), indent=1))


def local_meta(folder: Path) -> RecordMeta | None:
    """The meta of the record the working folder holds (None when it holds none, or an unreadable one)."""
    path = folder / RECORD_META
    try:
        return RecordMeta.from_dict(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, ValueError, MeshError):
        return None


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
