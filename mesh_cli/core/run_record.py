"""What `mesh build` keeps of each build of a domain in its run history (`history/runs/`): dbt's run results, with
the build's outcome and reason, the data tests the build knew (so a failed build's new test is still told apart),
and the commit it was built from, marked when the working tree had uncommitted changes."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RECORD = "mesh_build"     # the key of the record beside dbt's own keys
UNCOMMITTED = "uncommitted changes"
_TEST_KEYS = ("unique_id", "name", "resource_type", "attached_node", "column_name", "depends_on")


FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})   # dbt's statuses of a node that failed

@dataclass(frozen=True)
class BuiltFrom:
    """The git commit a build was made from, and whether what shapes it had uncommitted changes."""

    commit: str
    uncommitted: bool = False

    def text(self) -> str:
        """As kept beside a contract state (`NAME.commit`): the commit, then `uncommitted changes` when so."""
        return self.commit + (f"\n{UNCOMMITTED}" if self.uncommitted else "")

    @classmethod
    def parse(cls, text: str) -> BuiltFrom | None:
        lines = text.split()
        return cls(lines[0], UNCOMMITTED.split() == lines[1:]) if lines else None


def built_from(root: Path, shaping: Iterable[Path]) -> BuiltFrom | None:
    """The commit the working tree at `root` is at, and whether any of `shaping` (files or folders) differs from it
    or is not committed (git's ignored files apart); None outside git."""
    inside = [str(path.relative_to(root)) for path in shaping if path.is_relative_to(root)]
    try:
        done = subprocess.run(["git", "status", "--porcelain=v2", "--branch", "--", *inside], cwd=root,
                              capture_output=True, text=True, check=False)
    except OSError:   # no git on this machine
        return None
    if done.returncode != 0:
        return None
    lines = done.stdout.splitlines()
    commit = next((line.split()[2] for line in lines if line.startswith("# branch.oid ")), "(initial)")
    if commit == "(initial)":   # a repository without a commit yet
        return None
    return BuiltFrom(commit, any(not line.startswith("#") for line in lines))


def run_record(run_results: dict[str, Any] | None, manifest: dict[str, Any] | None, *, failed: bool,
               reason: str | None, origin: BuiltFrom | None) -> dict[str, Any]:
    """dbt's run results of one build (an empty run, dated now, when dbt's build did not run) with the build's
    record under `RECORD`."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    record = dict(run_results) if run_results else {"metadata": {"generated_at": stamp}, "results": []}
    tests = {uid: {key: node.get(key) for key in _TEST_KEYS}
             for uid, node in (manifest or {}).get("nodes", {}).items() if node.get("resource_type") == "test"}
    record[RECORD] = {"outcome": "failed" if failed else "success", "reason": reason,
                      "commit": origin.commit if origin else None,
                      "uncommitted": origin.uncommitted if origin else False, "tests": tests}
    return record
