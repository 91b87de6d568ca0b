"""`mesh publish`: reconcile each domain's shares with its domain.yml, and record what was published.

After a successful apply, `<state>/state/<target>/<domain>/publish.json` says per product which share holds which
model versions for which consumers; the catalogue shows it and the ref resolver reads it to refuse refs to models
not shared with the consumer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.destroy import DestructionRefused, refuse_destruction
from mesh_cli.core.domains import Domain, discover_domains, require_domains
from mesh_cli.core.errors import EXIT_FAILED, EXIT_OK, EngineError, MeshError
from mesh_cli.core.governance_library import access_model
from mesh_cli.core.manifest import load_manifest
from mesh_cli.core.plan import Plan, apply_to
from mesh_cli.core.safe_io import set_aside, write_text_atomic
from mesh_cli.core.share_access import mounts_of
from mesh_cli.core.share_settings import share_settings
from mesh_cli.core.state import PUBLISH_FILE, domain_state_dir, load_publish_record, target_manifest
from mesh_cli.core.store import StaleGeneration
from mesh_cli.dbt.inventory import load_inventory
from mesh_cli.deployed.location import lease_term, target_store
from mesh_cli.deployed.sync import deploying
from mesh_cli.engines.registry import adapter_type, engine_class
from mesh_cli.shares.backends import backend_for
from mesh_cli.shares.diff import plan_shares, read_current
from mesh_cli.shares.spec import SHARE, DomainShares, desired_shares

PUBLISHED, UNCHANGED, PLANNED, FAILED = "published", "unchanged", "planned", "failed"


@dataclass
class DomainPublish:
    """How one domain's publish ended."""

    domain: str
    status: str
    plan: Plan | None = None
    applied: int = 0
    error: str | None = None
    failed_with: int = EXIT_FAILED  # a failure's exit code: the exception's (2: domain.yml, mesh.yml, credentials)
    note: str | None = None        # e.g. an unreadable publish state set aside and written again

    @property
    def ok(self) -> bool:
        return self.status != FAILED

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else self.failed_with

    def to_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "status": self.status, "applied": self.applied, "error": self.error,
                "plan": self.plan.to_dict() if self.plan else None}


def publish_record(shares: DomainShares, listed: set[str]) -> dict[str, Any]:
    """What `publish.json` records of a publish: per product its share, models, consumers, reader role, and the
    manifest its listing was published with (`listed`: the shares with a listing)."""
    products: dict[str, Any] = {}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    readers = {d.grantee.name for d in shares.desired if d.grantee.kind != SHARE}
    for desired in shares.desired:
        product = desired.product.split(".", 1)[1]
        entry = products.setdefault(product, {"status": PUBLISHED, "published_at": now, "models": list(desired.models),
                                              "consumers": {"domains": [], "accounts": [], "roles": []}})
        if desired.grantee.kind == SHARE:
            entry.update(share=desired.grantee.name,
                         listing="listed" if desired.grantee.name in listed else "not listed")
            entry["entitlement_roles"] = sorted(g.name for g in desired.grants   # dropped once no product uses one
                                                if g.on == "DATABASE_ROLE" and g.name not in readers)
            if desired.grantee.name in listed:   # what its targets are: a withdrawn account is planned from it
                entry["listing_manifest"] = shares.listings[desired.grantee.name]
            entry["consumers"]["accounts"] = sorted(desired.consumers)
        else:
            entry["database_role"] = desired.grantee.name
            entry["consumers"]["roles"] = sorted(desired.consumers)
    return {"topology": shares.topology, "products": products}


def _write_record(path: Path, record: dict[str, Any], consumer_domains: dict[str, list[str]]) -> None:
    for product, domains in consumer_domains.items():
        if product in record["products"]:
            record["products"][product]["consumers"]["domains"] = domains
    write_text_atomic(path, json.dumps(record, indent=2))


def _last_publish(record: Path, domain: str) -> tuple[dict[str, dict[str, Any]] | None, bool]:
    """The products of the domain's last publish (None without one), and whether the file is there but unreadable
    (not JSON, or the wrong shape: it is set aside and written again)."""
    try:
        return (load_publish_record(record, domain) if record.is_file() else None), False
    except MeshError:
        return None, True


def _manifest_of(config: MeshConfig, target: str, domain: Domain) -> dict[str, Any] | None:
    """The domain's manifest for `target`, built with its engine (None before its first build or parse)."""
    return target_manifest(config, target, domain, adapter_type(domain, target))


def publish_domain(config: MeshConfig, target: str, domain: Domain, domains: dict[str, Domain],
                   manifest: dict[str, Any], *, plan_only: bool = False,
                   allow_destroy: bool = False) -> DomainPublish:
    """Plan (and unless `plan_only`, apply) one domain's shares. Bad input and a failed apply end as a failed
    result (its `exit_code` is the exception's), never raise: each domain's failure is its own."""
    try:
        settings = share_settings(config)
        access = access_model(config.root, domains)
        record = domain_state_dir(config, target, domain.name) / PUBLISH_FILE
        adapter = adapter_type(domain, target)
        last, unreadable = _last_publish(record, domain.name)
        shares = desired_shares(domain, manifest, domains, settings, access, last,
                                keep_grants=engine_class(adapter).replace_drops_grants)
        shares.mounts = mounts_of(domain, domains, settings, access, lambda upstream: _manifest_of(
            config, target, upstream))
        backend = backend_for(config, target, domain.name, adapter, plan_only)
        statements = engine_class(adapter).share_statements
        if statements is None:
            raise EngineError(f"the {adapter} engine has no shares to publish: leave {domain.name}'s products to "
                              "another target")
        title = f"publish {domain.name} (target {target}, {adapter}, {settings.topology})"
        plan = plan_shares(shares, read_current(backend.reader, shares), title, offline=backend.offline,
                           sql=statements)
        if plan_only:
            return DomainPublish(domain.name, PLANNED, plan)
        try:
            refuse_destruction([plan], allow=allow_destroy, what=f"publishing {domain.name}")
        except DestructionRefused as exc:   # shown with its plan, applied not at all
            return DomainPublish(domain.name, FAILED, plan, error=str(exc), failed_with=exc.exit_code)
        result = apply_to(plan, backend)
        if not result.ok:
            failed = result.failed
            where = f"{failed.statement.sql.splitlines()[0]}: {failed.error}" if failed else "incomplete"
            return DomainPublish(domain.name, FAILED, plan, len(result.applied) - 1, where)
        consumers = {str(e["name"]): list((e.get("consumers") or {}).get("domains") or [])
                     for e in domain.products if isinstance(e, dict)}
        note = (f"{record.name} was not a readable publish state: set aside as {set_aside(record).name}, written "
                "again") if unreadable else None
        if not plan.empty or not record.is_file():
            _write_record(record, publish_record(shares, set(shares.listings)), consumers)
        return DomainPublish(domain.name, UNCHANGED if plan.empty else PUBLISHED, plan, len(result.applied),
                             note=note)
    except MeshError as exc:
        return DomainPublish(domain.name, FAILED, error=str(exc), failed_with=exc.exit_code)


def publish_after_build(config: MeshConfig, target: str, domain: Domain, *,
                        allow_destroy: bool = False) -> DomainPublish:
    """Publish a domain right after its build succeeded, from the manifest just saved in the state folder."""
    try:
        domains = discover_domains(config)
        manifest = load_manifest(domain_state_dir(config, target, domain.name) / "manifest.json")
    except MeshError as exc:
        return DomainPublish(domain.name, FAILED, error=str(exc), failed_with=exc.exit_code)
    return publish_domain(config, target, domain, domains, manifest, allow_destroy=allow_destroy)


def publish(config: MeshConfig, target: str, names: list[str], *, plan_only: bool = False,
            allow_destroy: bool = False) -> list[DomainPublish]:
    """Publish the named domains (all when none), in dependency order; each domain's failure is its own. The
    domains' records (and their upstreams') come from the target's store first; each published domain's record,
    with its new publish state, goes back to it under the domain's lease (none is taken for a plan)."""
    found = require_domains(config, discover_domains(config), "publish")
    unknown = [name for name in names if name not in found]
    if unknown:
        raise MeshError(f"unknown domain(s): {', '.join(unknown)} (domains: {', '.join(sorted(found))})")
    chosen = sorted(names or found)
    reads = sorted({up for name in chosen for up in found[name].upstreams if up in found} - set(chosen))
    located = target_store(config, target)
    writes = [] if plan_only else chosen
    command = " ".join(["mesh publish", *names])
    with deploying(config, located.store, target, writes, [*reads, *(chosen if plan_only else [])], command,
                   strict=False, lease_seconds=lease_term(config)) as deploy:
        inventory = load_inventory(config, target)
        domains = inventory.graph.domains
        results = []
        for name in inventory.graph.order(chosen):
            manifest = _manifest_of(config, target, domains[name])
            if manifest is None:
                results.append(DomainPublish(name, FAILED, error=f"{name} has no manifest for {target}; build it "
                                             f"first (`mesh build {name} --target {target}`)"))
                continue
            result = publish_domain(config, target, domains[name], domains, manifest, plan_only=plan_only,
                                    allow_destroy=allow_destroy)
            if result.status == PUBLISHED or (result.status == UNCHANGED and deploy.generations.get(name) is None):
                try:   # what changed goes to the store (a record that already says it is left as it is)
                    deploy.push(name)
                except StaleGeneration as exc:
                    result.status, result.error = FAILED, str(exc)
            results.append(result)
    return results
