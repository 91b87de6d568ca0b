"""Ingestion, engine-neutral: what a domain declares lands where (`IngestTable`, read and validated by
`mesh_cli.ingest.spec`), the options of one run, and what the run did. Each engine builds its own statements from
these (`Engine.ingest`); the feature never sees SQL."""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mesh_cli.core.plan import ApplyResult, Plan
from mesh_cli.core.types import DataType

DEFAULT_STAGE = "landing"
BLOCKED = "BLOCKED"   # starts the note of a plan that cannot apply as declared (without --full-refresh)


@dataclass(frozen=True)
class Column:
    """A landing column: its name and canonical type."""

    name: str
    data_type: DataType


@dataclass(frozen=True)
class Stage:
    """Where files are staged on an account engine: an internal stage, or an external one at `url`."""

    name: str = DEFAULT_STAGE
    url: str | None = None
    storage_integration: str | None = None


@dataclass(frozen=True)
class FileFormat:
    """The format of the raw files and its options (Snowflake's option names, lower case)."""

    type: str
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)


@dataclass(frozen=True)
class IngestTable:
    """One source table with an ingestion block: what lands where, and how."""

    domain: str
    source: str
    name: str
    identifier: str
    schema: str
    database: str | None
    mode: str
    location: str
    file_format: FileFormat
    columns: tuple[Column, ...]
    path: Path
    pattern: str | None = None
    on_error: str = "abort_statement"
    stage: Stage = field(default_factory=Stage)
    partitions: tuple[Column, ...] = ()
    auto_refresh: bool = False
    auto_ingest: bool = True
    integration: str | None = None
    aws_sns_topic: str | None = None
    backfill: bool = False
    topic: str | None = None
    schematized: bool = False
    freshness: bool = False
    may_be_empty: bool = False     # a location matching no file is then no error (docs/ingestion.md)

    @property
    def label(self) -> str:
        return f"{self.domain}.{self.source}.{self.name}"

    @property
    def landing_identifier(self) -> str:
        """The table files land in: the source table itself, or for Kafka the connector's table under a view."""
        return f"{self.identifier}_records" if self.mode == "kafka" else self.identifier


@dataclass(frozen=True)
class IngestOptions:
    """How one ingestion run goes: `plan_only` changes nothing; `full_refresh` allows recreating what holds load
    history; `allow_destroy` lets a plan that replaces or drops existing objects apply."""

    full_refresh: bool = False
    plan_only: bool = False
    allow_destroy: bool = False


@dataclass
class TableLoad:
    """What one landing table received in one run, where the mesh loads the files itself."""

    table: str
    mode: str
    files_loaded: list[str] = field(default_factory=list)
    rows_loaded: int = 0
    rows_rejected: int = 0
    files_skipped: list[str] = field(default_factory=list)   # "file: reason"
    rejected: list[str] = field(default_factory=list)        # "file row n: column = 'value'"
    pending: list[str] = field(default_factory=list)         # with --plan: the files a run would load


@dataclass
class Ingested:
    """What an engine did for one domain: the plan it reconciled the ingestion objects with (`plan`, and `applied`
    unless it only planned), and where it loads files itself, what each table received (`tables`)."""

    tables: list[TableLoad] = field(default_factory=list)
    plan: Plan | None = None
    applied: ApplyResult | None = None


def blocked(plan: Plan) -> list[str]:
    """The notes of a plan that say why it cannot apply as declared."""
    return [note for note in plan.notes if note.startswith(BLOCKED)]


@dataclass(frozen=True)
class LocalFile:
    """A raw file: its path relative to the domain folder (the name it is known by), size and mtime."""

    name: str
    path: Path
    size: int
    last_modified: datetime


def list_files(table: IngestTable, domain_dir: Path) -> list[LocalFile]:
    """The files under the table's location (a folder, read recursively, or a glob), filtered by `pattern`
    (matched against the path relative to the domain folder, as Snowflake matches the path in the stage)."""
    root = domain_dir.resolve()
    location = table.location
    spec = location if glob.has_magic(location) else location.rstrip("/") + "/**/*"
    files = []
    for found in sorted(root.glob(spec)):
        if not found.is_file() or found.name.startswith("."):
            continue
        name = found.resolve().relative_to(root).as_posix()
        if table.pattern and not re.fullmatch(table.pattern, name):
            continue
        stat = found.stat()
        files.append(LocalFile(name, found.resolve(), stat.st_size,
                               datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)))
    return files
