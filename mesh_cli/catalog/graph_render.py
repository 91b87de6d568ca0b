"""The domain graph and its cross-domain model edges as text, Mermaid, DOT or JSON."""

from __future__ import annotations

import json
import re
from collections import defaultdict

from mesh_cli.dbt.inventory import Inventory

FORMATS = ("text", "mermaid", "dot", "json")


def _domain_edges(inventory: Inventory) -> list[tuple[str, str]]:
    return sorted(inventory.graph.graph.edges)


def _domain_of(node: str) -> str:
    return node.split(".")[0]


def render_text(inventory: Inventory) -> str:
    lines = []
    by_pair: dict[tuple[str, str], list[str]] = defaultdict(list)
    for edge in inventory.edges:
        by_pair[(_domain_of(edge.upstream), _domain_of(edge.downstream))].append(
            f"{edge.upstream} → {edge.downstream}")
    for name in inventory.graph.order(inventory.graph.domains):
        lines.append(name)
        for downstream in sorted(inventory.graph.graph.successors(name)):
            lines.append(f"  → {downstream}")
            lines.extend(f"      {edge}" for edge in by_pair[(name, downstream)])
    return "\n".join(lines)


def _nodes_by_domain(inventory: Inventory) -> dict[str, set[str]]:
    """The models at either end of a cross-domain edge, by domain."""
    nodes: dict[str, set[str]] = defaultdict(set)
    for edge in inventory.edges:
        nodes[_domain_of(edge.upstream)].add(edge.upstream)
        nodes[_domain_of(edge.downstream)].add(edge.downstream)
    return nodes


def _mermaid_id(node: str) -> str:
    return re.sub(r"\W", "_", node)


def render_mermaid(inventory: Inventory) -> str:
    lines = ["graph LR"]
    nodes = _nodes_by_domain(inventory)
    for name in inventory.graph.order(inventory.graph.domains):
        lines.append(f"  subgraph {_mermaid_id(name)}[{name}]")
        lines.extend(f'    {_mermaid_id(node)}["{node}"]' for node in sorted(nodes[name]))
        lines.append("  end")
    lines.extend(f"  {_mermaid_id(e.upstream)} --> {_mermaid_id(e.downstream)}" for e in inventory.edges)
    linked = {(_domain_of(e.upstream), _domain_of(e.downstream)) for e in inventory.edges}
    lines.extend(f"  {_mermaid_id(up)} -.-> {_mermaid_id(down)}"
                 for up, down in _domain_edges(inventory) if (up, down) not in linked)
    return "\n".join(lines)


def render_dot(inventory: Inventory) -> str:
    lines = ["digraph mesh {", "  rankdir=LR;", "  node [shape=box];"]
    nodes = _nodes_by_domain(inventory)
    for name in inventory.graph.order(inventory.graph.domains):
        lines.append(f'  subgraph "cluster_{name}" {{')
        lines.append(f'    label="{name}";')
        lines.extend(f'    "{node}";' for node in sorted(nodes[name]) or [f"{name}"])
        lines.append("  }")
    lines.extend(f'  "{e.upstream}" -> "{e.downstream}";' for e in inventory.edges)
    lines.append("}")
    return "\n".join(lines)


def render_json(inventory: Inventory) -> str:
    return json.dumps({
        "domains": inventory.graph.order(inventory.graph.domains),
        "domain_edges": [{"upstream": up, "downstream": down} for up, down in _domain_edges(inventory)],
        "model_edges": [{"upstream": e.upstream, "downstream": e.downstream} for e in inventory.edges],
    }, indent=2)


def render(inventory: Inventory, fmt: str) -> str:
    return {"text": render_text, "mermaid": render_mermaid, "dot": render_dot, "json": render_json}[fmt](inventory)
