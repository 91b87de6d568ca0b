"""A validator of Snowflake SQL that can fail: sqlfluff's Snowflake dialect, which marks what it cannot parse as
`unparsable` (sqlglot reads an unknown statement as a generic `Command`, which proves nothing).

`assert_snowflake_sql(statements)` parses each statement and fails listing every one with an unparsable section or
a lexing error. Statements sqlfluff has no grammar for are in `GAPS`: each names the Snowflake page that documents
the syntax, the reason, and checks what it can instead. Keep it small; never add a pattern that covers statements
sqlfluff does parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import yaml
from sqlfluff.core import FluffConfig, Linter

# The plans print a model's SELECT as `as (...)` (governance plan): the tool's display, not Snowflake SQL.
ELIDED_BODY = "as (...)"

_LINTER = Linter(config=FluffConfig(overrides={"dialect": "snowflake"}))


@dataclass(frozen=True)
class Gap:
    """Valid Snowflake SQL sqlfluff cannot parse: what it covers, why, and what is checked instead."""

    pattern: re.Pattern[str]           # matches the whole statement
    doc: str                           # the Snowflake page documenting the syntax
    reason: str
    check: Callable[[re.Match[str]], None]


def _listing_manifest(match: re.Match[str]) -> None:
    """The share named is the listing's own, and the manifest is YAML with the fields an organization listing
    requires (title, non-empty organization_targets, support and approver contacts)."""
    assert match.group(1) == match.group(2), match.group(0)[:120]
    manifest = yaml.safe_load(match.group(3))
    assert {"title", "organization_targets", "support_contact", "approver_contact"} <= set(manifest), manifest
    targets = manifest["organization_targets"]
    assert targets.get("access") and targets.get("discovery"), targets


def _qualified_role(match: re.Match[str]) -> None:
    """A database role is named in its database: `<database>.<role>`, two plain identifiers."""
    assert re.fullmatch(r"[A-Z_][A-Z0-9_$]*\.[A-Z_][A-Z0-9_$]*", match.group(1)), match.group(0)


GAPS = (
    Gap(re.compile(r"CREATE ORGANIZATION LISTING IF NOT EXISTS (\w+) SHARE (\w+) AS \$\$\n(.*)\$\$ PUBLISH = TRUE",
                   re.S),
        "https://docs.snowflake.com/en/sql-reference/sql/create-organization-listing",
        "sqlfluff 4.5's Snowflake dialect has no grammar for CREATE ORGANIZATION LISTING",
        _listing_manifest),
    Gap(re.compile(r"DROP DATABASE ROLE (\S+)"),
        "https://docs.snowflake.com/en/sql-reference/sql/drop-database-role",
        "sqlfluff 4.5's Snowflake dialect has no grammar for DROP DATABASE ROLE (DROP ROLE takes one identifier)",
        _qualified_role),
)


def unparsable(sql: str) -> list[str]:
    """What sqlfluff cannot parse in one statement (its unparsable sections and lexing errors); empty when none."""
    parsed = _LINTER.parse_string(sql.replace(ELIDED_BODY, "as (select 1)").rstrip().rstrip(";") + ";\n")
    problems = [segment.raw for segment in parsed.tree.recursive_crawl("unparsable")] if parsed.tree else []
    return problems + [violation.desc() for violation in parsed.violations]


def gap_of(sql: str) -> Gap | None:
    return next((gap for gap in GAPS if gap.pattern.fullmatch(sql.strip())), None)


def assert_snowflake_sql(statements: Iterable[str]) -> int:
    """Every statement parses as Snowflake SQL (or is a listed gap and passes its check); returns how many
    statements sqlfluff parsed."""
    failures, parsed = [], 0
    for sql in statements:
        gap = gap_of(sql)
        if gap is not None:
            match = gap.pattern.fullmatch(sql.strip())
            assert match is not None
            gap.check(match)
            continue
        problems = unparsable(sql)
        if problems:
            failures.append(f"{sql[:200]}\n    -> {problems[0][:200]}")
        parsed += 1
    assert not failures, "not valid Snowflake SQL (sqlfluff):\n" + "\n".join(failures)
    return parsed
