"""Cross-domain impact and the policy: which consumers each change reaches, and what fails the check.

- A breaking change to an unversioned public model, or to an existing version, fails (its rule's severity),
  naming every downstream domain and model it hits.
- A new version beside the old one passes, with a notice to each consumer; so does a version removed after its
  deprecation date, unless a domain still refs it.
- `latest_version` moved to an incompatible version fails when some consumer does not pin a version; with
  every consumer pinned it is a warning.
- Each consumer is told what reaches it (`consumer-notice`), and a ref to a version past its deprecation date
  is reported (`ref-past-deprecation`); one before it is a governance warning (`no-deprecated-ref`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from mesh_cli.contracts.changes import MODEL, UNPINNED, VERSION, Change, label, newest_version
from mesh_cli.contracts.findings import Finding, Hit, locate
from mesh_cli.contracts.rules import BREAKING, ERROR, INFO, OFF, RULES_BY_ID, WARNING, Rule
from mesh_cli.contracts.snapshot import Contract, CrossRef, DomainSnapshot, reading_nodes
from mesh_cli.core.column_reads import EVERYTHING, ColumnRead, node_reads


def _latest(snapshot: DomainSnapshot | None, model: str) -> str | None:
    versions = snapshot.versions(model) if snapshot else {}
    if not versions or None in versions:
        return None
    return next(iter(versions.values())).info.latest_version


def reaches(change: Change, ref: CrossRef, latest_before: str | None, latest_after: str | None) -> bool:
    """Whether `change` reaches a consumer's ref: the version it read before and reads after the change."""
    before = ref.version if ref.version is not None else latest_before
    after = ref.version if ref.version is not None else latest_after
    if change.scope == MODEL:
        return True
    if change.scope == VERSION:
        return before == change.version == after
    assert change.scope == UNPINNED
    return ref.version is None and before != after


# Non-breaking changes consumers are told about: how the versions they read evolve.
VERSIONING = {"version-added", "version-removed", "deprecation-date-changed", "latest-version-moved"}


class Policy:
    """Turns the changes into findings, with the consumers each one reaches."""

    def __init__(self, rules: dict[str, Rule], baseline: dict[str, DomainSnapshot],
                 current: dict[str, DomainSnapshot], today: date) -> None:
        self.rules = rules
        self.baseline = baseline
        self.current = current
        self.today = today

    def _consumers(self, domain: str, model: str) -> list[CrossRef]:
        return sorted((ref for snapshot in self.current.values() for ref in snapshot.refs
                       if ref.upstream == domain and ref.model == model),
                      key=lambda ref: (ref.domain, ref.node))

    def _hits(self, change: Change) -> list[Hit]:
        after = self.current.get(change.domain)
        latest_before = _latest(self.baseline.get(change.domain), change.model)
        latest_after = _latest(after, change.model)
        hits = []
        for ref in self._consumers(change.domain, change.model):
            if not reaches(change, ref, latest_before, latest_after):
                continue
            read = self._column_read(ref, change.column)
            if not read.reads:
                continue   # the consumer never reads the changed column
            reads = ref.version if ref.version is not None else latest_before
            kept = ref.version is not None and after is not None and (change.model, ref.version) in after.contracts
            hits.append(Hit(ref.domain, ref.node, label(change.domain, change.model), reads, ref.version,
                            kept, ref.file, read.into))
        return hits

    def _column_read(self, ref: CrossRef, column: str | None) -> ColumnRead:
        """Whether the consumer behind `ref` reads `column` (a change to the whole model reaches every one)."""
        consumer = self.current.get(ref.domain)
        if column is None or consumer is None:
            return EVERYTHING
        reads = [node_reads(node, ref.upstream, ref.model, column) for node in reading_nodes(consumer, ref)]
        if not reads:
            return EVERYTHING
        return ColumnRead(any(read.reads for read in reads),
                          tuple(dict.fromkeys(c for read in reads for c in read.into)))

    def findings(self, changes: list[Change]) -> list[Finding]:
        found: list[Finding] = []
        for change in changes:
            rule = self.rules[change.rule]
            hits = self._hits(change) if change.model else []
            severity, classification, reason = rule.severity, change.classification, change.reason
            if classification != BREAKING and RULES_BY_ID[rule.id].severity == ERROR:
                severity = INFO if severity != OFF else OFF  # a breaking kind of change that is safe this time
            if change.rule == "version-removed" and change.expired and hits:
                classification = BREAKING
                severity = self.rules["version-removed"].severity
                reason += f", but {', '.join(sorted({h.domain for h in hits}))} still ref it"
            elif change.rule == "latest-version-moved" and classification == BREAKING and not hits:
                severity = WARNING if severity == ERROR else severity
                reason += "; every current consumer pins a version"
            if severity == OFF:
                continue
            found.append(self._change_finding(change, severity, classification, reason, rule, hits))
            found += self._notices(change, classification, hits)
        return found

    def _change_finding(self, change: Change, severity: str, classification: str, reason: str, rule: Rule,
                        hits: list[Hit]) -> Finding:
        # The YAML that describes the model (still there for a removed column or model), else the project file.
        snapshot, contract = self.current.get(change.domain), change.contract
        path = snapshot.path_of(contract.yaml_file or contract.sql_file) if snapshot and contract else None
        if snapshot is not None and (path is None or not path.is_file()):
            path = snapshot.path_of("dbt_project.yml")
        return Finding(change.rule, severity, change.domain, reason,
                       rule.fix if classification == BREAKING else "",
                       model=change.label if change.model else None, column=change.column,
                       classification=classification, hits=hits, file=path,
                       line=locate(path, change.model, change.column) if path and contract else None)

    def _notices(self, change: Change, classification: str, hits: list[Hit]) -> Iterator[Finding]:
        """One notice to each consumer domain a breaking or versioning change reaches."""
        notice = self.rules["consumer-notice"]
        if notice.severity == OFF or not hits or (classification != BREAKING and change.rule not in VERSIONING):
            return
        by_domain: dict[str, list[Hit]] = {}
        for hit in hits:
            by_domain.setdefault(hit.domain, []).append(hit)
        for domain, mine in sorted(by_domain.items()):
            models = ", ".join(sorted({hit.node for hit in mine}))
            what = "breaks" if classification == BREAKING else "reaches"
            snapshot = self.current.get(domain)
            path = snapshot.path_of(mine[0].file) if snapshot else None
            yield Finding("consumer-notice", notice.severity, domain,
                          f"{change.label}: {change.reason}; this {what} {models}",
                          "" if classification != BREAKING else "coordinate with the owner of "
                          f"{change.domain}, or pin a version that stays (`v=N`)",
                          model=change.label, classification=classification, hits=mine, file=path,
                          line=_line_of(path, change.model))

    def consumer_findings(self) -> list[Finding]:
        """Refs to deprecated versions: past the date (`ref-past-deprecation`) or before it (`no-deprecated-ref`)."""
        found = []
        for snapshot in self.current.values():
            for ref in snapshot.refs:
                upstream = self.current.get(ref.upstream) or self.baseline.get(ref.upstream)
                contract: Contract | None = upstream.contracts.get((ref.model, ref.resolved)) if upstream else None
                if contract is None or contract.deprecation_date is None:
                    continue
                deprecated = contract.deprecation_date.date()
                past = deprecated <= self.today
                rule = self.rules["ref-past-deprecation" if past else "no-deprecated-ref"]
                if rule.severity == OFF:
                    continue
                when = "passed" if past else "is"
                newest = newest_version(upstream.versions(ref.model)) if upstream else None
                message = (f"{snapshot.name}.{ref.node} refs {label(ref.upstream, ref.model, ref.resolved)}, "
                           f"whose deprecation date {when} {deprecated}"
                           + (f"; the newest version is v{newest}" if newest and newest != ref.resolved else ""))
                path = snapshot.path_of(ref.file)
                found.append(Finding(rule.id, rule.severity, snapshot.name, message,
                                     rule.fix.replace("<domain>", ref.upstream).replace("<model>", ref.model)
                                     .replace("<newest>", str(newest)),
                                     model=label(ref.upstream, ref.model, ref.resolved), file=path,
                                     line=_line_of(path, ref.model)))
        return found


def _line_of(path: Path | None, text: str) -> int | None:
    """The first line of a file with a ref that names `text`, else the first that mentions it, 1-based."""
    if path is None or not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    for wanted in (lambda line: "ref(" in line and text in line, lambda line: text in line):
        number = next((n for n, line in enumerate(lines, start=1) if wanted(line)), None)
        if number is not None:
            return number
    return 1
