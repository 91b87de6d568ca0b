"""GitHub Actions workflow commands: one annotation per finding, on its file and line in the pull request.

Paths are relative to the working directory, which in a workflow is the repository root.
"""

from __future__ import annotations

from pathlib import Path

from mesh_cli.check.report import CheckReport
from mesh_cli.contracts.rules import ERROR, INFO, RANK, WARNING

COMMAND = {ERROR: "error", WARNING: "warning", INFO: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: CheckReport) -> str:
    lines = []
    ordered = [finding for _, findings in report.by_domain() for finding in findings]
    # GitHub shows a limited number of annotations of each kind per step: errors first, whatever their domain.
    for finding in sorted(ordered, key=lambda f: RANK[f.severity]):
        properties = []
        where = report.relative(finding.file, Path.cwd())
        if where:
            properties.append(f"file={_property(where)}")
            if finding.line:
                properties.append(f"line={finding.line}")
        properties.append(f"title={_property(f'mesh check {finding.rule}: {finding.model or finding.domain}')}")
        lines.append(f"::{COMMAND[finding.severity]} {','.join(properties)}::{_data(finding.full_text())}")
    lines.append(f"mesh check: {report.summary()}")
    return "\n".join(lines)
