"""6. Reconciliation: statements a second publish / provision / ingest issues with nothing changed (target 0), and
`SHOW` queries per object kind when reading state (target: one per kind, not one per object)."""

from __future__ import annotations

import importlib.util

from bench.figures import Figure
from bench.meshes import Context

NAME = "6. reconciliation"
FEATURES = ("publish", "provision", "ingest")


def run(ctx: Context) -> list[Figure]:
    figures = []
    for feature in FEATURES:
        present = importlib.util.find_spec(f"mesh_cli.commands.{feature}") is not None
        note = (f"`mesh {feature}` exists but this benchmark does not drive it yet: measure its second apply's "
                "statements here." if present else
                f"not measured: `mesh {feature}` is not in this tree yet (its issue had not landed when this ran).")
        figures.append(Figure(NAME, f"statements of a second `mesh {feature}`, nothing changed", None, "", None,
                              "", "0; one SHOW per object kind", note=note))
    return figures
