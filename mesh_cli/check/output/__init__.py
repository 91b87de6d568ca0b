"""Renderers of a check report, one module per format; each is a function of the report to text."""

from __future__ import annotations

from collections.abc import Callable

from mesh_cli.check.output import github, junit, text
from mesh_cli.check.output import json as json_format
from mesh_cli.check.report import CheckReport

RENDERERS: dict[str, Callable[[CheckReport], str]] = {
    "text": text.render,
    "json": json_format.render,
    "junit": junit.render,
    "github": github.render,
}
FORMATS = tuple(RENDERERS)


def render(report: CheckReport, fmt: str) -> str:
    return RENDERERS[fmt](report)
