"""A public model as an Open Data Contract Standard (ODCS) v3 data contract.

Schema from the model's enforced contract, quality from its dbt data tests (each once, in forms datacontract-cli
runs), team and support from the domain owner, SLA from the product in domain.yml, servers from the domain's
profile for the catalogue's target (servers.py: the database in place, or the test copies where the engine's
contract tests read copies).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mesh_cli.catalog.export.readers import copy_name, readers, relation_parts
from mesh_cli.catalog.export.servers import servers
from mesh_cli.catalog.export.validate import ODCS_SCHEMA, check
from mesh_cli.catalog.index import Catalog, mesh_domains_access, model_ref
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_library import access_model
from mesh_cli.engines.registry import engine_for

API_VERSION = "v3.2.0"
LOGICAL_TYPES = (
    (r"(tiny|small|big|huge)?int(eger)?\d*|number\(\d+,\s*0\)|long|short|byte", "integer"),
    (r"decimal.*|numeric.*|number.*|float.*|double.*|real", "number"),
    (r"(var)?char.*|text|string|character.*|uuid", "string"),
    (r"date", "date"),
    (r"timestamp.*|datetime", "timestamp"),
    (r"time", "time"),
    (r"bool(ean)?", "boolean"),
    (r"variant|object|json|struct.*|map.*", "object"),
    (r"array.*|list.*", "array"),
)
# dbt tests the property itself states (`required`, `unique`): datacontract-cli checks those once, from the property.
STATED_BY_PROPERTY = ("not_null", "unique")


def logical_type(data_type: str | None) -> str | None:
    """The ODCS logical type of a SQL data type (`number(38,0)` → integer, `varchar` → string), if known."""
    text = (data_type or "").strip().lower()
    return next((kind for pattern, kind in LOGICAL_TYPES if re.fullmatch(pattern, text)), None)


def _quality(test: dict[str, Any], column: str | None, place: Callable[[str], str]) -> dict[str, Any]:
    """One dbt data test as an ODCS quality rule datacontract-cli runs; `place` names a referenced relation as the
    contract's servers hold it."""
    name, arguments = test["name"], test["arguments"]
    if name == "accepted_values" and isinstance(arguments.get("values"), list):
        return {"name": name, "type": "library", "metric": "invalidValues", "mustBe": 0,
                "arguments": {"validValues": arguments["values"]}}
    if name == "relationships" and column and test.get("referenced") and arguments.get("field"):
        parent, field = place(test["referenced"]), arguments["field"]
        return {"name": name, "type": "sql", "mustBe": 0,
                "description": f"Every {column} is a {field} of {relation_parts(test['referenced'])[-1]}.",
                "query": f"select count(*) from {{model}} as child where child.{column} is not null and not exists "
                         f"(select 1 from {parent} as parent where parent.{field} = child.{column})"}
    return {"name": name, "type": "custom", "engine": "dbt",
            "implementation": {name: arguments} if arguments else name}


def _unique_when_clear(column: str, policy: str, roles: list[str]) -> dict[str, Any]:
    """Uniqueness of a masked column, counted only in a session holding a role that sees clear values."""
    clear = " or ".join(f"is_role_in_session('{role}')" for role in roles) or "false"
    return {"name": "unique_when_unmasked", "type": "sql", "mustBe": 0,
            "description": f"Unique for readers that see clear values ({', '.join(roles) or 'none'}); {policy} "
                           "may show other readers the same masked value twice, so for them this counts nothing.",
            "query": f"select count(*) from (select {column} from {{model}} where {column} is not null group by "
                     f"{column} having count(*) > 1) as duplicates where {clear}"}


def _property(column: dict[str, Any], place: Callable[[str], str],
              clearing_roles: Callable[[str], list[str]]) -> dict[str, Any]:
    names = {test["name"] for test in column["tests"]}
    prop: dict[str, Any] = {"name": column["name"], "physicalName": column["name"]}
    if column["data_type"]:
        prop["physicalType"] = column["data_type"]
    # ODCS 3.2's schema applies its `logicalType: map` rule (which requires `map`) to a property without a
    # logicalType, so one is always given: a column with no or an unknown data type is the most general, object.
    prop["logicalType"] = logical_type(column["data_type"]) or "object"
    if column["description"]:
        prop["description"] = column["description"]
    prop["required"] = "not_null" in column["constraints"] or "not_null" in names
    prop["unique"] = "unique" in names or "unique" in column["constraints"] or "primary_key" in column["constraints"]
    quality = [_quality(test, column["name"], place) for test in column["tests"] if test["name"] not in
               STATED_BY_PROPERTY]
    if column["masking"]:
        prop["classification"] = "restricted"
        prop["customProperties"] = [{"property": "maskingPolicy", "value": column["masking"]}]
        if prop["unique"]:
            # a masked value may repeat (every masked e-mail of a domain is `*****@domain`): the column is unique
            # only to readers that see clear values, which the rule asks the server's session
            prop["unique"] = False
            roles = clearing_roles(column["masking"])
            prop["customProperties"].append({"property": "uniqueWhenUnmasked", "value": roles})
            quality.append(_unique_when_clear(column["name"], column["masking"], roles))
    if column["tags"]:
        prop["tags"] = column["tags"]
    if quality:
        prop["quality"] = quality
    return prop


def find_model(catalog: Catalog, reference: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The product, model and version that `DOMAIN.MODEL` (latest version) or `DOMAIN.MODEL.vN` names."""
    parts = reference.split(".")
    if len(parts) not in (2, 3) or (len(parts) == 3 and not re.fullmatch(r"v\w+", parts[2])):
        raise MeshError(f"{reference!r} is not DOMAIN.MODEL or DOMAIN.MODEL.vN (e.g. customers.dim_customers.v2)")
    for product in catalog.products:
        for model in product["models"]:
            if f"{product['domain']}.{model['name']}" != ".".join(parts[:2]):
                continue
            wanted = parts[2][1:] if len(parts) == 3 else model["latest_version"]
            for version in model["versions"]:
                if version["version"] == wanted:
                    return product, model, version
            known = ", ".join(f"v{v['version']}" for v in model["versions"] if v["version"]) or "none"
            raise MeshError(f"{'.'.join(parts[:2])} has no version {parts[2]} (versions: {known})")
    public = sorted(f"{p['domain']}.{m['name']}" for p in catalog.products for m in p["models"])
    raise MeshError(f"{reference!r} is not a public model of any data product (products hold: {', '.join(public)});"
                    " add it to a product's `models:` in its domain.yml")


def odcs_contract(config: MeshConfig, catalog: Catalog, reference: str) -> dict[str, Any]:
    """The ODCS contract of one public model version, validated against the shipped ODCS JSON schema."""
    product, model, version = find_model(catalog, reference)
    domain = discover_domains(config)[product["domain"]]
    target = catalog.index["target"]
    copies = engine_for(config, [domain], target).contract_tests_read_copies
    relation = relation_parts(version["relation"] or "")
    access = access_model(config.root, {domain.name: domain})

    def place(referenced: str) -> str:   # the servers are test copies where contract tests read copies
        return copy_name(referenced, domain.name) if copies else referenced

    physical = relation[-1] or model["name"]
    schema_object: dict[str, Any] = {
        "name": physical, "physicalName": physical, "businessName": model["name"],
        "physicalType": "view" if version["materialized"] == "view" else "table", "logicalType": "object",
        **({"description": model["description"].strip()} if model["description"] else {}),
        "properties": [_property(column, place, access.clearing_roles) for column in version["columns"]],
        # a server whose reader sees no row (a governed view read without roles) would pass every other check
        "quality": [{"name": "has_rows", "type": "library", "metric": "rowCount", "mustBeGreaterThan": 0,
                     "description": "The server shows this reader rows: an empty read fails instead of passing."}],
    }
    if version["tags"]:
        schema_object["tags"] = version["tags"]
    schema_object["quality"] += [_quality(test, None, place) for test in version["model_tests"]]
    limitations = []
    if version["deprecation_date"]:
        limitations.append(f"Deprecated: removed after {version['deprecation_date']}; move to version "
                           f"{model['latest_version']}.")
    masked = [c["name"] for c in version["columns"] if c["masking"]]
    if masked:
        limitations.append(f"Masked for readers without the right role: {', '.join(masked)}.")
    if version["row_access"]:
        limitations.append(f"Rows filtered by the row access policy {version['row_access']}.")
    ref = model_ref(product["domain"], model["name"], version["version"], model["latest_version"])
    description = {"purpose": (model["description"] or product["description"]).strip(),
                   "usage": mesh_domains_access(product["domain"], ref, product["access"]["contact"], product["name"])}
    if limitations:
        description["limitations"] = " ".join(limitations)
    owner = product["owner"] or {"name": product["domain"], "email": None}
    contract: dict[str, Any] = {
        "apiVersion": API_VERSION, "kind": "DataContract", "id": version["id"],
        "name": model["name"] + (f" v{version['version']}" if version["version"] else ""),
        "version": f"{version['version'] or 1}.0.0",
        "status": "deprecated" if version["deprecation_date"] else "active",
        "domain": product["domain"], "dataProduct": product["name"], "tenant": catalog.index["mesh"],
        "description": description,
        "schema": [schema_object],
        "servers": servers(config, domain, relation[-2] if len(relation) > 1 else "main", target,
                           readers(config, product, target), version["id"]),
        "team": {"name": owner["name"],
                 "members": [{"username": c.get("email") or c["name"], "name": c["name"], "role": c.get("role", "")}
                             for c in product["contacts"]]},
        "slaProperties": _sla(product, version, physical),
        "customProperties": [{"property": "dbtUniqueId", "value": f"model.{product['domain']}."
                                                                  f"{version['id'].split('.', 1)[1]}"},
                             {"property": "confidentiality", "value": product["confidentiality"]}],
    }
    if product["tags"]:
        contract["tags"] = product["tags"]
    if owner.get("email"):
        contract["support"] = [{"channel": "email", "tool": "email", "url": f"mailto:{owner['email']}"}]
    check(contract, ODCS_SCHEMA, f"the ODCS contract of {version['id']}")
    return contract


def _sla(product: dict[str, Any], version: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """The product's SLA: `latency` (the rebuild cadence, judged by the catalogue), and `freshness` on the column
    that dates the data when the product names one (`sla.freshness_column`) and this version has it: the form
    datacontract-cli tests (the newest value no older than the SLA)."""
    sla = []
    hours = product["sla"].get("freshness_hours")
    if hours is not None:
        sla.append({"property": "latency", "value": hours, "unit": "h",
                    "description": f"Rebuilt at least every {hours} hours"})
    column = product["sla"].get("freshness_column")
    if hours is not None and column in {c["name"] for c in version["columns"]}:
        sla.append({"property": "freshness", "value": hours, "unit": "h", "element": f"{table}.{column}",
                    "description": f"The newest {column} is at most {hours} hours old"})
    if version["deprecation_date"]:
        sla.append({"property": "endOfSupport", "value": version["deprecation_date"],
                    "description": "Deprecation date of this model version"})
    return sla
