"""`mesh governance plan`: the governance statements each domain's build runs, without running them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_config import central_library, declared_problems
from mesh_cli.core.graph import DomainGraph
from mesh_cli.dbt.inventory import load_inventory
from mesh_cli.dbt.invoke import MESSAGE_PREFIX, DbtCall, DbtJob, run_shared, with_deps
from mesh_cli.engines.registry import engine_for

PLAN_PREFIX = f"{MESSAGE_PREFIX}plan "


@dataclass(frozen=True)
class DomainPlan:
    """The ordered governance statements of one domain on one target."""

    domain: str
    target: str
    adapter: str
    statements: tuple[str, ...]

    def sql(self) -> str:
        return "".join(f"{statement};\n" for statement in self.statements)


def governance_plan(config: MeshConfig, target: str, selectors: Iterable[str] = ()) -> list[DomainPlan]:
    """Ask dbt (`run-operation data_mesh.governance_plan`) for each selected domain's statements, in build
    order. Parsing needs no warehouse, so a prod plan needs no credentials; on an engine with database files, every
    upstream of a selected domain must have been built (dbt attaches it)."""
    graph = DomainGraph(discover_domains(config))
    selected = graph.order(graph.select(selectors))
    engine = engine_for(config, [graph.domains[name] for name in selected], target)
    for name in selected:   # before the parses: said at once
        unbuilt = [up for up in graph.domains[name].upstreams
                   if up in graph.domains and (file := engine.database_file(up)) and not file.is_file()]
        if unbuilt:
            raise MeshError(f"governance plan of {name} on {target} reads {', '.join(unbuilt)}, not built yet; "
                            f"build first with `mesh build -s +{name}`", path=graph.domains[name].path)
    inventory = load_inventory(config, target)
    order = inventory.graph.order(inventory.graph.select(selectors))
    domains = [inventory.graph.domains[name] for name in order]
    central = central_library(config.root)
    problems = [problem for domain in domains for problem in declared_problems(domain, central)]
    if problems:   # found from the YAML as `mesh build` finds them, each naming its file
        raise MeshError("\n".join(problems))
    env = {**engine.dbt_env(), "MESH_TARGET": target}
    plans = []
    for domain in domains:
        call = DbtCall(("run-operation", "data_mesh.governance_plan", "--target", target), domain.path)
        outcome = run_shared(DbtJob(with_deps(domain.path, call), env, engine.adapter_type))
        if not outcome.ok:
            raise MeshError(f"governance plan of {domain.name} failed: {outcome.error}", path=domain.path)
        statements = tuple(m[len(PLAN_PREFIX):] for m in outcome.messages if m.startswith(PLAN_PREFIX))
        plans.append(DomainPlan(domain.name, target, engine.adapter_type, statements))
    return plans
