"""A state reader that counts the SHOW statements a plan issues, by object kind (the tests' and the benchmarks'
measure of reconciliation cost)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from mesh_cli.api import StateReader


def show_kind(kind: str, scope: str | None) -> str:
    """The object kind a SHOW reads: its kind, and for grants the grantee's kind (`GRANTS TO SHARE`)."""
    if kind == "GRANTS" and scope:
        return f"GRANTS {scope.rsplit(' ', 1)[0]}"
    return kind


class ShowLog:
    """A StateReader that counts every SHOW by kind, sending the kinds in `live_kinds` to `live`, the rest to
    `recorded`."""

    def __init__(self, recorded: StateReader, live: StateReader | None = None,
                 live_kinds: frozenset[str] = frozenset()) -> None:
        self.recorded, self.live, self.live_kinds = recorded, live, live_kinds
        self.queries = 0
        self.kinds: Counter[str] = Counter()

    def show(self, kind: str, scope: str | None = None, like: str | None = None) -> list[dict[str, Any]]:
        self.queries += 1
        self.kinds[show_kind(kind, scope)] += 1
        reader = self.live if self.live is not None and kind in self.live_kinds else self.recorded
        return reader.show(kind, scope, like)
