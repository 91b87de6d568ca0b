"""Ingestion declarations: the dbt sources of a domain whose `config.meta.data_mesh.ingest` says how their raw
data lands, read from the domain's YAML and validated strictly (one line per error, naming file, table, fix)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.ingest_spec import DEFAULT_STAGE, Column, FileFormat, IngestTable, Stage
from mesh_cli.core.types import parse_type
from mesh_cli.core.yamlfile import read_yaml
from mesh_cli.engines.registry import ENGINES

MODES = ("copy", "snowpipe", "external_table", "kafka")
ON_ERROR = ("abort_statement", "skip_file", "continue")
FORMAT_OPTIONS: dict[str, dict[str, type]] = {
    "csv": {"skip_header": int, "field_delimiter": str, "field_optionally_enclosed_by": str, "null_if": list,
            "compression": str},
    "json": {"strip_outer_array": bool, "compression": str},
    "parquet": {"compression": str},
}
KEYS = {"mode", "location", "file_format", "pattern", "on_error", "stage", "partitions", "auto_refresh",
        "auto_ingest", "integration", "aws_sns_topic", "backfill", "topic", "schematized", "may_be_empty"}
STAGE_KEYS = {"name", "url", "storage_integration"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
EXTERNAL_TABLE_DOC = "https://docs.snowflake.com/en/sql-reference/sql/create-external-table"


def _fail(path: Path, where: str, message: str) -> MeshError:
    return MeshError(f"{where}: {message}", path=path)


def _ingest_block(entry: dict[str, Any]) -> dict[str, Any] | None:
    for holder in (entry.get("config") or {}, entry):
        meta = holder.get("meta") if isinstance(holder, dict) else None
        block = ((meta or {}).get("data_mesh") or {}).get("ingest") if isinstance(meta, dict) else None
        if block is not None:
            return block
    return None


def _columns(path: Path, where: str, entries: Any, engine_check: bool = True) -> tuple[Column, ...]:
    if not isinstance(entries, list) or not entries:
        raise _fail(path, where, "list the landing columns under `columns:`, each with a `data_type`")
    columns = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise _fail(path, where, f"each column needs a `name:`, got {entry!r}")
        name = entry["name"]
        if not _NAME.match(name) or name.lower().startswith("_file") or name.lower() == "_loaded_at":
            raise _fail(path, where, f"column {name!r} must be a plain identifier (letters, digits, _) and not a "
                        "metadata column (_file, _file_row, _file_last_modified, _loaded_at)")
        written = entry.get("data_type")
        if not isinstance(written, str):
            raise _fail(path, where, f"column {name!r} needs a `data_type` (e.g. varchar, number(38,0), date)")
        data_type = parse_type(written)
        if engine_check and any(engine.spell_type(data_type) is None for engine in ENGINES.values()):
            raise _fail(path, where, f"column {name!r} has type {written!r}, which the engines cannot cast raw "
                        "values to; use varchar, number(p,s), float, boolean, date, timestamp_ntz or variant")
        columns.append(Column(name.lower(), data_type))
    names = [c.name for c in columns]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise _fail(path, where, f"column {duplicate!r} is listed twice")
    return tuple(columns)


def _file_format(path: Path, where: str, value: Any) -> FileFormat:
    if not isinstance(value, dict) or value.get("type") not in FORMAT_OPTIONS:
        raise _fail(path, where, f"`file_format` needs a `type` of {', '.join(FORMAT_OPTIONS)}, got {value!r}")
    kind = value["type"]
    allowed = FORMAT_OPTIONS[kind]
    options = []
    for key, option in sorted(value.items()):
        if key == "type":
            continue
        if key not in allowed:
            raise _fail(path, where, f"unknown {kind} file_format option {key!r} (known: {', '.join(allowed)})")
        if not isinstance(option, allowed[key]) or (isinstance(option, bool) and allowed[key] is int):
            raise _fail(path, where, f"file_format option {key!r} must be a {allowed[key].__name__}")
        options.append((key, tuple(option) if isinstance(option, list) else option))
    return FileFormat(kind, tuple(options))


def _stage(path: Path, where: str, value: Any) -> Stage:
    if value is None:
        return Stage()
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict) or set(value) - STAGE_KEYS:
        raise _fail(path, where, f"`stage` takes {', '.join(sorted(STAGE_KEYS))}, got {value!r}")
    name = value.get("name", DEFAULT_STAGE)
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(path, where, f"stage name {name!r} must be a plain identifier")
    integration = value.get("storage_integration")
    if integration is not None and not (isinstance(integration, str) and _NAME.match(integration)):
        raise _fail(path, where, f"storage_integration {integration!r} must be a plain identifier")
    if integration and not value.get("url"):
        raise _fail(path, where, "a stage with a storage_integration needs its `url`")
    return Stage(name, value.get("url"), integration)


def _partitions(path: Path, where: str, value: Any) -> tuple[Column, ...]:
    if value is None:
        return ()
    return _columns(path, where + " partitions", value)


def _flag(path: Path, where: str, block: dict[str, Any], key: str, default: bool) -> bool:
    value = block.get(key, default)
    if not isinstance(value, bool):
        raise _fail(path, where, f"`{key}` must be true or false, got {value!r}")
    return value


def _mode(path: Path, where: str, block: dict[str, Any]) -> str:
    unknown = set(block) - KEYS
    if unknown:
        raise _fail(path, where, f"unknown ingest key(s) {', '.join(sorted(unknown))} "
                    f"(known: {', '.join(sorted(KEYS))})")
    mode = block.get("mode")
    if mode not in MODES:
        raise _fail(path, where, f"ingest mode {mode!r} is not one of {', '.join(MODES)}")
    for key in ("integration", "aws_sns_topic"):
        if block.get(key) is not None and mode != "snowpipe":
            raise _fail(path, where, f"`{key}` applies to snowpipe sources only")
    return str(mode)


def _location(path: Path, where: str, block: dict[str, Any]) -> str:
    location = block.get("location")
    if not isinstance(location, str) or not location.strip() or ".." in Path(location).parts \
            or location.startswith("/"):
        raise _fail(path, where, "`location` is required: a folder or glob relative to the domain (locally) and "
                    "a path in the stage (Snowflake), without `..`")
    return location.strip()


def _on_error(path: Path, where: str, block: dict[str, Any], mode: str) -> str:
    on_error = block.get("on_error", "skip_file" if mode == "snowpipe" else "abort_statement")
    if on_error not in ON_ERROR:
        raise _fail(path, where, f"on_error {on_error!r} is not one of {', '.join(ON_ERROR)}")
    return str(on_error)


def _pattern(path: Path, where: str, block: dict[str, Any]) -> str | None:
    pattern = block.get("pattern")
    if pattern is None:
        return None
    try:
        re.compile(str(pattern))
    except re.error as exc:
        raise _fail(path, where, f"pattern {pattern!r} is not a regular expression: {exc}") from exc
    return str(pattern)


def _topic(path: Path, where: str, block: dict[str, Any], mode: str) -> str | None:
    topic = block.get("topic")
    if mode == "kafka" and not (isinstance(topic, str) and topic):
        raise _fail(path, where, "a kafka source needs its `topic`")
    if mode != "kafka" and topic is not None:
        raise _fail(path, where, "`topic` applies to kafka sources only")
    return topic


def _mode_file_format(path: Path, where: str, block: dict[str, Any], mode: str) -> FileFormat:
    """The declared file format; a Kafka source lands JSON records (its default)."""
    file_format = _file_format(path, where, block.get("file_format", {"type": "json"} if mode == "kafka" else None))
    if mode == "kafka" and file_format.type != "json":
        raise _fail(path, where, "a kafka source lands JSON records: use file_format {type: json}")
    return file_format


def _plain_name(path: Path, where: str, what: str, value: Any) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise _fail(path, where, f"{what} {value!r} must be a plain identifier")
    return value.lower()


def _has_freshness(source: dict[str, Any], table: dict[str, Any]) -> bool:
    """Whether the table or its source declares freshness and a `loaded_at_field` to measure it by."""
    declared = any(isinstance(entry, dict) and entry.get("freshness")
                   for entry in (table, table.get("config") or {}, source, source.get("config") or {}))
    return bool(declared and (table.get("loaded_at_field") or source.get("loaded_at_field")))


def _table(domain: Domain, path: Path, source: dict[str, Any], table: dict[str, Any],
           block: dict[str, Any]) -> IngestTable:
    """One source table with its merged ingest block, each part validated by its own step."""
    where = f"source {source['name']}.{table.get('name')}"
    mode = _mode(path, where, block)
    return IngestTable(
        domain=domain.name, source=source["name"], name=table["name"],
        identifier=_plain_name(path, where, "identifier", table.get("identifier", table["name"])),
        schema=_plain_name(path, f"source {source['name']}", "schema", source.get("schema", source["name"])),
        database=source.get("database"), mode=mode, location=_location(path, where, block),
        file_format=_mode_file_format(path, where, block, mode), columns=_columns(path, where, table.get("columns")),
        path=path, pattern=_pattern(path, where, block), on_error=_on_error(path, where, block, mode),
        stage=_stage(path, where, block.get("stage")), partitions=_partitions(path, where, block.get("partitions")),
        auto_refresh=_flag(path, where, block, "auto_refresh", False),
        auto_ingest=_flag(path, where, block, "auto_ingest", True), integration=block.get("integration"),
        aws_sns_topic=block.get("aws_sns_topic"), backfill=_flag(path, where, block, "backfill", False),
        topic=_topic(path, where, block, mode), schematized=_flag(path, where, block, "schematized", False),
        may_be_empty=_flag(path, where, block, "may_be_empty", False), freshness=_has_freshness(source, table),
    )


def _yaml_files(domain: Domain) -> list[Path]:
    model_dirs = [p for p in domain.source_paths if p.name != "tests" and p.is_dir()]
    return sorted({f for folder in model_dirs for pattern in ("*.yml", "*.yaml") for f in folder.rglob(pattern)})


def _source_tables(domain: Domain, path: Path, source: Any) -> list[IngestTable]:
    """The tables of one source with an ingestion block, the source's own merged under each table's."""
    if not isinstance(source, dict) or not isinstance(source.get("name"), str):
        raise MeshError(f"each source needs a `name:`, got {source!r}", path=path)
    shared = _ingest_block(source)
    found = []
    for table in source.get("tables") or []:
        if not isinstance(table, dict) or not isinstance(table.get("name"), str):
            raise MeshError(f"source {source['name']}: each table needs a `name:`", path=path)
        own = _ingest_block(table)
        if shared is None and own is None:
            continue
        for block in (shared, own):
            if block is not None and not isinstance(block, dict):
                raise MeshError(f"source {source['name']}.{table['name']}: `meta.data_mesh.ingest` must be "
                                f"a mapping, got {block!r}", path=path)
        found.append(_table(domain, path, source, table, {**(shared or {}), **(own or {})}))
    return found


def load_ingest_tables(domain: Domain) -> list[IngestTable]:
    """Every source table of the domain with an ingestion block (a source's block applies to each of its
    tables, a table's own block is merged over it)."""
    found: list[IngestTable] = []
    for path in _yaml_files(domain):
        data = read_yaml(path, default={})
        sources = data.get("sources") if isinstance(data, dict) else None
        if not sources:
            continue
        if not isinstance(sources, list):
            raise MeshError("`sources:` must be a list", path=path)
        for source in sources:
            found.extend(_source_tables(domain, path, source))
    found = _resolve_stages(found)
    seen: dict[tuple[str, str], IngestTable] = {}
    for table in found:
        key = (table.schema, table.identifier)
        if key in seen:
            raise MeshError(f"source {table.source}.{table.name} lands in {table.schema}.{table.identifier}, like "
                            f"{seen[key].source}.{seen[key].name}; give one an `identifier:`", path=table.path)
        seen[key] = table
    return found


def _resolve_stages(tables: list[IngestTable]) -> list[IngestTable]:
    """One stage per database, schema and name: the declaration with a `url` holds for every table naming the stage
    alone. External tables read external stages only
    (https://docs.snowflake.com/en/sql-reference/sql/create-external-table): one on an internal stage is refused, on
    both engines."""
    external: dict[tuple[str | None, str, str], IngestTable] = {}
    for table in tables:
        key = (table.database, table.schema, table.stage.name.lower())
        if table.stage.url:
            other = external.setdefault(key, table)
            if other.stage != table.stage:
                raise _fail(table.path, f"source {table.source}.{table.name}",
                            f"stage {table.stage.name!r} is declared differently by source {other.source}."
                            f"{other.name}; declare its url and storage_integration once, the same everywhere")
    resolved = []
    for table in tables:
        owner = external.get((table.database, table.schema, table.stage.name.lower()))
        if owner is not None and not table.stage.url:
            table = replace(table, stage=owner.stage)
        if table.mode == "external_table" and not table.stage.url:
            raise _fail(table.path, f"source {table.source}.{table.name}",
                        f"an external table reads an external stage only, and stage {table.stage.name!r} is internal; "
                        "declare `stage: {name: ..., url: 's3://bucket/path/', storage_integration: ...}` "
                        f"({EXTERNAL_TABLE_DOC})")
        resolved.append(table)
    return resolved
