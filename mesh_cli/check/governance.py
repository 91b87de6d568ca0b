"""Governance rules: what every public model and every domain must have, whatever changed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mesh_cli.contracts.changes import label
from mesh_cli.contracts.findings import Finding, locate
from mesh_cli.contracts.rules import OFF, Rule
from mesh_cli.contracts.snapshot import Column, Contract, DomainSnapshot
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_config import governance_problems, node_file
from mesh_cli.core.manifest import governance_meta


def _tag_names(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {str(key).lower() for key in value}
    if isinstance(value, list | tuple | set):
        return {str(item).lower().split("=", 1)[0] for item in value}
    return {str(value).lower()} if value else set()


def column_tags(column: Column) -> set[str]:
    """The tag names of a column: governance tags (`data_mesh: {tags: {pii: email}}`) and dbt tags."""
    node = column.node
    return (_tag_names(governance_meta(node).get("tags")) | _tag_names(node.get("tags"))
            | _tag_names((node.get("config") or {}).get("tags")))


def is_masked(column: Column, masked_tags: set[str]) -> bool:
    """A masking policy on the column itself, or a tag that carries one (tag-based masking)."""
    block = governance_meta(column.node)
    return bool(block.get("masking") or block.get("masking_policy")) or bool(column_tags(column) & masked_tags)


class Governance:
    """Applies the governance rules to the domains of the working tree."""

    def __init__(self, rules: dict[str, Rule]) -> None:
        self.rules = rules
        for key, pattern in rules["naming"].options.items():
            try:
                re.compile(str(pattern))
            except re.error as exc:
                raise MeshError(f"`check: rules: naming: {key}:` is not a valid regular expression: {exc}") from exc

    def _finding(self, rule_id: str, snapshot: DomainSnapshot, message: str, contract: Contract | None = None,
                 column: str | None = None, file: str | None = None) -> Finding:
        rule = self.rules[rule_id]
        path = snapshot.path_of(contract.yaml_file or contract.sql_file if contract else file)
        return Finding(rule_id, rule.severity, snapshot.name, message, rule.fix,
                       model=label(snapshot.name, contract.name, contract.version) if contract else None,
                       column=column, file=path,
                       line=locate(path, contract.name, column) if contract else None)

    def configuration(self, domain: Domain, manifest: dict[str, Any], central: dict[str, Any]) -> list[Finding]:
        """What the build's governance validation would refuse, as `governance-config` findings."""
        rule = self.rules["governance-config"]
        if rule.severity == OFF:
            return []
        return [Finding("governance-config", rule.severity, domain.name, message, rule.fix,
                        model=label(domain.name, node["name"], node.get("version")), file=node_file(domain, node))
                for node, message in governance_problems(domain, manifest, central)]

    def check(self, snapshot: DomainSnapshot, domain: Domain | None) -> list[Finding]:
        return [f for f in self._all(snapshot, domain) if self.rules[f.rule].severity != OFF]

    def _all(self, snapshot: DomainSnapshot, domain: Domain | None) -> Iterator[Finding]:
        public = [c for c in snapshot.contracts.values() if c.public]
        for contract in sorted(public, key=lambda c: (c.name, str(c.version))):
            yield from self._public_model(snapshot, contract)
        yield from self._naming(snapshot, public)
        if domain is not None:
            yield from self._products(snapshot, domain)

    def _public_model(self, snapshot: DomainSnapshot, contract: Contract) -> Iterator[Finding]:
        name = label(snapshot.name, contract.name, contract.version)
        if not contract.info.contract_enforced:
            yield self._finding("public-contract-enforced", snapshot,
                                f"public model {name} has no enforced contract", contract)
        if not contract.info.description.strip():
            yield self._finding("public-description", snapshot, f"public model {name} has no description", contract)
        group = snapshot.groups.get(contract.info.group or "")
        owner = (group or {}).get("owner") or {}
        if not contract.info.group:
            yield self._finding("public-owner", snapshot, f"public model {name} belongs to no group (no owner)",
                                contract)
        elif not (owner.get("name") or owner.get("email")):
            yield self._finding("public-owner", snapshot, f"group {contract.info.group} of public model {name} "
                                "has no owner", contract)
        masking = self.rules["sensitive-masked"].options
        sensitive = {str(tag).lower() for tag in masking.get("tags") or []}
        masked_tags = {str(tag).lower() for tag in masking.get("masked_tags") or []}
        for column in contract.columns.values():
            missing = [what for what, present in (("a description", column.description),
                                                  ("a data type", column.written_type)) if not present]
            if missing:
                yield self._finding("public-columns-documented", snapshot,
                                    f"column {column.name} of {name} has no {' and no '.join(m[2:] for m in missing)}",
                                    contract, column.name)
            tags = column_tags(column) & sensitive
            if tags and not is_masked(column, masked_tags):
                yield self._finding("sensitive-masked", snapshot, f"column {column.name} of {name} is tagged "
                                    f"{', '.join(sorted(tags))} but has no masking policy", contract, column.name)

    def _naming(self, snapshot: DomainSnapshot, public: list[Contract]) -> Iterator[Finding]:
        options = self.rules["naming"].options
        if options.get("domain") and not re.search(str(options["domain"]), snapshot.name):
            yield self._finding("naming", snapshot, f"domain name {snapshot.name!r} does not match the naming "
                                f"rule {options['domain']!r}", file="dbt_project.yml")
        if options.get("schema"):
            for contract in public:
                if not re.search(str(options["schema"]), contract.schema):
                    name = label(snapshot.name, contract.name, contract.version)
                    yield self._finding("naming", snapshot, f"public model {name} is in schema "
                                        f"{contract.schema!r}, which does not match the naming rule "
                                        f"{options['schema']!r}", contract)

    def _products(self, snapshot: DomainSnapshot, domain: Domain) -> Iterator[Finding]:
        for product in domain.products:
            if not isinstance(product, dict):
                continue
            for model in product.get("models") or []:
                name = str(model)
                versions = snapshot.versions(name)
                private = sorted({c.info.access for c in versions.values() if not c.public})
                if not versions and _public_seed_or_snapshot(snapshot.manifest, snapshot.name, name):
                    continue
                if not versions:
                    yield self._finding("shared-public", snapshot, f"data product {product.get('name')} shares "
                                        f"{snapshot.name}.{name}, which is not a model of {snapshot.name}",
                                        file="domain.yml")
                elif private:
                    yield self._finding("shared-public", snapshot, f"data product {product.get('name')} shares "
                                        f"{snapshot.name}.{name}, which is {private[0]}",
                                        next(iter(versions.values())))


def _public_seed_or_snapshot(manifest: dict[str, Any], domain: str, name: str) -> bool:
    """Whether `name` is a seed or snapshot of `domain` whose config says `access: public` (shared as a table)."""
    return any(node.get("resource_type") in ("seed", "snapshot") and node.get("package_name") == domain
               and node.get("name") == name and (node.get("config") or {}).get("access") == "public"
               for node in manifest.get("nodes", {}).values())
