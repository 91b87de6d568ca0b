"""Every rule `mesh check` applies, as data: its id, kind, default severity, what it means and the short fix.

Three kinds:
- `change`: a difference between the baseline and the working tree of a public model (the contract rules);
  a breaking one is an error unless the policy lets it pass (a new version instead of a change in place).
- `policy`: how consumers stand (a ref to a version past its deprecation date, a parse the change broke).
- `governance`: what every public model and domain must have, whatever changed.

`mesh.yml` may change any rule's severity (`error`, `warning`, `info`, `off`) and the options of those that
have some:

    check:
      rules:
        no-deprecated-ref: error
        sensitive-masked: {severity: error, tags: [pii, sensitive], masked_tags: [pii]}
        naming: {domain: '^[a-z]+$', schema: '^(marts|staging|intermediate)$'}
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mesh_cli.core.errors import MeshError

ERROR, WARNING, INFO, OFF = "error", "warning", "info", "off"
SEVERITIES = (ERROR, WARNING, INFO, OFF)
RANK = {ERROR: 0, WARNING: 1, INFO: 2}

BREAKING, NON_BREAKING, INFO_CHANGE = "breaking", "non-breaking", "info"
CHANGE, POLICY, GOVERNANCE = "change", "policy", "governance"

NEW_VERSION_FIX = ("keep the old shape and add the change as a new version (`versions:`), with a future "
                   "`deprecation_date` on the old one, so consumers migrate when they choose")


@dataclass(frozen=True)
class Rule:
    """One rule: `severity` is what a finding of it weighs (for a change: when it is breaking)."""

    id: str
    kind: str
    severity: str
    summary: str
    fix: str
    options: dict[str, Any] = field(default_factory=dict)


RULES: tuple[Rule, ...] = (
    # contract changes of public models
    Rule("model-removed", CHANGE, ERROR, "a public model (or every version of it) was removed",
         "restore the model; to retire it, give its versions a `deprecation_date` and remove them after it"),
    Rule("model-disabled", CHANGE, ERROR, "a public model was disabled (`enabled: false`)",
         "enable the model again; retire it with a `deprecation_date` instead"),
    Rule("access-narrowed", CHANGE, ERROR, "a public model is no longer public",
         "keep `access: public`; make a new private model instead and deprecate the public one"),
    Rule("version-removed", CHANGE, ERROR, "a version was removed before its deprecation date, or while "
         "consumers still ref it", "keep the version until its `deprecation_date` has passed and no domain refs it"),
    Rule("latest-version-moved", CHANGE, ERROR, "`latest_version` moved to a version whose contract is "
         "incompatible, while some consumers ref the model without pinning a version",
         "keep `latest_version` until every consumer pins a version (`ref(..., v=N)`) or has migrated"),
    Rule("contract-unenforced", CHANGE, ERROR, "a public model's contract is no longer enforced",
         "keep `contract: {enforced: true}`"),
    Rule("column-removed", CHANGE, ERROR, "a column was removed (a rename is a removal and an addition)",
         NEW_VERSION_FIX),
    Rule("type-changed", CHANGE, ERROR, "a column's data type changed to another kind of type", NEW_VERSION_FIX),
    Rule("type-narrowed", CHANGE, ERROR, "a column's data type was narrowed (shorter, less precision or scale)",
         NEW_VERSION_FIX),
    Rule("nullability-loosened", CHANGE, ERROR, "a column may now be null (a `not_null` constraint or test "
         "was removed)", "keep the `not_null` constraint or test; " + NEW_VERSION_FIX),
    Rule("constraint-removed", CHANGE, ERROR, "a constraint or guarantee (unique, primary key, check, accepted "
         "values) was removed or loosened", "keep the constraint; " + NEW_VERSION_FIX),
    Rule("model-added", CHANGE, INFO, "a public model was added", ""),
    Rule("version-added", CHANGE, INFO, "a version was added", ""),
    Rule("column-added", CHANGE, INFO, "a column was added", ""),
    Rule("type-widened", CHANGE, INFO, "a column's data type was widened", ""),
    Rule("nullability-tightened", CHANGE, INFO, "a column gained a `not_null` constraint or test", ""),
    Rule("constraint-added", CHANGE, INFO, "a constraint or guarantee was added or tightened", ""),
    Rule("deprecation-date-changed", CHANGE, INFO, "a version's deprecation date was set, moved or removed", ""),
    Rule("domain-added", CHANGE, INFO, "a domain is new to the mesh (the baseline has no manifest for it)", ""),
    # consumers
    Rule("ref-past-deprecation", POLICY, WARNING, "a domain refs a version of another domain's model past its "
         "deprecation date", "migrate the ref to a newer version: `ref('<domain>', '<model>', v=<newest>)`"),
    Rule("consumer-notice", POLICY, INFO, "a change of an upstream model reaches this domain's models", ""),
    Rule("parse-failed", POLICY, ERROR, "a domain no longer parses against the changed upstreams",
         "undo the upstream change, or migrate this domain's refs in the same change"),
    # governance
    Rule("public-contract-enforced", GOVERNANCE, ERROR, "every public model has an enforced contract",
         "add `config: {contract: {enforced: true}}` and a `data_type` for every column"),
    Rule("public-description", GOVERNANCE, ERROR, "every public model has a description",
         "add a `description:` to the model"),
    Rule("public-owner", GOVERNANCE, ERROR, "every public model belongs to a group with an owner",
         "set `+group:` for the model and give the group an `owner:` (name or email)"),
    Rule("public-columns-documented", GOVERNANCE, ERROR, "every column of a public model has a description "
         "and a data type", "add `description:` and `data_type:` to the column"),
    Rule("sensitive-masked", GOVERNANCE, ERROR, "every column tagged sensitive has a masking policy",
         "set `config: {meta: {data_mesh: {masking: <policy>}}}` on the column",
         {"tags": ["pii", "sensitive"], "masked_tags": []}),
    Rule("no-side-door", GOVERNANCE, ERROR, "a domain reads another domain only through `ref()` to a public "
         "model: no hand-written relation into its database (protected storage, staging, landing, governance)",
         "replace the relation with the `ref()` the finding names"),
    Rule("shared-public", GOVERNANCE, ERROR, "every model a data product shares (domain.yml `products`) is a "
         "public model of the domain", "make the model `access: public`, or remove it from the product"),
    Rule("governance-config", GOVERNANCE, ERROR, "every model's governance configuration is valid against the "
         "library (the validation `dbt build` runs first: policies, tags and their values, bound columns and types)",
         "fix the `meta.data_mesh` block as the message says"),
    Rule("no-deprecated-ref", GOVERNANCE, WARNING, "no cross-domain ref to a version that has a deprecation date",
         "migrate the ref to a newer version before the deprecation date: "
         "`ref('<domain>', '<model>', v=<newest>)`"),
    Rule("naming", GOVERNANCE, ERROR, "domain names and the schemas of public models follow the naming rule",
         "rename the domain or move the model to a schema that matches the rule",
         {"domain": r"^[a-z][a-z0-9_]*$", "schema": r"^[a-z][a-z0-9_]*$"}),
)

RULES_BY_ID = {rule.id: rule for rule in RULES}


def configured_rules(section: dict[str, Any]) -> dict[str, Rule]:
    """The rules with `mesh.yml`'s `check: rules:` applied; unknown rules or options are errors."""
    settings = section.get("rules") or {}
    if not isinstance(settings, dict):
        raise MeshError("`check: rules:` must be a mapping of rule id to a severity or {severity, options}")
    rules = dict(RULES_BY_ID)
    for rule_id, value in settings.items():
        if rule_id not in rules:
            raise MeshError(f"`check: rules:` names unknown rule {rule_id!r}; rules: {', '.join(RULES_BY_ID)}")
        rule = rules[rule_id]
        options = {"severity": value} if isinstance(value, str) else value
        if not isinstance(options, dict):
            raise MeshError(f"`check: rules: {rule_id}:` must be a severity or a mapping")
        severity = str(options.get("severity", rule.severity)).lower()
        if severity not in SEVERITIES:
            raise MeshError(f"`check: rules: {rule_id}:` severity {severity!r} is not one of "
                            f"{', '.join(SEVERITIES)}")
        unknown = set(options) - {"severity", *rule.options}
        if unknown:
            known = ", ".join(["severity", *rule.options])
            raise MeshError(f"`check: rules: {rule_id}:` unknown option(s) {', '.join(sorted(unknown))} "
                            f"(options: {known})")
        merged = {**rule.options, **{key: options[key] for key in rule.options if key in options}}
        rules[rule_id] = replace(rule, severity=severity, options=merged)
    return rules
