"""The catalogue's index: every data product with its owner, models, columns, consumers, build and publish status.

Everything comes from what the mesh already has: domain.yml, each domain's manifest and run results, and the
publish state. The index is plain JSON data; the site and the terminal view render it.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from mesh_cli.catalog.column_lineage import add_column_lineage
from mesh_cli.catalog.governance import CONFIDENTIALITY, column_governance, model_governance, strictest
from mesh_cli.catalog.health import health_summary, product_health, rollup, worst_source_status
from mesh_cli.catalog.history import ContractState, contract_states, product_history
from mesh_cli.catalog.lineage import Lineage, lineage_graph
from mesh_cli.catalog.publish import publish_status
from mesh_cli.catalog.results import BuildResults, build_history, last_build
from mesh_cli.contracts.snapshot import DomainSnapshot, snapshot
from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import require_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_library import AccessModel, access_model
from mesh_cli.core.manifest import ModelInfo, load_manifest
from mesh_cli.core.products import ProductSpec, product_specs
from mesh_cli.core.row_counts import STORING
from mesh_cli.core.run_record import FAILED_STATUSES
from mesh_cli.dbt.inventory import DomainView, Inventory, load_inventory

INDEX_VERSION = 1


@dataclass
class Catalog:
    """The index (JSON-ready) and the lineage it was drawn from."""

    index: dict[str, Any]
    lineage: Lineage

    @property
    def products(self) -> list[dict[str, Any]]:
        return self.index["products"]


def build_catalog(config: MeshConfig, target: str, *, now: datetime | None = None,
                  only: Collection[str] | None = None, column_lineage: bool = False) -> Catalog:
    """Read the mesh on `target` and describe every data product (of the domains in `only`, when given: lineage
    and consumers still span the mesh); `now` is when freshness is judged. `column_lineage` adds the lineage's
    columns and column edges, which reads every model's SQL (the site shows them; `mesh list` and `mesh product`
    need not parse SQL)."""
    now = now or datetime.now(UTC)
    inventory = load_inventory(config, target)
    require_domains(config, inventory.graph.domains, "catalogue")
    specs = {name: product_specs(view.domain, {m.name for m in view.public_models}, set(inventory.views))
             for name, view in inventory.views.items()}
    product_of = {f"{spec.domain}.{model}": spec.id for found in specs.values() for spec in found
                  for model in spec.models}
    lineage = lineage_graph(inventory, product_of)
    manifests = {name: load_manifest(view.manifest_path) for name, view in inventory.views.items()}
    if column_lineage:
        add_column_lineage(lineage, manifests)
    readers = {name: snapshot(name, manifest, "catalogue") for name, manifest in manifests.items()}
    products: list[dict[str, Any]] = []
    for name, view in inventory.views.items():
        if only is not None and name not in only:
            continue
        history = build_history(config, target, view.domain)
        results = last_build(config, target, view.domain, history)
        past = _Past(contract_states(config, target, name, manifests[name]), _runs(history, results), readers)
        products.extend(_product(config, target, spec, view, manifests[name], results, inventory, now, past)
                        for spec in specs[name])
    index = {
        "catalog_version": INDEX_VERSION, "mesh": config.name, "target": target,
        "generated_at": now.isoformat(timespec="seconds"),
        "domains": [{"name": name, "description": view.domain.description,
                     "owner": _owner(view), "upstreams": list(view.domain.upstreams)}
                    for name, view in inventory.views.items()],
        "products": products,
        "lineage": lineage.as_json(),
    }
    return Catalog(index, lineage)


@dataclass
class _Past:
    """A domain's contract states and recorded builds, and every domain as it reads others now."""

    states: list[ContractState]
    runs: list[BuildResults]         # oldest first, the last build included
    readers: dict[str, DomainSnapshot]

    @cached_property
    def tests(self) -> dict[str, dict[str, Any]]:
        """Every data test node the domain's manifests and recorded builds know, by id (their ids stay the same
        across builds); worked out once for all the domain's products."""
        known = {uid: node for state in self.states for uid, node in state.manifest["nodes"].items()
                 if node.get("resource_type") == "test"}
        for run in self.runs:
            known |= run.tests
        return known


def find_product(catalog: Catalog, product_id: str) -> dict[str, Any] | None:
    """The product `DOMAIN.PRODUCT`, if the catalogue has it."""
    return next((p for p in catalog.products if p["id"] == product_id), None)


def _owner(view: DomainView) -> dict[str, str | None] | None:
    owner = view.domain.owner
    return {"name": owner.name, "email": owner.email} if owner else None


def _tests_by_model(manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The data tests of each model, each with `referenced`: the relation of the one other model or source it
    reads, if any (the parent of a `relationships` test)."""
    tests: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for node in manifest["nodes"].values():
        if node.get("resource_type") == "test" and node.get("attached_node"):
            others = [manifest["nodes"].get(uid) or (manifest.get("sources") or {}).get(uid) or {}
                      for uid in (node.get("depends_on") or {}).get("nodes") or [] if uid != node["attached_node"]]
            referenced = others[0].get("relation_name") if len(others) == 1 else None
            tests[node["attached_node"]].append({**node, "referenced": referenced})
    return tests


def _test_name(test: dict[str, Any]) -> str:
    return str((test.get("test_metadata") or {}).get("name") or test["name"])


def _test_entry(test: dict[str, Any]) -> dict[str, Any]:
    """A data test as `{name, arguments}` (its dbt arguments without the model and column it is attached to)."""
    kwargs = (test.get("test_metadata") or {}).get("kwargs") or {}
    entry = {"name": _test_name(test),
             "arguments": {k: v for k, v in kwargs.items() if k not in ("model", "column_name")}}
    return {**entry, "referenced": test["referenced"]} if test.get("referenced") else entry


def _columns(model: ModelInfo, tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_column: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for test in tests:
        if test.get("column_name"):
            by_column[test["column_name"]].append(_test_entry(test))
    return [{"name": name, "data_type": column.get("data_type"), "description": column.get("description") or "",
             "constraints": [c.get("type") for c in column.get("constraints") or []],
             "tests": sorted(by_column.get(name, []), key=lambda t: t["name"]), **column_governance(column)}
            for name, column in model.columns.items()]


def _model_runs(unique_id: str, runs: list[BuildResults], materialized: str | None) -> list[dict[str, Any]]:
    """The model in each recorded build that ran it, oldest first: when, its status, how long it took and its
    rows (as the adapter reports them, else as `mesh build` counted them after the build; None when neither,
    and for a view, whose count an adapter reports is no count of rows)."""
    found = []
    for run in runs:
        result = run.nodes.get(unique_id)
        if result is None or run.generated_at is None:
            continue
        rows, counted = run.rows(unique_id) if materialized in STORING else (None, False)
        found.append({"at": run.generated_at.isoformat(timespec="seconds"), "status": str(result.get("status")),
                      "seconds": round(float(result.get("execution_time") or 0), 2),
                      "rows": rows, "rows_counted": counted})
    return found


def _version_entry(model: ModelInfo, node: dict[str, Any], tests: list[dict[str, Any]],
                   built: datetime | None, runs: list[BuildResults]) -> dict[str, Any]:
    materialized = (node.get("config") or {}).get("materialized")
    return {
        "id": model.label, "version": model.version, "is_latest": model.version == model.latest_version,
        "relation": model.relation_name, "materialized": materialized, "stores_rows": materialized in STORING,
        "deprecation_date": model.deprecation_date.date().isoformat() if model.deprecation_date else None,
        "contract_enforced": model.contract_enforced, "built_at": built.isoformat() if built else None,
        "model_tests": sorted((_test_entry(t) for t in tests if not t.get("column_name")), key=lambda t: t["name"]),
        "columns": _columns(model, tests), "runs": _model_runs(model.unique_id, runs, materialized),
        **model_governance(node),
    }


def _runs(recorded: list[BuildResults], last: BuildResults) -> list[BuildResults]:
    """The recorded builds, oldest first, with the last build when the history does not hold it yet."""
    stamps = {run.generated_at for run in recorded}
    return [*recorded, last] if last.generated_at is not None and last.generated_at not in stamps else recorded


def _last_built(runs: list[BuildResults]) -> dict[str, datetime]:
    """When each model last built successfully, over the recorded builds (oldest first): a failed build after
    successful ones leaves the time of the last success."""
    built: dict[str, datetime] = {}
    for run in runs:
        for uid in run.nodes:
            if uid.startswith("model.") and (at := run.built_at(uid)) is not None:
                built[uid] = at
    return built


def _models(spec: ProductSpec, view: DomainView, manifest: dict[str, Any], runs: list[BuildResults],
            tests: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    built = _last_built(runs)
    entries = []
    for name in spec.models:
        versions = sorted((m for m in view.public_models if m.name == name),
                          key=lambda m: int(m.version) if m.version and m.version.isdigit() else 0)
        latest = next((m for m in versions if m.version == m.latest_version), versions[-1])
        entries.append({
            "name": name, "description": latest.description, "group": latest.group,
            "latest_version": latest.latest_version,
            "versions": [_version_entry(m, manifest["nodes"][m.unique_id], tests[m.unique_id], built.get(m.unique_id),
                                        runs)
                         for m in versions],
        })
    return entries


def _contacts(spec: ProductSpec, view: DomainView, manifest: dict[str, Any],
              models: list[dict[str, Any]]) -> list[dict[str, str]]:
    contacts = [dict(c) for c in spec.contacts]
    owner = view.domain.owner
    if owner:
        contacts.append({"name": owner.name, **({"email": owner.email} if owner.email else {}),
                         "role": "domain owner"})
    groups = {m["group"] for m in models if m["group"]}
    for group in (manifest.get("groups") or {}).values():
        if group.get("name") in groups and (group.get("owner") or {}).get("name"):
            contacts.append({k: str(v) for k, v in group["owner"].items() if k in ("name", "email") and v}
                            | {"role": f"owner of dbt group {group['name']}"})
    unique: dict[tuple[str, str], dict[str, str]] = {}
    for contact in contacts:
        unique.setdefault((contact["name"], contact.get("email", "")), contact)
    return list(unique.values())


def _build(spec: ProductSpec, models: list[dict[str, Any]], results: BuildResults, manifest: dict[str, Any],
           now: datetime, builds: list[dict[str, Any]]) -> dict[str, Any]:
    """The product's last build, its tests, freshness and sources, and its last success: the newest of its `builds`
    (`product_health()`) in which its models all built and none of its tests failed."""
    ids = [f"model.{spec.domain}.{v['id'].split('.', 1)[1]}" for m in models for v in m["versions"]]
    counts: dict[str, int] = defaultdict(int)
    failing = []
    for test in results.tests_of(set(ids)):
        result = results.nodes.get(test["unique_id"])
        status = str(result.get("status")) if result else "not run"
        counts[status] += 1
        if status not in ("pass", "not run", "skipped"):
            parents = [p for p in (test.get("depends_on") or {}).get("nodes") or () if p in ids]
            failing.append({"test": test["name"], "model": ".".join((test.get("attached_node") or parents[0])
                                                                   .split(".")[1:]),
                            "column": test.get("column_name"), "status": status,
                            "message": (result or {}).get("message")})
    built = [datetime.fromisoformat(v["built_at"]) for m in models for v in m["versions"] if v["built_at"]]
    oldest = min(built) if len(built) == len(ids) and built else None
    hours = spec.sla.get("freshness_hours")
    age = (now - oldest).total_seconds() / 3600 if oldest else None
    if age is None:
        freshness = "never built"
    elif hours is None:
        freshness = "no SLA"
    else:
        freshness = "fresh" if age <= hours else "stale"
    sources = _source_freshness(ids, manifest, results)
    entry = {
        "status": _product_status(ids, results, failing),
        "finished_at": results.generated_at.isoformat() if results.generated_at else None,
        "reason": _failure_reason(ids, results, failing),
        "last_success": next((b["at"] for b in reversed(builds) if b["status"] == "success"), None),
        "tests": dict(sorted(counts.items())), "failing_tests": failing,
        "freshness": {"status": freshness, "sla_hours": hours, "last_built": oldest.isoformat() if oldest else None,
                      "age_hours": round(age, 1) if age is not None else None,
                      "sources": worst_source_status(sources)},
        "sources": sources,
    }
    return {**entry, "health": rollup(entry)}


def _product_status(ids: list[str], results: BuildResults, failing: list[dict[str, Any]]) -> str:
    """The product's part of the domain's last build: failed when one of its models did not build or one of its
    tests failed; never built when there is no build."""
    if results.generated_at is None:
        return "never built"
    if results.ran_nothing:
        return "failed"
    models = [str(results.nodes[uid].get("status")) for uid in ids if uid in results.nodes]
    broken = any(status != "success" for status in models)
    return "failed" if broken or any(t["status"] in FAILED_STATUSES for t in failing) else "success"


def _failure_reason(ids: list[str], results: BuildResults, failing: list[dict[str, Any]]) -> str | None:
    """Why the product's last build failed, in one line: its first model that did not build, else its failed tests."""
    for uid in ids:
        node = results.nodes.get(uid)
        if node is not None and str(node.get("status")) != "success":
            message = " ".join(str(node.get("message") or "").split())
            return f"model {uid.split('.', 1)[1]} {node.get('status')}" + (f": {message}" if message else "")
    failed = [t for t in failing if t["status"] in FAILED_STATUSES]
    if failed:
        names = ", ".join(f"{t['test']} on {t['model']}" for t in failed[:3])
        return f"{len(failed)} test{'s' if len(failed) != 1 else ''} failed: {names}" + (
            ", …" if len(failed) > 3 else "")
    return results.reason if results.ran_nothing else None


def _source_freshness(model_ids: list[str], manifest: dict[str, Any], results: BuildResults) -> list[dict[str, Any]]:
    """Freshness results of the sources the product's models are built from."""
    seen: set[str] = set()
    stack = list(model_ids)
    while stack:
        node = manifest["nodes"].get(stack.pop()) or {}
        for parent in (node.get("depends_on") or {}).get("nodes") or ():
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    found = []
    for uid in sorted(seen):
        result = results.sources.get(uid)
        if uid.startswith("source.") and result:
            found.append({"source": uid.split(".", 2)[2], "status": result.get("status"),
                          "max_loaded_at": result.get("max_loaded_at"),
                          "checked_at": result.get("snapshotted_at")})
    return found


def _consumers(spec: ProductSpec, models: list[dict[str, Any]], inventory: Inventory) -> dict[str, Any]:
    nodes = {v["id"] for m in models for v in m["versions"]}
    used_by = [{"model": e.upstream, "used_by": e.downstream} for e in inventory.edges if e.upstream in nodes]
    observed = sorted({u["used_by"].split(".")[0] for u in used_by})
    return {"domains": list(spec.consumer_domains), "accounts": list(spec.consumer_accounts), "used_by": used_by,
            "undeclared": [d for d in observed if d not in spec.consumer_domains],
            "unused": [d for d in spec.consumer_domains if d not in observed]}


def _deprecations(models: list[dict[str, Any]], consumers: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"model": v["id"], "date": v["deprecation_date"],
             "used_by": [u["used_by"] for u in consumers["used_by"] if u["model"] == v["id"]]}
            for m in models for v in m["versions"] if v["deprecation_date"]]


def model_ref(domain: str, model: str, version: str | None = None, latest: str | None = None) -> str:
    """The ref a consumer writes: `{{ ref('customers', 'dim_customers', v=1) }}` for a version other than the
    latest (a ref without `v=` reads the latest), `{{ ref('customers', 'dim_customers') }}` otherwise."""
    pin = f", v={version}" if version and version != latest else ""
    return f"{{{{ ref('{domain}', '{model}'{pin}) }}}}"


def mesh_domains_access(domain: str, ref: str, contact: str, product: str) -> str:
    """How another domain of the mesh reads a product's model (`ref` as `model_ref()` writes it)."""
    return (f"Add `- name: {domain}` under `projects:` in your domain's dependencies.yml, then read it with "
            f"`{ref}`; ask {contact} to list your domain under `consumers.domains` of {product}.")


def _access(spec: ProductSpec, models: list[dict[str, Any]], owner: dict[str, str | None] | None,
            domain_file: str) -> dict[str, str]:
    contact = (owner or {}).get("email") or (owner or {}).get("name") or f"the {spec.domain} domain team"
    return {
        "contact": contact,
        "mesh_domains": mesh_domains_access(spec.domain, model_ref(spec.domain, models[0]["name"]), contact,
                                            spec.name),
        "snowflake_accounts": f"Ask {contact} to add your Snowflake account to `consumers.accounts` of {spec.name} "
                              f"in {domain_file}; the share is granted on the next publish.",
    }


def _entitlements(models: list[dict[str, Any]], access: AccessModel) -> str:
    """Which roles of the governance library see the product's rows and clear values, and where to declare them."""
    versions = [v for m in models for v in m["versions"]]
    rows = sorted({str(v["row_access"]).split()[0] for v in versions if v.get("row_access")})
    masks = sorted({str(c["masking"]) for v in versions for c in v["columns"] if c.get("masking")})
    parts = [f"rows are filtered by {policy}: the reading role must hold one of "
             f"{', '.join(access.clearing_roles(policy)) or 'no role'}" for policy in rows]
    parts += [f"{policy} masks values except for {', '.join(access.clearing_roles(policy)) or 'no role'}"
              for policy in masks]
    if not parts:
        return "No row access or masking policy: every reader sees every row in clear."
    text = "; ".join(parts)
    return (text[0].upper() + text[1:] + ". Entitle your domain's deployer in governance.yml (e.g. "
            "`ORDERS_DEPLOYER: {inherits: [ALL_REGIONS]}`): `mesh provision` grants it on Snowflake, and across "
            "accounts `mesh publish` grants the share's database role of the same name.")


def _confidentiality(spec: ProductSpec, models: list[dict[str, Any]]) -> str:
    """The product's `confidentiality:`, else the strictest `confidentiality` tag of its models, else restricted
    when a column is masked or tagged pii, else internal."""
    if spec.confidentiality:
        return spec.confidentiality
    tagged = [t.split("=", 1)[1] for m in models for v in m["versions"] for t in v["tags"]
              if t.startswith(f"{CONFIDENTIALITY}=")]
    if tagged:
        return str(strictest(tagged))
    columns = [c for m in models for v in m["versions"] for c in v["columns"]]
    sensitive = any(c["masking"] or any(t.split("=")[0] == "pii" for t in c["tags"]) for c in columns)
    return "restricted" if sensitive else "internal"


def _health(spec: ProductSpec, models: list[dict[str, Any]], past: _Past) -> dict[str, Any]:
    ids = {f"model.{spec.domain}.{v['id'].split('.', 1)[1]}" for m in models for v in m["versions"]}
    builds = product_health(past.runs, ids, past.tests, spec.sla.get("freshness_hours"))
    return {"builds": builds, "summary": health_summary(builds)}


def _check_freshness_column(spec: ProductSpec, view: DomainView, models: list[dict[str, Any]]) -> None:
    """The column a product's SLA names to date its data is a column of at least one of its models."""
    column = spec.sla.get("freshness_column")
    if column and not any(column == c["name"] for m in models for v in m["versions"] for c in v["columns"]):
        raise MeshError(f"product {spec.name}: `sla.freshness_column` {column!r} is not a column of any of its models "
                        f"({', '.join(spec.models)}); name the column that dates their rows, or remove it",
                        path=view.domain.path / "domain.yml")


def _product(config: MeshConfig, target: str, spec: ProductSpec, view: DomainView, manifest: dict[str, Any],
             results: BuildResults, inventory: Inventory, now: datetime, past: _Past) -> dict[str, Any]:
    tests = _tests_by_model(manifest)
    models = _models(spec, view, manifest, past.runs, tests)
    _check_freshness_column(spec, view, models)
    health = _health(spec, models, past)
    owner = _owner(view)
    consumers = _consumers(spec, models, inventory)
    tags = sorted({*spec.tags, *(t for m in models for v in m["versions"] for t in v["tags"]
                                 if not t.startswith(f"{CONFIDENTIALITY}="))})
    contacts = _contacts(spec, view, manifest, models)
    search = [spec.id, spec.description, *(owner or {}).values(), *tags,
              *(value for contact in contacts for key, value in contact.items() if key != "role"),
              *(m["name"] for m in models),
              *(c["name"] for m in models for v in m["versions"] for c in v["columns"])]
    return {
        "id": spec.id, "domain": spec.domain, "name": spec.name, "description": spec.description,
        "domain_description": view.domain.description, "owner": owner,
        "contacts": contacts, "sla": spec.sla, "tags": tags,
        "confidentiality": _confidentiality(spec, models), "models": models,
        "deprecations": _deprecations(models, consumers), "consumers": consumers,
        "access": {**_access(spec, models, owner, os.path.relpath(view.domain.path / "domain.yml", config.root)),
                   "entitlements": _entitlements(models, access_model(config.root, {view.domain.name: view.domain}))},
        "publish": publish_status(config, target, spec.domain, spec.name),
        "build": _build(spec, models, results, manifest, now, health["builds"]),
        "history": product_history(past.states, spec.domain, list(spec.models), past.readers),
        "health": health,
        "url": f"products/{spec.id}.html", "search": " ".join(dict.fromkeys(str(s).lower() for s in search if s)),
    }
