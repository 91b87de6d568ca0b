"""Lineage across domains: public models as nodes grouped by domain, drawn as an inline SVG.

Private and protected models stay inside their domain: an edge goes from a public model to the nearest public
models built from it, through any number of internal models. A model that reads another domain's public model
but feeds no public model of its own domain is kept as a node, so every consumer shows. The column-level view
lists each model's columns and draws which upstream column each is computed from (catalog/column_lineage.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from html import escape

import networkx as nx

from mesh_cli.dbt.inventory import Inventory

CHAR_WIDTH, NODE_HEIGHT, ROW_GAP, PAD, HEADER, COLUMN_GAP, ARC_ROOM = 8.0, 26, 10, 12, 24, 90, 40
COLUMN_LINE = 17       # a column's line inside its model's box, in the column-level view


@dataclass(frozen=True, order=True)
class ColumnEdge:
    """Column `into` of model `downstream` is computed from column `column` of model `upstream`."""

    upstream: str
    column: str
    downstream: str
    into: str


@dataclass
class Lineage:
    """Visible models (`domain.model[.vN]`) with their domain, access and product, and the edges between them;
    each model's columns and the column edges, once column lineage is added."""

    nodes: dict[str, dict[str, str | None]] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    domain_order: list[str] = field(default_factory=list)
    columns: dict[str, list[str]] = field(default_factory=dict)
    column_edges: list[ColumnEdge] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {"nodes": [{"id": node, **data, "columns": self.columns.get(node, [])}
                          for node, data in self.nodes.items()],
                "edges": [{"upstream": up, "downstream": down} for up, down in self.edges],
                "column_edges": [{"upstream": e.upstream, "column": e.column, "downstream": e.downstream,
                                  "into": e.into} for e in self.column_edges]}

    def around(self, focus: set[str]) -> Lineage:
        """The part of the lineage that reaches or comes from the `focus` nodes."""
        graph: nx.DiGraph[str] = nx.DiGraph(self.edges)
        graph.add_nodes_from(self.nodes)
        keep = set(focus)
        for node in focus & set(graph):
            keep |= nx.ancestors(graph, node) | nx.descendants(graph, node)
        return Lineage({n: d for n, d in self.nodes.items() if n in keep},
                       [(u, v) for u, v in self.edges if u in keep and v in keep], self.domain_order,
                       {n: c for n, c in self.columns.items() if n in keep},
                       [e for e in self.column_edges if e.upstream in keep and e.downstream in keep])


def _node_id(unique_id: str) -> str:
    return ".".join(unique_id.split(".")[1:])


def lineage_graph(inventory: Inventory, product_of: dict[str, str]) -> Lineage:
    """The mesh's lineage; `product_of` maps `domain.model` to the product id that contains it."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    access: dict[str, str] = {}
    for view in inventory.views.values():
        for model in view.models:
            node = _node_id(model.unique_id)
            graph.add_node(node)
            access[node] = model.access
            for parent in model.depends_on:
                parts = parent.split(".")
                if parts[0] == "model" and parts[1] in inventory.views:
                    graph.add_edge(_node_id(parent), node)
    readers = {edge.downstream for edge in inventory.edges}
    public = {node for node, kind in access.items() if kind == "public"}
    visible = set(public)
    for reader in readers - public:
        if not nx.descendants(graph, reader) & public:
            visible.add(reader)
    edges = sorted({(up, node) for node in visible for up in _nearest_visible_parents(graph, node, visible)})
    nodes: dict[str, dict[str, str | None]] = {}
    for node in sorted(visible, key=lambda n: (n.split(".")[0], n)):
        domain, model_name, *version = node.split(".")
        nodes[node] = {"domain": domain, "model": model_name, "version": version[0][1:] if version else None,
                       "access": access.get(node, "public"), "product": product_of.get(f"{domain}.{model_name}")}
    return Lineage(nodes, edges, inventory.graph.order(inventory.views))


def _nearest_visible_parents(graph: nx.DiGraph[str], node: str, visible: set[str]) -> set[str]:
    found: set[str] = set()
    stack, seen = list(graph.predecessors(node)), set()
    while stack:
        parent = stack.pop()
        if parent in seen:
            continue
        seen.add(parent)
        if parent in visible:
            found.add(parent)
        else:
            stack.extend(graph.predecessors(parent))
    return found


def _columns(lineage: Lineage) -> list[list[str]]:
    """Domains in columns: a domain sits one column right of its deepest upstream present in the drawing."""
    by_domain: dict[str, list[str]] = defaultdict(list)
    for node, data in lineage.nodes.items():
        by_domain[str(data["domain"])].append(node)
    depth: dict[str, int] = {}
    upstreams: dict[str, set[str]] = defaultdict(set)
    for up, down in lineage.edges:
        if up.split(".")[0] != down.split(".")[0]:
            upstreams[down.split(".")[0]].add(up.split(".")[0])
    for domain in [d for d in lineage.domain_order if d in by_domain]:
        depth[domain] = max((depth[up] + 1 for up in upstreams[domain] if up in depth), default=0)
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for domain, level in depth.items():
        columns[level].append(domain)
    return columns


def render_svg(lineage: Lineage, focus: Collection[str] = (), link_prefix: str = "",
               with_columns: bool = False) -> str:
    """The lineage as an SVG element: a box per domain holding its models, arrows from upstream to downstream.
    Nodes link to their product's page (`<link_prefix><product id>.html`); `focus` nodes are highlighted. With
    `with_columns`, each model's box lists its columns, and a thinner arrow goes from each column to the columns
    computed from it: the column-level view."""
    listed = lineage.columns if with_columns else {}
    if not lineage.nodes:
        return '<p class="empty">No lineage: this product has no public model yet.</p>'
    by_domain: dict[str, list[str]] = defaultdict(list)
    for node, data in lineage.nodes.items():
        by_domain[str(data["domain"])].append(node)
    columns = _columns(lineage)
    level = {domain: index for index, column in enumerate(columns) for domain in column}
    skips = any(level[down.split(".")[0]] - level[up.split(".")[0]] > 1 for up, down in lineage.edges)
    loops = any(level[down.split(".")[0]] == level[up.split(".")[0]] for up, down in lineage.edges)
    position: dict[str, tuple[float, float, float]] = {}
    boxes: list[tuple[str, float, float, float, float]] = []
    x = float(PAD)
    height = 0.0
    for column in columns:
        labels = [_label(node, lineage) for domain in column for node in by_domain[domain]] + column + [
            f"  {name}" for domain in column for node in by_domain[domain] for name in listed.get(node, ())]
        width = max(len(label) for label in labels) * CHAR_WIDTH + 3 * PAD
        y = float(PAD + (ARC_ROOM if skips else 0))
        for domain in column:
            top = y
            y += HEADER
            for node in sorted(by_domain[domain]):
                position[node] = (x + PAD, y, width - 2 * PAD)
                y += _node_height(listed.get(node, ())) + ROW_GAP
            boxes.append((domain, x, top, width, y - top))
            y += 2 * PAD
        height = max(height, y)
        x += width + COLUMN_GAP
    marker = "arrow-columns" if with_columns else "arrow"
    kind = "lineage lineage-columns" if with_columns else "lineage"
    svg_width = x - COLUMN_GAP + PAD + (ARC_ROOM if loops else 0)   # an edge within a column loops out on the right
    parts = [f'<svg class="{kind}" xmlns="http://www.w3.org/2000/svg" role="img" width="{svg_width:.0f}" '
             f'height="{height:.0f}" viewBox="0 0 {svg_width:.0f} {height:.0f}">',
             '<title>Lineage across domains</title>',
             f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>']
    for domain, bx, by, bw, bh in boxes:
        parts.append(f'<g class="domain" data-domain="{escape(domain)}"><rect x="{bx:.0f}" y="{by:.0f}" '
                     f'width="{bw:.0f}" height="{bh:.0f}" rx="8"/><text x="{bx + PAD:.0f}" y="{by + 17:.0f}">'
                     f'{escape(domain)}</text></g>')
    for up, down in lineage.edges:
        skip = level[down.split(".")[0]] - level[up.split(".")[0]] > 1
        parts.append(f'<path class="edge" data-from="{escape(up)}" data-to="{escape(down)}" '
                     f'd="{_edge_path(position[up], position[down], skip)}" marker-end="url(#{marker})"/>')
    parts.extend(_column_edge(edge, listed, position, level[edge.downstream.split(".")[0]]
                              - level[edge.upstream.split(".")[0]] > 1)
                 for edge in lineage.column_edges
                 if edge.column in listed.get(edge.upstream, ()) and edge.into in listed.get(edge.downstream, ()))
    for node, data in lineage.nodes.items():
        nx_, ny, nw = position[node]
        classes = " ".join(filter(None, ["node", str(data["access"]), "focus" if node in focus else ""]))
        title = f"{node} ({data['access']})"
        shape = (f'<g class="{classes}" data-node="{escape(node)}"><title>{escape(title)}</title>'
                 f'<rect x="{nx_:.0f}" y="{ny:.0f}" width="{nw:.0f}" height="{_node_height(listed.get(node, ()))}" '
                 f'rx="5"/><text x="{nx_ + 8:.0f}" y="{ny + 17:.0f}">{escape(_label(node, lineage))}</text>'
                 + "".join(f'<text class="column" data-column="{escape(name)}" x="{nx_ + 14:.0f}" '
                           f'y="{ny + NODE_HEIGHT + 10 + index * COLUMN_LINE:.0f}">{escape(name)}</text>'
                           for index, name in enumerate(listed.get(node, ())))
                 + '</g>')
        product = data.get("product")
        parts.append(f'<a href="{escape(link_prefix)}{escape(str(product))}.html">{shape}</a>' if product else shape)
    parts.append("</svg>")
    return "".join(parts)


def _column_edge(edge: ColumnEdge, listed: Mapping[str, list[str]],
                 position: dict[str, tuple[float, float, float]], skip: bool) -> str:
    """An arrow from a column's line in its model's box to the line of a column computed from it."""
    def at(node: str, column: str) -> tuple[float, float, float]:   # a box whose middle is the column's line
        x, y, width = position[node]
        line = y + NODE_HEIGHT + 6 + listed[node].index(column) * COLUMN_LINE
        return x, line - NODE_HEIGHT / 2, width

    return (f'<path class="column-edge" data-from="{escape(edge.upstream)}" data-from-column="{escape(edge.column)}" '
            f'data-to="{escape(edge.downstream)}" data-to-column="{escape(edge.into)}" '
            f'd="{_edge_path(at(edge.upstream, edge.column), at(edge.downstream, edge.into), skip)}" '
            'marker-end="url(#arrow-columns)"><title>'
            f'{escape(f"{edge.upstream}.{edge.column} → {edge.downstream}.{edge.into}")}</title></path>')


def _node_height(columns: Collection[str]) -> float:
    return NODE_HEIGHT + (len(columns) * COLUMN_LINE + 4 if columns else 0)


def _label(node: str, lineage: Lineage) -> str:
    data = lineage.nodes[node]
    return f"{data['model']}" + (f" v{data['version']}" if data["version"] else "")


def _edge_path(start: tuple[float, float, float], end: tuple[float, float, float], skip: bool) -> str:
    """A curve from the right side of `start` to the left side of `end`; one that skips a column arcs over the
    top so it does not cross the domains in between; one within a column loops out on the right."""
    x1, y1 = start[0] + start[2], start[1] + NODE_HEIGHT / 2
    y2 = end[1] + NODE_HEIGHT / 2
    if end[0] > start[0]:
        x2 = end[0]
        bend = (x2 - x1) / 2
        if skip:
            return f"M {x1:.0f} {y1:.0f} C {x1 + COLUMN_GAP:.0f} 0, {x2 - COLUMN_GAP:.0f} 0, {x2:.0f} {y2:.0f}"
        return f"M {x1:.0f} {y1:.0f} C {x1 + bend:.0f} {y1:.0f}, {x2 - bend:.0f} {y2:.0f}, {x2:.0f} {y2:.0f}"
    x2 = end[0] + end[2]
    return f"M {x1:.0f} {y1:.0f} C {x1 + 40:.0f} {y1:.0f}, {x2 + 40:.0f} {y2:.0f}, {x2:.0f} {y2:.0f}"
