"""The rows each model held after a build, where dbt's adapter does not report the rows it wrote (DuckDB's does
not: `adapter_response` has no `rows_affected`). `mesh build` counts them on such an engine (`Engine.counts_built_rows`)
after a domain's successful build; the catalogue shows them per model over builds.

One file per domain's state folder, `history/rows.json`: the build's `generated_at` (as dbt's run results say it)
-> model id -> rows, for the newest `KEPT_RUNS` builds, as the run results themselves are kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mesh_cli.core.errors import MeshError
from mesh_cli.core.safe_io import write_text_atomic
from mesh_cli.core.state import KEPT_RUNS

ROW_COUNTS = Path("history/rows.json")
STORING = frozenset({"table", "incremental"})   # materialisations that store rows (a view's rows are its upstreams')


def reported_rows(result: dict[str, Any]) -> int | None:
    """The rows a run result says its node wrote, as dbt's adapter reports them; None when it reports none.

    >>> reported_rows({"adapter_response": {"rows_affected": 3}}), reported_rows({"adapter_response": {}})
    (3, None)
    """
    rows = (result.get("adapter_response") or {}).get("rows_affected")
    return rows if isinstance(rows, int) and rows >= 0 else None


def recorded_row_counts(folder: Path) -> dict[str, dict[str, int]]:
    """The counts kept in a domain's state folder, by build (`generated_at`) and model id."""
    path = folder / ROW_COUNTS
    if not path.is_file():
        return {}
    try:
        counts = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise MeshError(f"cannot read the recorded row counts ({exc}); delete the file, the next build writes it "
                        "again", path=path) from exc
    if not isinstance(counts, dict) or not all(isinstance(rows, dict) for rows in counts.values()):
        raise MeshError("not a file of row counts (build -> model -> rows); delete the file, the next build writes "
                        "it again", path=path)
    return counts


def record_row_counts(folder: Path, generated_at: str, rows: dict[str, int]) -> None:
    """Keep one build's counts beside the others, the newest `KEPT_RUNS` builds only (a file that cannot be read
    is replaced: the counts describe builds, nothing depends on them)."""
    try:
        counts = recorded_row_counts(folder) | {generated_at: rows}
    except MeshError:
        counts = {generated_at: rows}
    kept = dict(sorted(counts.items())[-KEPT_RUNS:])   # ISO times in one zone sort as they happened
    write_text_atomic(folder / ROW_COUNTS, json.dumps(kept, indent=1, sort_keys=True))
