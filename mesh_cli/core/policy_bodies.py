"""What the build would refuse in the governance library, found before it runs: a policy body that does not parse
or names an unknown function, and an entitlement naming a role no library declares. `mesh check` and `mesh build`
both read it (once per command, not per domain), so a governance.yml edit that breaks every build fails the check
in one line naming the file, the policy and the fix (exit 2), and the build says the same instead of a raw
parser error.

Bodies are Snowflake SQL (`CREATE MASKING POLICY ... -> <body>`,
https://docs.snowflake.com/en/sql-reference/sql/create-masking-policy): each is parsed here with sqlglot's Snowflake
dialect as one expression; an engine that runs them otherwise checks them its own way too (DuckDB creates each
policy macro in an in-memory database, engines/duckdb.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesh_cli.core.domains import Domain
from mesh_cli.core.governance_library import GOVERNANCE_FILE, read_library
from mesh_cli.core.yamlfile import read_mapping

POLICY_KINDS = {"masking_policies": "masking policy", "row_access_policies": "row access policy"}
ENTITLEMENTS_TABLE = "governance.mesh_entitlements"    # what `@entitlements` stands for (macros/governance/policies)
_RESULT = "mesh_policy_result"


@dataclass(frozen=True)
class LibraryPolicy:
    """A masking or row access policy as one library file declares it."""

    path: Path              # governance.yml, or the domain's dbt_project.yml (`vars.data_mesh`)
    kind: str               # masking_policies, row_access_policies
    name: str
    entry: dict[str, Any]

    @property
    def arguments(self) -> list[str]:
        return [str(arg.get("name")) for arg in self.entry.get("args") or [] if isinstance(arg, dict)]

    def refusal(self, field: str, problem: str) -> str:
        """One line naming the file, the policy and the fix."""
        return (f"{self.path}: {POLICY_KINDS[self.kind]} {self.name}: its `{field}` {problem}; fix the body in "
                f"{self.path.name} (an expression over {', '.join(self.arguments) or 'its arguments'}), as every "
                "build that creates the policy would fail")


def _libraries(root: Path, domains: Iterable[Domain]) -> list[tuple[Path, dict[str, Any]]]:
    """The central library and each domain's extension (`vars.data_mesh`), with the file each lives in."""
    central = root / GOVERNANCE_FILE
    found = [(central, read_library(central if central.is_file() else None))]
    for domain in sorted(domains, key=lambda d: d.name):
        project = domain.path / "dbt_project.yml"
        extension = (read_mapping(project, default={}).get("vars") or {}).get("data_mesh") or {}
        found.append((project, extension if isinstance(extension, dict) else {}))
    return found


def library_policies(libraries: list[tuple[Path, dict[str, Any]]]) -> list[LibraryPolicy]:
    """Every masking and row access policy of the mesh's libraries (`_libraries`), in file order."""
    return [LibraryPolicy(path, kind, str(name), entry)
            for path, library in libraries for kind in POLICY_KINDS
            for name, entry in (library.get(kind) or {}).items() if isinstance(entry, dict)]


def snowflake_body_problem(body: Any) -> str | None:
    """Why a body is not one Snowflake SQL expression (sqlglot's Snowflake dialect), or None when it is."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    text = str(body or "").strip()
    if not text:
        return "is empty"
    try:   # the body as the one projection of a SELECT: anything left over (a stray `end`, a `;`) fails to parse
        parsed = sqlglot.parse(f"select {text.replace('@entitlements', ENTITLEMENTS_TABLE)}\nas {_RESULT}",
                               read="snowflake")
    except ParseError as exc:
        return f"does not parse as Snowflake SQL ({str(exc).splitlines()[0]})"
    select = parsed[0] if len(parsed) == 1 else None
    if not isinstance(select, exp.Select) or select.args.get("from") or len(select.expressions) != 1 \
            or select.expressions[0].alias != _RESULT:
        return "is not one SQL expression"
    return None


def parse_problems(policies: Iterable[LibraryPolicy]) -> list[str]:
    """The bodies (`body`, the Snowflake SQL) that are not one Snowflake SQL expression, one line each."""
    return [policy.refusal("body", problem) for policy in policies
            if (problem := snowflake_body_problem(policy.entry.get("body"))) is not None]


def undeclared_entitlement_roles(libraries: list[tuple[Path, dict[str, Any]]]) -> list[str]:
    """Entitlements naming a role no library (`_libraries`) declares under `roles:` (a typo such as NA_ANALYSTT
    entitles a role nobody holds, silently), one line each naming the file, the role and the fix."""
    declared = {str(name).upper() for _, library in libraries for name in library.get("roles") or {}}
    problems = []
    for path, library in libraries:
        for entry in library.get("entitlements") or []:
            role = str(entry.get("role")) if isinstance(entry, dict) else ""
            if role and role.upper() not in declared:
                problems.append(f"{path}: entitlement of role {role} ({entry.get('dimension')}: "
                                f"{entry.get('values')}) names a role no library declares; declare {role} under "
                                f"`roles:` of {GOVERNANCE_FILE}, or correct the role's name")
    return problems


def library_problems(root: Path, domains: Iterable[Domain],
                     check_bodies: Callable[[Sequence[LibraryPolicy]], list[str]] = parse_problems) -> list[str]:
    """Everything the build would refuse in the mesh's libraries, one line each: the policy bodies as the engine's
    `check_bodies` finds them (`Engine.policy_problems`), and entitlements of undeclared roles."""
    libraries = _libraries(root, domains)   # each file read once
    return check_bodies(library_policies(libraries)) + undeclared_entitlement_roles(libraries)
