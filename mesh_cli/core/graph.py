"""The domain graph: who depends on whom, its validation, and dbt-style selection."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import networkx as nx

from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.refs import ModelRef, ProjectRefs, scan_refs
from mesh_cli.core.selectors import ALL, Atom, parse_selector


class DomainGraph:
    """Domains as nodes, an edge from each upstream to the domain that depends on it.

    >>> from pathlib import Path
    >>> def domain(name, *upstreams): return Domain(name, Path(name), upstreams, name, ())
    >>> graph = DomainGraph({d.name: d for d in (domain("orders", "customers"), domain("customers"),
    ...                                          domain("finance", "orders"), domain("hr"))})
    >>> graph.order(graph.domains)
    ['customers', 'hr', 'orders', 'finance']
    >>> sorted(graph.select(["customers+"])), sorted(graph.select(["+orders"])), sorted(graph.select(["hr"]))
    (['customers', 'finance', 'orders'], ['customers', 'orders'], ['hr'])
    >>> sorted(graph.select(["customers+1"])), sorted(graph.select(["1+finance"])), sorted(graph.select(["@orders"]))
    (['customers', 'orders'], ['finance', 'orders'], ['customers', 'finance', 'orders'])
    >>> sorted(graph.select(["hr orders"])), sorted(graph.select(["customers+,+orders"]))
    (['hr', 'orders'], ['customers', 'orders'])
    >>> graph.select(["order+"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    mesh_cli.core.errors.MeshError: selector 'order+' names no domain (did you mean 'orders'?); domains: ...
    """

    def __init__(self, domains: dict[str, Domain]) -> None:
        self.domains = domains
        self.graph: nx.DiGraph[str] = nx.DiGraph()
        self.graph.add_nodes_from(sorted(domains))
        for domain in domains.values():
            for upstream in domain.upstreams:
                self.graph.add_edge(upstream, domain.name)

    def validate(self) -> None:
        """Every upstream exists, there is no cycle, and every cross-domain ref is declared."""
        for domain in self.domains.values():
            for upstream in domain.upstreams:
                if upstream not in self.domains:
                    raise MeshError(f"{domain.name} declares upstream {upstream!r}, which is not a domain "
                                    f"of this mesh{_suggest(upstream, self.domains)}",
                                    path=domain.dependencies_file)
                if upstream == domain.name:
                    raise MeshError(f"{domain.name} declares itself as an upstream",
                                    path=domain.dependencies_file)
        try:
            cycle = nx.find_cycle(self.graph)
        except nx.NetworkXNoCycle:
            cycle = None
        if cycle:
            names = [edge[0] for edge in cycle] + [cycle[0][0]]
            raise MeshError(f"domain cycle {' → '.join(names)}: a domain cannot depend on its own "
                            "downstream; remove one of these `projects:` entries",
                            path=self.domains[names[1]].dependencies_file)
        for domain in self.domains.values():
            cross_domain_refs(domain, scan_refs(domain.source_paths), self.domains)

    def order(self, names: Iterable[str]) -> list[str]:
        """`names` in an order that builds every upstream first (ties broken by name); see the class's example."""
        wanted = set(names)
        return [n for n in nx.lexicographical_topological_sort(self.graph) if n in wanted]

    def upstream_of(self, name: str) -> set[str]:
        return set(nx.ancestors(self.graph, name))

    def downstream_of(self, name: str) -> set[str]:
        return set(nx.descendants(self.graph, name))

    def select(self, selectors: Iterable[str]) -> set[str]:
        """Domains matched by dbt-style selectors (core/selectors.py: `orders`, `customers+`, `+finance`, `1+orders`,
        `@orders`, `'orders finance'`, `customers+,+finance`), the union of them all; none is every domain (the
        class's example shows them)."""
        selectors = list(selectors)
        if not selectors:
            return set(self.domains)
        chosen: set[str] = set()
        for selector in selectors:
            for term in parse_selector(selector):
                chosen |= set.intersection(*(self._matched(selector, atom) for atom in term))
        return chosen

    def _matched(self, selector: str, atom: Atom) -> set[str]:
        if atom.name not in self.domains:
            raise MeshError(f"selector {selector!r} names no domain{_suggest(atom.name, self.domains)}; "
                            f"domains: {', '.join(sorted(self.domains))}")
        if atom.at:   # dbt's `@`: the domain, its downstream, and the upstream of all of those
            below = {atom.name} | self.downstream_of(atom.name)
            return below.union(*(self.upstream_of(name) for name in below))
        return ({atom.name} | _within(self.graph.reverse(copy=False), atom.name, atom.up)
                | _within(self.graph, atom.name, atom.down))

def cross_domain_refs(domain: Domain, refs: ProjectRefs, domains: Iterable[str]) -> list[ModelRef]:
    """The refs of `domain` that reach another domain; a ref to an undeclared domain is an error."""
    domains = set(domains)
    found = []
    for ref in refs.refs:
        if ref.package is None or ref.package == domain.name or ref.package not in domains:
            continue
        if ref.package not in domain.upstreams:
            raise MeshError(
                f"ref('{ref.package}', '{ref.name}') in {domain.name} reaches domain {ref.package}, "
                f"which {domain.name} does not declare; add `- name: {ref.package}` under `projects:` "
                f"in {domain.dependencies_file}", path=ref.file)
        found.append(ref)
    return found


def _within(graph: nx.DiGraph[str], name: str, levels: int) -> set[str]:
    """The nodes `levels` edges or fewer away from `name` along `graph`'s edges (ALL: any number), `name` aside."""
    if levels == 0:
        return set()
    reached = nx.single_source_shortest_path_length(graph, name, cutoff=None if levels == ALL else levels)
    return set(reached) - {name}


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
