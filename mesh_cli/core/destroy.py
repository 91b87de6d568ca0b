"""Destruction is never implicit: a plan that drops or revokes what exists is shown and refused unless the user
allows it (`--allow-destroy`), the way Terraform's `prevent_destroy` guards a resource.

A declaration that disappears (a renamed `domain.yml`, a product or consumer deleted by mistake) must never turn
silently into `DROP SHARE` or `REVOKE` in production: the plan says what it would destroy and stops.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mesh_cli.core.errors import MeshError
from mesh_cli.core.plan import Plan, Statement

ALLOW_FLAG = "--allow-destroy"
# Statements that remove what exists, whatever the feature that planned them flagged: a safety net.
_DESTRUCTIVE_SQL = re.compile(r"^\s*(DROP\b|REVOKE\b|DELETE\b|TRUNCATE\b|ALTER\s+SHARE\s+\S+\s+REMOVE\b)",
                              re.IGNORECASE)


class DestructionRefused(MeshError):
    """A plan would destroy something and the user did not allow it."""


def is_destructive(statement: Statement) -> bool:
    """Whether the statement drops, revokes, removes or replaces something that exists. A role giving up what the
    plan handed it (`relinquishes`, explicitly marked by the feature) is not destruction, whatever its SQL says."""
    if statement.destructive:
        return True
    return not statement.relinquishes and bool(_DESTRUCTIVE_SQL.match(statement.sql))


def destructive_statements(plans: Iterable[Plan]) -> list[Statement]:
    """Every destructive statement of the plans, in plan order."""
    return [statement for plan in plans for statement in plan.statements if is_destructive(statement)]


def describe(statement: Statement, *, in_words: bool = False) -> str:
    """`DROP SHARE CUSTOMERS_CUSTOMER_MASTER`: what a destructive statement does (its first line); `in_words`: the
    same said in words (`drop role EMEA_ANALYST`), for an engine's internal statements."""
    if in_words:
        return f"{statement.action} {statement.object_kind} {statement.object_name}"
    return statement.sql.strip().splitlines()[0]


def refuse_destruction(plans: Iterable[Plan], *, allow: bool, what: str, in_words: bool = False) -> None:
    """Raise one line listing what the plans would destroy, unless `allow` (the user said `--allow-destroy`);
    `in_words`: the statements are an engine's internal ones, said in words."""
    if allow:
        return
    found = destructive_statements(plans)
    if not found:
        return
    listed = "; ".join(dict.fromkeys(describe(s, in_words=in_words) + (f" ({s.reason})" if s.reason else "")
                                     for s in found))
    raise DestructionRefused(f"{what} would destroy {len(found)} object(s) or grant(s): {listed}; nothing was "
                             f"applied: restore the declaration, or re-run with {ALLOW_FLAG} if this is intended")
