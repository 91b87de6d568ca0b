"""dbt's selector syntax, applied to domains: what one `-s/--select` or `--exclude` value asks for.

A value is a union of space-separated terms (`'orders finance'`); a term is an intersection of comma-separated
atoms (`customers+,+finance`); an atom names a domain with dbt's graph operators: `+name` (and its upstream),
`name+` (and its downstream), a depth before or after the `+` (`1+name`, `name+2`: that many levels), or `@name`
(the domain, its downstream, and the upstream of all of those). Anything else is refused in one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mesh_cli.core.errors import MeshError

_ATOM = re.compile(r"^(?:(?P<at>@)|(?:(?P<up>\d*)(?P<plus_up>\+))?)(?P<name>[^\s+@,:]+)"
                   r"(?:(?P<plus_down>\+)(?P<down>\d*))?$")
FORMS = ("`name`, `+name` (and upstream), `name+` (and downstream), `2+name` / `name+1` (that many levels), "
         "`@name`, `'a b'` (either), `a+,+b` (both)")
ALL = -1   # every level up or down


@dataclass(frozen=True)
class Atom:
    """One domain and the levels of upstream (`up`) and downstream (`down`) it brings: 0 none, ALL every one;
    `at` (dbt's `@`): its downstream and the upstream of all of those."""

    name: str
    up: int = 0
    down: int = 0
    at: bool = False


def parse_selector(value: str) -> list[list[Atom]]:
    """The union (outer list) of intersections (inner lists) one selector value asks for.

    >>> parse_selector("orders")
    [[Atom(name='orders', up=0, down=0, at=False)]]
    >>> [[(a.name, a.up, a.down) for a in term] for term in parse_selector("+orders 1+finance customers+2")]
    [[('orders', -1, 0)], [('finance', 1, 0)], [('customers', 0, 2)]]
    >>> parse_selector("@orders")
    [[Atom(name='orders', up=0, down=0, at=True)]]
    >>> [[a.name for a in term] for term in parse_selector("customers+,+finance")]
    [['customers', 'finance']]
    >>> parse_selector("customers+++")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    mesh_cli.core.errors.MeshError: selector 'customers+++' is not a domain selector: use `name`, ...
    >>> parse_selector("@orders+")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    mesh_cli.core.errors.MeshError: selector '@orders+' is not a domain selector: ...
    >>> parse_selector("tag:nightly")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    mesh_cli.core.errors.MeshError: selector 'tag:nightly' is not a domain selector: ...
    >>> parse_selector(" ")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    mesh_cli.core.errors.MeshError: selector ' ' is not a domain selector: ...
    """
    terms = [[_atom(value, text) for text in term.split(",")] for term in value.split()]
    if not terms:
        raise _refused(value)
    return terms


def _atom(value: str, text: str) -> Atom:
    found = _ATOM.match(text)
    if found is None or (found["at"] and found["plus_down"]):
        raise _refused(value)
    return Atom(found["name"], _levels(found["plus_up"], found["up"]), _levels(found["plus_down"], found["down"]),
                at=bool(found["at"]))


def _levels(plus: str | None, depth: str | None) -> int:
    """`+` alone: every level; `2+`: two; no `+`: none."""
    if not plus:
        return 0
    return int(depth) if depth else ALL


def _refused(value: str) -> MeshError:
    return MeshError(f"selector {value!r} is not a domain selector: use {FORMS}")
