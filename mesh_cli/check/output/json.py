"""The report as JSON, for scripts: every finding with its place, classification and the consumers it hits."""

from __future__ import annotations

import json
from dataclasses import asdict

from mesh_cli.check.report import CheckReport
from mesh_cli.contracts.rules import ERROR, INFO, WARNING


def render(report: CheckReport) -> str:
    findings = []
    for _, group in report.by_domain():
        for finding in group:
            findings.append({
                "rule": finding.rule, "severity": finding.severity, "domain": finding.domain,
                "model": finding.model, "column": finding.column, "classification": finding.classification,
                "message": finding.message, "fix": finding.fix or None,
                "file": report.relative(finding.file), "line": finding.line,
                "hits": [asdict(hit) for hit in finding.hits],
            })
    return json.dumps({
        "ok": report.exit_code == 0,
        "exit_code": report.exit_code,
        "target": report.target,
        "baseline": report.baseline,
        "domains": report.domains,
        "summary": {"errors": report.count(ERROR), "warnings": report.count(WARNING), "notices": report.count(INFO)},
        "notes": report.notes,
        "findings": findings,
    }, indent=2)
