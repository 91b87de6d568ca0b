"""The result of `mesh check`: every finding, and how the check ran."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mesh_cli.contracts.findings import Finding
from mesh_cli.contracts.rules import ERROR, INFO, RANK, WARNING
from mesh_cli.core.errors import EXIT_FAILED, EXIT_OK


@dataclass
class CheckReport:
    """Every finding, and how the check ran."""

    baseline: str
    target: str
    root: Path
    domains: list[str]
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    @property
    def errors(self) -> int:
        return self.count(ERROR)

    @property
    def exit_code(self) -> int:
        """0 clean (warnings and notices allowed), 1 when any finding is an error: a check that failed, never bad
        input (bad input raises `MeshError` before a report exists)."""
        return EXIT_FAILED if self.errors else EXIT_OK

    def by_domain(self) -> list[tuple[str, list[Finding]]]:
        """Findings grouped by domain, the worst domain first, and the worst findings first in each."""
        groups: dict[str, list[Finding]] = {name: [] for name in self.domains}
        for finding in self.findings:
            groups.setdefault(finding.domain, []).append(finding)
        for findings in groups.values():
            findings.sort(key=lambda f: (RANK[f.severity], f.model or "", f.rule, f.column or ""))

        def weight(item: tuple[str, list[Finding]]) -> tuple[int, ...]:
            """Most errors first, then most warnings, then most notices, then by name."""
            return tuple(-sum(1 for f in item[1] if f.severity == s) for s in (ERROR, WARNING, INFO))
        return sorted(groups.items(), key=lambda item: (weight(item), item[0]))

    def summary(self) -> str:
        return (f"{self.errors} error(s), {self.count(WARNING)} warning(s), {self.count(INFO)} notice(s) "
                f"in {len(self.domains)} domain(s)")

    def relative(self, path: Path | None, base: Path | None = None) -> str | None:
        """A finding's file relative to `base` (the mesh root by default), as annotations want it."""
        if path is None:
            return None
        base = (base or self.root).resolve()
        try:
            return path.resolve().relative_to(base).as_posix()
        except ValueError:
            return path.as_posix()
