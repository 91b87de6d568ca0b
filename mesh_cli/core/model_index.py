"""A slim index of a domain's models, saved next to its manifest, so that a downstream reads only the models it
refs instead of loading the whole manifest.

A manifest of 10,000 contracted, tested models is about 70 MB and takes about 300 MiB to load in Python; the
cross-domain ref resolver needs a handful of its models. The index is one line per model, `name<TAB>json`,
after a header line (adapter and project), so a reader parses only the lines of the names it wants.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from mesh_cli.core.manifest import ModelInfo, ref_targets_of
from mesh_cli.core.safe_io import write_text_atomic

MODEL_INDEX = "models.jsonl"
_SKIPPED = ("columns", "depends_on")  # the index serves ref resolution, which needs neither


def write_model_index(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write the index of the manifest's own models, seeds and snapshots into `folder` (atomically)."""
    metadata = manifest.get("metadata") or {}
    package = str(metadata.get("project_name"))
    lines = [json.dumps({"adapter_type": metadata.get("adapter_type"), "project_name": package}) + "\n"]
    for model in ref_targets_of(manifest, package):
        data = {k: v for k, v in asdict(model).items() if k not in _SKIPPED}
        data["deprecation_date"] = model.deprecation_date.isoformat() if model.deprecation_date else None
        lines.append(f"{model.name}\t{json.dumps(data)}\n")
    return write_text_atomic(folder / MODEL_INDEX, "".join(lines))


def read_model_index(folder: Path, adapter: str, names: Collection[str] | None = None) -> list[ModelInfo] | None:
    """The indexed models named in `names` (every model when None), or None when there is no usable index:
    none, one older than the manifest beside it, or one of another adapter."""
    path = folder / MODEL_INDEX
    manifest = folder / "manifest.json"
    if not path.is_file() or (manifest.is_file() and manifest.stat().st_mtime > path.stat().st_mtime):
        return None
    try:
        with path.open(encoding="utf-8") as handle:
            if json.loads(handle.readline()).get("adapter_type") != adapter:
                return None
            models = []
            for line in handle:
                name, _, data = line.partition("\t")
                if names is None or name in names:
                    models.append(_model(json.loads(data)))
    except (OSError, ValueError, TypeError, KeyError):
        return None  # unreadable: the caller falls back to the manifest
    return models


def _model(data: dict[str, Any]) -> ModelInfo:
    date = data.pop("deprecation_date")
    return ModelInfo(**data, deprecation_date=datetime.fromisoformat(date) if date else None,
                     columns={}, depends_on=())
