"""Readable text: findings grouped by domain, the worst domain first, then a one-line summary."""

from __future__ import annotations

from mesh_cli.check.report import CheckReport
from mesh_cli.contracts.findings import Finding
from mesh_cli.contracts.rules import ERROR, INFO, WARNING

LABEL = {ERROR: "error", WARNING: "warning", INFO: "notice"}


def _counts(findings: list[Finding]) -> str:
    parts = [f"{n} {LABEL[s]}{'s' if n > 1 else ''}"
             for s in (ERROR, WARNING, INFO) if (n := sum(1 for f in findings if f.severity == s))]
    return ", ".join(parts) or "ok"


def _finding(report: CheckReport, finding: Finding) -> list[str]:
    subject = finding.model or finding.domain
    if finding.column:
        subject += f" · {finding.column}"
    kind = f" [{finding.classification}]" if finding.classification else ""
    lines = [f"  {LABEL[finding.severity]:<8} {finding.rule}  {subject}{kind}",
             f"           {finding.message}"]
    if finding.hits:
        lines.append(f"           {finding.hits_text}")
    if finding.fix and finding.severity != INFO:
        lines.append(f"           fix: {finding.fix}")
    where = report.relative(finding.file)
    if where:
        lines.append(f"           at {where}" + (f":{finding.line}" if finding.line else ""))
    return lines


def render(report: CheckReport) -> str:
    lines = [f"mesh check --target {report.target} against {report.baseline}", ""]
    for domain, findings in report.by_domain():
        lines.append(f"{domain}: {_counts(findings)}")
        for finding in findings:
            lines += _finding(report, finding)
    lines += [f"note: {note}" for note in report.notes]
    verdict = "FAILED" if report.exit_code else "passed"
    lines += ["", f"{verdict}: {report.summary()}"]
    return "\n".join(lines)
