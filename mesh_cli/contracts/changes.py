"""Change classification: every public model and version of the baseline against the working tree.

Each change is breaking, non-breaking or info, with the reason, and a scope that says which consumers it can
reach: those reading one version (`version`), every consumer of the model (`model`), or the consumers whose
unpinned ref now resolves to another version (`unpinned`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from mesh_cli.contracts.rules import BREAKING, INFO_CHANGE, NON_BREAKING
from mesh_cli.contracts.snapshot import Column, Contract, DomainSnapshot
from mesh_cli.core.types import CHANGED, NARROWED, SAME, WIDENED, compare_types

VERSION, MODEL, UNPINNED = "version", "model", "unpinned"


@dataclass(frozen=True)
class Change:
    """One difference of a public model between the baseline and the working tree."""

    rule: str
    classification: str
    domain: str
    model: str
    version: str | None
    scope: str
    reason: str
    column: str | None = None
    contract: Contract | None = None      # where it is described now (else in the baseline)
    expired: bool = False                 # a removed version whose deprecation date had passed

    @property
    def label(self) -> str:
        return label(self.domain, self.model, self.version)


def label(domain: str, model: str, version: str | None = None) -> str:
    return f"{domain}.{model}" + (f".v{version}" if version is not None else "")


@dataclass(frozen=True)
class _Diff:
    rule: str
    classification: str
    reason: str
    column: str | None = None


def _type_diff(old: Column, new: Column) -> list[_Diff]:
    if old.data_type is None or new.data_type is None:
        if old.data_type is not None:
            return [_Diff("type-changed", BREAKING, f"column {old.name} lost its data type "
                          f"(was {old.written_type})", old.name)]
        return []
    how = compare_types(old.data_type, new.data_type)
    change = f"column {old.name}: {old.written_type} → {new.written_type}"
    if how == SAME:
        return []
    if how == WIDENED:
        return [_Diff("type-widened", NON_BREAKING, f"{change} (widened: every value still fits)", old.name)]
    if how == NARROWED:
        return [_Diff("type-narrowed", BREAKING, f"{change} (narrowed: {old.data_type} → {new.data_type})",
                      old.name)]
    assert how == CHANGED
    return [_Diff("type-changed", BREAKING, f"{change} (another type: {old.data_type} → {new.data_type})",
                  old.name)]


def _guarantee_diff(old: Column, new: Column) -> list[_Diff]:
    diffs = []
    if old.not_null and not new.not_null:
        diffs.append(_Diff("nullability-loosened", BREAKING, f"column {old.name} may now be null "
                           "(its not_null constraint or test was removed)", old.name))
    elif new.not_null and not old.not_null:
        diffs.append(_Diff("nullability-tightened", NON_BREAKING, f"column {old.name} is now not null", old.name))
    for removed in sorted(old.guarantees - new.guarantees):
        diffs.append(_Diff("constraint-removed", BREAKING, f"column {old.name} lost its {removed} guarantee",
                           old.name))
    for added in sorted(new.guarantees - old.guarantees):
        diffs.append(_Diff("constraint-added", NON_BREAKING, f"column {old.name} gained {added}", old.name))
    if old.accepted_values is not None:
        if new.accepted_values is None:
            diffs.append(_Diff("constraint-removed", BREAKING, f"column {old.name} lost its accepted values "
                               "test: any value may now appear", old.name))
        elif new.accepted_values - old.accepted_values:
            added = ", ".join(sorted(new.accepted_values - old.accepted_values))
            diffs.append(_Diff("constraint-removed", BREAKING, f"column {old.name} accepts new values "
                               f"({added}) that consumers may not handle", old.name))
        elif old.accepted_values - new.accepted_values:
            diffs.append(_Diff("constraint-added", NON_BREAKING, f"column {old.name} accepts fewer values",
                               old.name))
    elif new.accepted_values is not None:
        diffs.append(_Diff("constraint-added", NON_BREAKING, f"column {old.name} gained an accepted values test",
                           old.name))
    return diffs


def compare_contracts(old: Contract, new: Contract) -> list[_Diff]:
    """How the contract of one model changed for the domains that read it."""
    diffs: list[_Diff] = []
    if old.info.contract_enforced and not new.info.contract_enforced:
        diffs.append(_Diff("contract-unenforced", BREAKING, "the contract is no longer enforced"))
    added = [new.columns[key] for key in new.columns if key not in old.columns]
    for key, column in old.columns.items():
        if key not in new.columns:
            renamed = [c.name for c in added if c.data_type == column.data_type]
            hint = f" (renamed to {renamed[0]}? a rename is a removal for consumers)" if len(renamed) == 1 else ""
            diffs.append(_Diff("column-removed", BREAKING, f"column {column.name} was removed{hint}", column.name))
            continue
        diffs += _type_diff(column, new.columns[key]) + _guarantee_diff(column, new.columns[key])
    diffs += [_Diff("column-added", NON_BREAKING, f"column {column.name} was added", column.name)
              for column in added]
    diffs += [_Diff("constraint-removed", BREAKING, f"model constraint {c} was removed")
              for c in sorted(old.constraints - new.constraints)]
    diffs += [_Diff("constraint-added", NON_BREAKING, f"model constraint {c} was added")
              for c in sorted(new.constraints - old.constraints)]
    return diffs


def _changes(domain: str, name: str, version: str | None, scope: str, diffs: list[_Diff],
             contract: Contract | None) -> list[Change]:
    return [Change(d.rule, d.classification, domain, name, version, scope, d.reason, d.column, contract)
            for d in diffs]


def newest_version(versions: Iterable[str | None]) -> str | None:
    """The highest version number (`10` after `9`); None when there is none."""
    numbered = [v for v in versions if v is not None]
    return max(numbered, key=lambda v: (len(v), v)) if numbered else None


def _latest(versions: dict[str | None, Contract]) -> str | None:
    """The version an unpinned ref resolves to (None for an unversioned model)."""
    if None in versions:
        return None
    return next(iter(versions.values())).info.latest_version or newest_version(versions)


def _model_changes(domain: str, name: str, before: dict[str | None, Contract],
                   after: dict[str | None, Contract], disabled: bool, today: date) -> list[Change]:
    """How one model changed, version by version: added or removed whole, else each version compared, the
    versions added, and where unpinned refs now land."""
    public_before = {v: c for v, c in before.items() if c.public}
    public_after = {v: c for v, c in after.items() if c.public}
    if not public_before or not after:
        return _model_added_or_removed(domain, name, public_before, public_after, disabled)
    changes: list[Change] = []
    for version, old in sorted(public_before.items(), key=lambda item: str(item[0])):
        if version is None and None not in after:
            continue  # an unversioned model that became versioned: its unpinned refs are compared below
        changes += _version_changes(domain, name, version, old, after.get(version), today)
    changes += [Change("version-added", NON_BREAKING, domain, name, version, MODEL, f"version {version} was added",
                       contract=public_after[version])
                for version in sorted(set(public_after) - set(public_before), key=str) if version is not None]
    return changes + _latest_moved(domain, name, public_before, public_after, _latest(after))


def _model_added_or_removed(domain: str, name: str, public_before: dict[str | None, Contract],
                            public_after: dict[str | None, Contract], disabled: bool) -> list[Change]:
    """A model public only now (added), or public before and gone now (removed or disabled); else nothing."""
    if not public_before:
        if not public_after:
            return []
        versions = ", ".join(f"v{v}" for v in sorted(public_after, key=str) if v is not None)
        return [Change("model-added", NON_BREAKING, domain, name, None, MODEL,
                       f"new public model {label(domain, name)}" + (f" ({versions})" if versions else ""),
                       contract=next(iter(public_after.values())))]
    rule, how = ("model-disabled", "was disabled") if disabled else ("model-removed", "was removed")
    return [Change(rule, BREAKING, domain, name, None, MODEL, f"public model {label(domain, name)} {how}",
                   contract=next(iter(public_before.values())))]


def _version_changes(domain: str, name: str, version: str | None, old: Contract, new: Contract | None,
                     today: date) -> list[Change]:
    """One public version against what it is now: removed (breaking unless past its deprecation date), no
    longer public, or its contract and deprecation date compared."""
    if new is None:
        date_ = old.deprecation_date.date() if old.deprecation_date else None
        expired = date_ is not None and date_ <= today
        when = (f"after its deprecation date {date_}" if expired else
                f"before its deprecation date {date_}" if date_ else "without a deprecation date")
        return [Change("version-removed", NON_BREAKING if expired else BREAKING, domain, name, version, VERSION,
                       f"version {version} was removed {when}", contract=old, expired=expired)]
    if not new.public:
        return [Change("access-narrowed", BREAKING, domain, name, version, VERSION,
                       f"{label(domain, name, version)} is now {new.info.access}", contract=new)]
    changes = _changes(domain, name, version, VERSION, compare_contracts(old, new), new)
    if old.deprecation_date != new.deprecation_date:
        dates = [d.date().isoformat() if d else "none" for d in (old.deprecation_date, new.deprecation_date)]
        changes.append(Change("deprecation-date-changed", INFO_CHANGE, domain, name, version, VERSION,
                              f"deprecation date of v{version}: {dates[0]} → {dates[1]}", contract=new))
    return changes


def _latest_moved(domain: str, name: str, public_before: dict[str | None, Contract],
                  public_after: dict[str | None, Contract], latest_after: str | None) -> list[Change]:
    """Where refs without a version land, when that moved: breaking if the new latest breaks the old one's
    contract, a notice otherwise."""
    latest_before = _latest(public_before)
    if latest_before == latest_after or latest_after not in public_after or latest_before not in public_before:
        return []
    moved = f"latest version {latest_before or 'unversioned'} → {latest_after or 'unversioned'}"
    broken = [d for d in compare_contracts(public_before[latest_before], public_after[latest_after])
              if d.classification == BREAKING]
    if not broken:
        return [Change("latest-version-moved", INFO_CHANGE, domain, name, latest_after, UNPINNED,
                       f"{moved}, compatible with the previous latest", contract=public_after[latest_after])]
    reasons = "; ".join(d.reason for d in broken[:3]) + ("; …" if len(broken) > 3 else "")
    return [Change("latest-version-moved", BREAKING, domain, name, latest_after, UNPINNED,
                   f"{moved}: refs without a version now read an incompatible contract ({reasons})",
                   contract=public_after[latest_after])]


def classify(baseline: dict[str, DomainSnapshot], current: dict[str, DomainSnapshot], today: date) -> list[Change]:
    """Every change of every public model of every domain, baseline against the working tree."""
    changes: list[Change] = []
    for domain in sorted(set(baseline) | set(current)):
        before, after = baseline.get(domain), current.get(domain)
        if before is None:
            changes.append(Change("domain-added", INFO_CHANGE, domain, "", None, MODEL,
                                  f"domain {domain} is not in the baseline: its public models are new "
                                  f"({', '.join(after.public_names()) or 'none'})" if after else ""))
            continue
        names = sorted(set(before.public_names()) | (set(after.public_names()) if after else set()))
        for name in names:
            changes += _model_changes(domain, name, before.versions(name),
                                      after.versions(name) if after else {},
                                      after is not None and any(key[0] == name for key in after.disabled), today)
    return changes
