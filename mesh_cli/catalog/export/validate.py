"""Validation of exported documents against the standards' published JSON schemas, shipped in `../schemas/`."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft201909Validator
from jsonschema.exceptions import best_match

from mesh_cli.core.errors import MeshError

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
ODCS_SCHEMA = "odcs-json-schema-v3.2.0.json"
ODPS_SCHEMA = "odps-json-schema-v1.0.0.json"


@cache
def _validator(name: str) -> Draft201909Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def check(document: dict[str, Any], schema: str, what: str) -> None:
    """Raise a MeshError naming the first problem when `document` does not validate against `schema`."""
    error = best_match(_validator(schema).iter_errors(document))
    if error is not None:
        where = "/".join(map(str, error.absolute_path)) or "(top)"
        raise MeshError(f"{what} does not validate against {schema} at {where}: {error.message}",
                        path=SCHEMAS / schema)
