"""The one plan/apply engine for every object the mesh owns in a warehouse (shares, provisioning, ingestion).

A feature reads the current state through a `StateReader`: one `SHOW` per object kind over the smallest scope
holding what it manages, per object only where Snowflake has no bulk form (grants, shown per grantee). It diffs
that with what it declares and returns a `Plan`: the smallest ordered list of statements that makes the warehouse
equal to the declaration, touching nothing the feature does not manage. The plan prints for humans (`to_sql`),
serialises for machines (`to_dict`), and `apply` runs it statement by statement, recording each result. The
plan of a converged system is empty.

Provisioning, ingestion and publishing all plan and apply through these types: a `Backend` gives the
`StateReader` to plan against and the `execute` to apply with (`apply_to`). They fail in one way, the
convention of `core.errors` (the exception carries the exit code, the result is derived from it):

- bad input (a declaration, a selection, missing credentials) raises `MeshError` while planning, before
  anything is applied (exit code 2);
- a statement the warehouse fails while applying (an `EngineError`, which an engine's `execute` raises for its
  driver's errors) is recorded in the `ApplyResult` (`ok` is false, `failed` says which, `exit_code` is 1), never
  raised; the feature's result carries it (an `Outcome`);
- anything else raised while applying propagates: a `MeshError` with its own code, any other exception as the
  bug it is (the CLI reports an internal error, exit 3), never as a failed statement.

`exit_code` turns the outcomes of a command into its exit code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from mesh_cli.core.errors import EXIT_FAILED, EXIT_OK, EngineError, MeshError, worst
from mesh_cli.core.sql_literals import snowflake_string


@dataclass(frozen=True)
class Statement:
    """One statement of a plan, and why it is there."""

    sql: str
    action: str            # create, alter, grant, revoke, drop, ...
    object_kind: str       # share, database, schema, role, warehouse, stage, pipe, ...
    object_name: str
    reason: str = ""
    role: str | None = None        # the role it needs, when higher than the deploying role
    destructive: bool = False      # drops or revokes something that exists
    relinquishes: bool = False     # a role giving up what the plan's own statement handed it (the mounting
                                   # role's database roles of a share it mounts): never destruction


@dataclass
class Plan:
    """An ordered list of statements, with what was noticed and left alone."""

    title: str
    statements: list[Statement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    offline: bool = False          # planned against an assumed empty state (no credentials)

    @property
    def empty(self) -> bool:
        return not self.statements

    def extend(self, statements: Iterable[Statement]) -> None:
        self.statements.extend(statements)

    def to_sql(self) -> str:
        """The plan as a SQL script: a comment line per statement with its reason and role."""
        lines = [f"-- {self.title}" + (" (offline: planned against an empty current state)" if self.offline else "")]
        lines.extend(f"-- note: {note}" for note in self.notes)
        for statement in self.statements:
            remarks = [r for r in (statement.reason, f"needs role {statement.role}" if statement.role else "",
                                   "destructive" if statement.destructive else "") if r]
            if remarks:
                lines.append(f"-- {'; '.join(remarks)}")
            lines.append(f"{statement.sql};")
        if self.empty:
            lines.append("-- nothing to change")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "offline": self.offline, "notes": list(self.notes),
                "statements": [asdict(statement) for statement in self.statements]}


@dataclass(frozen=True)
class Applied:
    """The result of one statement."""

    statement: Statement
    ok: bool
    error: str | None
    seconds: float


@dataclass
class ApplyResult:
    """What `apply` ran, in order; it stops at the first failure."""

    plan: Plan
    applied: list[Applied] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.applied) and len(self.applied) == len(self.plan.statements)

    @property
    def failed(self) -> Applied | None:
        return next((item for item in self.applied if not item.ok), None)

    @property
    def exit_code(self) -> int:
        """0 when every statement ran, 1 when the warehouse failed one (bad input never gets this far)."""
        return EXIT_OK if self.ok else EXIT_FAILED


def apply(plan: Plan, execute: Callable[[str], object]) -> ApplyResult:
    """Run the plan's statements in order with `execute`, stopping at the first the warehouse fails (an
    `EngineError`, recorded with its statement). Any other exception propagates: bad input with its own exit
    code, anything else as a bug, never as a failed statement."""
    result = ApplyResult(plan)
    for statement in plan.statements:
        started = time.perf_counter()
        try:
            execute(statement.sql)
        except EngineError as exc:
            result.applied.append(Applied(statement, False, str(exc).splitlines()[0] if str(exc) else
                                          type(exc).__name__, time.perf_counter() - started))
            break
        result.applied.append(Applied(statement, True, None, time.perf_counter() - started))
    return result


def apply_to(plan: Plan, backend: Backend) -> ApplyResult:
    """Apply the plan through the backend, then keep what ran (`commit`), whether or not every statement did."""
    result = apply(plan, backend.execute)
    backend.commit()
    return result


class Outcome(Protocol):
    """How one unit of a command ended (a domain's publish, ingestion or build, a provisioning run)."""

    @property
    def ok(self) -> bool: ...

    @property
    def exit_code(self) -> int:
        """0 when ok; else derived from what ended it: `ApplyResult.exit_code` for a failed apply,
        `core.errors.exit_code_of(exc)` for an exception (2 for the mesh's own input, 1 for a failed run)."""
        ...


def exit_code(outcomes: Iterable[Outcome]) -> int:
    """0 when every outcome is ok; else the worst of the failures' codes (bad input, 2, over a failed run, 1)."""
    return worst(outcome.exit_code for outcome in outcomes)


class StateReader(Protocol):
    """Reads current state: `show("SHARES")`, `show("GRANTS TO SHARE", scope="s")` → rows as dicts with
    lower-case keys. `queries` counts the SHOW statements issued (benchmarks check one per kind)."""

    queries: int

    def show(self, kind: str, scope: str | None = None, like: str | None = None) -> list[dict[str, Any]]: ...


class Backend(Protocol):
    """Where a plan is read and applied: the current state to plan against, and how statements run there."""

    offline: bool                  # no account to read: plans start from an empty state, applying is refused

    @property
    def reader(self) -> StateReader: ...

    def execute(self, sql: str) -> Any: ...

    def commit(self) -> None:
        """Keep what the applied statements changed (nothing to do where each statement commits itself)."""
        ...


class OfflineBackend:
    """No credentials: plan against an empty account. Executing raises `reason` as bad input (callers refuse an
    apply without credentials before planning; this is the backstop)."""

    offline = True

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.reader = RecordedState()

    def execute(self, sql: str) -> Any:
        raise MeshError(self.reason)

    def commit(self) -> None:
        """Nothing to keep."""


class ShowTooLarge(EngineError):
    """Snowflake refused a SHOW whose result exceeds its 10,000 rows (error 090153): read narrower scopes (a
    warehouse's refusal: exit 1 when no narrower scope helps)."""


def show_within(reader: StateReader, kind: str, scope: str, narrower: Iterable[str]) -> list[dict[str, Any]]:
    """`SHOW <kind> <scope>`: one query for every object of the kind in the scope, filtered by the caller. When
    Snowflake refuses it for its size, one query per narrower scope instead (none: the refusal stands)."""
    try:
        return reader.show(kind, scope=scope)
    except ShowTooLarge:
        parts = list(narrower)
        if not parts:
            raise
        return [row for part in parts for row in reader.show(kind, scope=part)]


class RecordedState:
    """A StateReader over recorded SHOW output, keyed by the statement: for tests and offline plans."""

    def __init__(self, recorded: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.recorded = {key.upper(): rows for key, rows in (recorded or {}).items()}
        self.queries = 0

    def show(self, kind: str, scope: str | None = None, like: str | None = None) -> list[dict[str, Any]]:
        self.queries += 1
        statement = show_statement(kind, scope, like).upper()
        return [{key.lower(): value for key, value in row.items()} for row in self.recorded.get(statement, [])]


def show_statement(kind: str, scope: str | None = None, like: str | None = None) -> str:
    """`SHOW <kind> [LIKE '<like>'] [<scope>]`; `scope` is the rest, e.g. `IN ACCOUNT` or a share name."""
    sql = f"SHOW {kind}"
    if like is not None:
        sql += f" LIKE {snowflake_string(like)}"
    if scope:
        sql += f" {scope}"
    return sql
