"""Column-level lineage between the models the lineage view shows: which column of an upstream model each column
of a downstream model is computed from, traced through the internal models between them, across domains too.

Each step reads a model's SQL as `mesh check` does (`core/column_reads.py`): a column flows into the columns of
the outermost select that are computed from it. A model whose SQL cannot be read that way (other Jinja, a
Python model that does not project its ref) passes on no column edge: its model edge stays, drawn alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import networkx as nx

from mesh_cli.catalog.lineage import ColumnEdge, Lineage
from mesh_cli.core.column_reads import node_reads


def _model_graph(manifests: Mapping[str, dict[str, Any]]) -> nx.DiGraph[str]:
    """Every domain's own models (`domain.model[.vN]`, their manifest node as `node`), upstream to downstream."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    for domain, manifest in manifests.items():
        for unique_id, node in manifest["nodes"].items():
            kind, package, *_ = unique_id.split(".")
            if kind != "model" or package != domain:
                continue
            graph.add_node(unique_id.split(".", 1)[1], node=node)
            for parent in (node.get("depends_on") or {}).get("nodes") or ():
                if parent.split(".")[0] == "model" and parent.split(".")[1] in manifests:
                    graph.add_edge(parent.split(".", 1)[1], unique_id.split(".", 1)[1])
    return graph


Reads = dict[tuple[str, str, str], set[str]]   # (parent, node, parent's column) -> node's columns from it


def _flows(graph: nx.DiGraph[str], parent: str, node: str, columns: Mapping[str, set[str]],
           reads: Reads) -> dict[str, set[str]]:
    """For each upstream column, the columns of `node` computed from it, given the columns of `parent` that
    carry it (`columns`: upstream column -> parent's columns); `reads` keeps each step's answer, so each model's
    SQL is read once per column of each parent, however many upstreams reach it."""
    domain, model = parent.split(".")[:2]
    found: dict[str, set[str]] = defaultdict(set)
    for column, carriers in columns.items():
        for carrier in carriers:
            if (parent, node, carrier) not in reads:
                read = node_reads(graph.nodes[node]["node"], domain, model, carrier)
                reads[(parent, node, carrier)] = {name.lower() for name in read.into}
            found[column] |= reads[(parent, node, carrier)]
    return {column: into for column, into in found.items() if into}


def _documented(graph: nx.DiGraph[str], node: str) -> list[str]:
    return [name.lower() for name in (graph.nodes[node]["node"].get("columns") or {})]


def add_column_lineage(lineage: Lineage, manifests: Mapping[str, dict[str, Any]]) -> None:
    """Fill `lineage.columns` (each shown model's documented columns, and those the lineage reaches) and
    `lineage.column_edges` from the domains' manifests."""
    graph = _model_graph(manifests)
    shown = [node for node in lineage.nodes if node in graph]
    edges: set[ColumnEdge] = set()
    model_edges = set(lineage.edges)
    reads: Reads = {}
    for upstream in shown:
        carried: dict[str, dict[str, set[str]]] = {upstream: {c: {c} for c in _documented(graph, upstream)}}
        below = nx.descendants(graph, upstream)
        for node in nx.topological_sort(graph.subgraph(below)):
            reached: dict[str, set[str]] = defaultdict(set)
            for parent in graph.predecessors(node):
                if parent in carried:
                    for column, into in _flows(graph, parent, node, carried[parent], reads).items():
                        reached[column] |= into
            if node in lineage.nodes:   # the flow stops at a shown model: its own edges carry it on
                if (upstream, node) in model_edges:
                    edges |= {ColumnEdge(upstream, column, node, name)
                              for column, into in reached.items() for name in into}
            elif reached:
                carried[node] = reached
    lineage.column_edges = sorted(edges)
    for node in shown:
        listed = _documented(graph, node)
        lineage.columns[node] = listed + sorted({edge.into for edge in edges if edge.downstream == node} - set(listed))
