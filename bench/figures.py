"""What a benchmark reports: figures, each a value against a baseline measured in the same run, and a target."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One measured figure. `ratio` is value / baseline; the target is met when ratio <= target_ratio (or, for
    an absolute target, value <= target_value)."""

    benchmark: str
    name: str
    value: float | None
    unit: str
    baseline: float | None
    baseline_label: str
    target: str
    target_ratio: float | None = None
    target_value: float | None = None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        checks = []
        if self.target_ratio is not None and self.ratio is not None:
            checks.append(self.ratio <= self.target_ratio)
        if self.target_value is not None:
            checks.append(self.value <= self.target_value)
        return all(checks) if checks else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": _round(self.ratio), "met": self.met,
                "value": _round(self.value), "baseline": _round(self.baseline)}


def _round(value: float | None) -> float | None:
    """Four significant digits: a small baseline (a smoke run's hundredths of a second) keeps the precision its
    ratio was computed with.

    >>> _round(0.019251), _round(1234.5678), _round(None)
    (0.01925, 1235.0, None)
    """
    return None if value is None else float(f"{value:.4g}")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    from importlib.metadata import version

    return {"cores": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform(),
            "dbt_core": version("dbt-core"), "dbt_duckdb": version("dbt-duckdb")}


def _cell(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}".rstrip("0").rstrip(".") or "0"
    return f"{text} {unit}".strip()


def markdown_table(figures: list[Figure]) -> str:
    """The figures as a markdown table: what, value, baseline, ratio, target, met."""
    rows = ["| benchmark | figure | value | baseline | ratio | target | met |", "|---|---|---|---|---|---|---|"]
    for figure in figures:
        met = {True: "yes", False: "**no**", None: "-"}[figure.met]
        baseline = f"{_cell(figure.baseline, figure.unit)} ({figure.baseline_label})" if figure.baseline_label else "-"
        ratio = "-" if figure.ratio is None else f"{figure.ratio:.2f}x"
        rows.append(f"| {figure.benchmark} | {figure.name} | {_cell(figure.value, figure.unit)} | {baseline} | "
                    f"{ratio} | {figure.target} | {met} |")
    return "\n".join(rows)


def notes(figures: list[Figure]) -> str:
    """Every figure's note, as a list under the table."""
    return "\n".join(f"- **{f.benchmark} / {f.name}**: {f.note}" for f in figures if f.note)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
