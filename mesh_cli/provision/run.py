"""Which domains, which engine, plan or apply: the one entry point of `mesh provision`."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from mesh_cli.core.config import MESH_FILE, MeshConfig
from mesh_cli.core.destroy import refuse_destruction
from mesh_cli.core.domains import discover_domains, require_domains
from mesh_cli.core.errors import MeshError, worst
from mesh_cli.core.footprint import MeshFootprint
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.lock import state_lock
from mesh_cli.core.plan import ApplyResult, Plan
from mesh_cli.core.share_settings import ACCOUNT_PER_DOMAIN, share_settings
from mesh_cli.engines.registry import engine_for
from mesh_cli.provision.spec import declared_footprint


@dataclass
class ProvisionResult:
    """The plans (one per unit the engine provisions: the account, or each domain database) and, when applied,
    their results."""

    target: str
    adapter: str
    footprint: MeshFootprint
    plans: list[Plan] = field(default_factory=list)
    applied: list[ApplyResult] = field(default_factory=list)
    internal_sql: bool = False      # the statements are the engine's bookkeeping: said in words, not shown

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.applied)

    @property
    def exit_code(self) -> int:
        """Bad input raises `MeshError` before anything is planned: a result that is not ok is a failed apply."""
        return worst(result.exit_code for result in self.applied)

    @property
    def statements(self) -> int:
        return sum(len(plan.statements) for plan in self.plans)


def provision(config: MeshConfig, selectors: tuple[str, ...] = (), target: str | None = None, *,
              plan_only: bool = False, prune: bool = False, allow_destroy: bool = False,
              connection: Any = None) -> ProvisionResult:
    """Plan, and unless `plan_only` apply, the footprint of the selected domains on the target's engine.

    On Snowflake without credentials, `plan_only` plans against an empty account (offline); `connection` is an
    existing connector connection to use instead of one from the environment. Applied under the state folder's
    lock.
    """
    with nullcontext() if plan_only else state_lock(config.state_dir, "mesh provision " + " ".join(selectors)):
        return _provision(config, selectors, target, plan_only=plan_only, prune=prune, allow_destroy=allow_destroy,
                          connection=connection)


def _provision(config: MeshConfig, selectors: tuple[str, ...], target: str | None, *, plan_only: bool,
               prune: bool, allow_destroy: bool, connection: Any) -> ProvisionResult:
    target = target or config.default_target
    domains = require_domains(config, discover_domains(config), "provision")
    graph = DomainGraph(domains)
    graph.validate()
    selected = graph.order(graph.select(selectors))
    engine = engine_for(config, list(domains.values()), target)
    footprint = declared_footprint(config, domains, selected)
    _one_account_at_a_time(config, engine.accounts_follow_topology, selected, selectors, prune=prune)
    if connection is not None:
        engine = engine.with_connection(connection)
    provisioner = engine.provisioner(plan_only=plan_only)
    plans = provisioner.plan(footprint, prune=prune)
    result = ProvisionResult(target, engine.adapter_type, footprint, plans, internal_sql=provisioner.internal_sql)
    if not plan_only:     # planned first: nothing is applied when a prune would destroy unasked
        refuse_destruction(plans, allow=allow_destroy, what="provisioning", in_words=provisioner.internal_sql)
        result.applied = provisioner.apply(plans)
    return result


def _one_account_at_a_time(config: MeshConfig, follows_topology: bool, selected: list[str],
                           selectors: tuple[str, ...], *, prune: bool) -> None:
    """A plan reconciles one account. In one account (or on an engine whose objects do not live in the accounts
    of mesh.yml's topology: `Engine.accounts_follow_topology`) that is the whole mesh, and --prune compares all of
    it; with `snowflake.topology: account_per_domain` each domain's footprint lives in its own account
    (https://docs.snowflake.com/en/user-guide/organizations-manage-accounts), so a plan covers one domain,
    provisioned with its account's credentials."""
    if not follows_topology or share_settings(config).topology != ACCOUNT_PER_DOMAIN:
        if prune and selectors:
            raise MeshError("--prune compares the whole mesh with the account: run it without a domain selection")
        return
    if len(selected) != 1:
        raise MeshError(f"snowflake.topology is {ACCOUNT_PER_DOMAIN}: each domain's footprint lives "
                        f"in its own account, so provision one domain at a time with that account's credentials "
                        f"(`mesh provision -s <domain>`; selected: {', '.join(selected) or 'none'})",
                        path=config.root / MESH_FILE)
