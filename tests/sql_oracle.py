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
from sqlfluff.core.parser import BaseSegment

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


def _manifest_fields(text: str) -> None:
    """The manifest is YAML with the fields an organization listing requires (title, non-empty
    organization_targets, support and approver contacts)."""
    manifest = yaml.safe_load(text)
    assert {"title", "organization_targets", "support_contact", "approver_contact"} <= set(manifest), manifest
    targets = manifest["organization_targets"]
    assert targets.get("access") and targets.get("discovery"), targets


def _listing_manifest(match: re.Match[str]) -> None:
    """The share named is the listing's own, and the manifest has the fields an organization listing requires."""
    assert match.group(1) == match.group(2), match.group(0)[:120]
    _manifest_fields(match.group(3))


def _altered_manifest(match: re.Match[str]) -> None:
    """A listing's new manifest has the fields an organization listing requires."""
    _manifest_fields(match.group(2))


def _listing_name(match: re.Match[str]) -> None:
    """A listing is named by one plain identifier."""
    assert re.fullmatch(r"[A-Z_][A-Z0-9_$]*", match.group(1) or match.group(2)), match.group(0)


def _qualified_role(match: re.Match[str]) -> None:
    """A database role is named in its database: `<database>.<role>`, two plain identifiers."""
    assert re.fullmatch(r"[A-Z_][A-Z0-9_$]*\.[A-Z_][A-Z0-9_$]*", match.group(1)), match.group(0)


GAPS = (
    Gap(re.compile(r"CREATE ORGANIZATION LISTING IF NOT EXISTS (\w+) SHARE (\w+) AS \$\$\n(.*)\$\$ PUBLISH = TRUE",
                   re.S),
        "https://docs.snowflake.com/en/sql-reference/sql/create-organization-listing",
        "sqlfluff 4.5's Snowflake dialect has no grammar for CREATE ORGANIZATION LISTING",
        _listing_manifest),
    Gap(re.compile(r"ALTER LISTING (\w+) AS \$\$\n(.*)\$\$", re.S),
        "https://docs.snowflake.com/en/sql-reference/sql/alter-listing",
        "sqlfluff 4.5's Snowflake dialect has no grammar for ALTER LISTING",
        _altered_manifest),
    Gap(re.compile(r"(?:ALTER LISTING (\S+) UNPUBLISH|DROP LISTING (\S+))"),
        "https://docs.snowflake.com/en/sql-reference/sql/alter-listing, "
        "https://docs.snowflake.com/en/sql-reference/sql/drop-listing",
        "sqlfluff 4.5's Snowflake dialect has no grammar for ALTER LISTING ... UNPUBLISH nor DROP LISTING",
        _listing_name),
    Gap(re.compile(r"DROP DATABASE ROLE (\S+)"),
        "https://docs.snowflake.com/en/sql-reference/sql/drop-database-role",
        "sqlfluff 4.5's Snowflake dialect has no grammar for DROP DATABASE ROLE (DROP ROLE takes one identifier)",
        _qualified_role),
)


# The object clauses of CREATE TABLE and CREATE VIEW in the order Snowflake's grammar takes them (each optional,
# at most once per position). sqlfluff 4.5 parses them in any order, so their order is checked on its parse tree.
# CREATE TABLE: ... COPY GRANTS, COMMENT, ROW ACCESS POLICY, TAG (https://docs.snowflake.com/en/sql-reference/sql/
# create-table; WITH TAG before COPY GRANTS is a syntax error, dbt-labs/dbt-adapters#1960). CREATE VIEW takes the
# row access policy and tags either before COPY GRANTS or after COMMENT
# (https://docs.snowflake.com/en/sql-reference/sql/create-view).
CLAUSE_ORDER = {
    "create_table_statement": ("COPY GRANTS", "COMMENT", "ROW ACCESS POLICY", "TAG"),
    "create_view_statement": ("ROW ACCESS POLICY", "TAG", "COPY GRANTS", "COMMENT", "ROW ACCESS POLICY", "TAG"),
}
_CLAUSE_START = {("COPY", "GRANTS"): "COPY GRANTS", ("ROW", "ACCESS"): "ROW ACCESS POLICY"}


def _object_clauses(statement: BaseSegment) -> list[str]:
    """The object clauses of a CREATE statement before its `AS <query>`, in the order written: keywords outside
    brackets (a column list's per-column policies and tags are inside one)."""
    words: list[str] = []
    pending = list(statement.segments)
    while pending:
        segment = pending.pop(0)
        if segment.is_type("bracketed"):
            continue
        if segment.is_type("keyword"):
            if segment.raw.upper() == "AS":
                break
            words.append(segment.raw.upper())
        elif segment.segments:
            pending[:0] = list(segment.segments)
    clauses = []
    for i, word in enumerate(words):
        pair = (word, words[i + 1] if i + 1 < len(words) else "")
        if pair in _CLAUSE_START:
            clauses.append(_CLAUSE_START[pair])
        elif word in ("TAG", "COMMENT"):
            clauses.append(word)
    return clauses


def _in_order(clauses: list[str], grammar: tuple[str, ...]) -> bool:
    """Whether `clauses` is a subsequence of the grammar's positions."""
    remaining = iter(grammar)
    return all(clause in remaining for clause in clauses)


def misordered(tree: BaseSegment) -> list[str]:
    """CREATE TABLE / VIEW statements of a parse tree whose object clauses are out of Snowflake's order."""
    found = []
    for kind, grammar in CLAUSE_ORDER.items():
        for statement in tree.recursive_crawl(kind):
            clauses = _object_clauses(statement)
            if not _in_order(clauses, grammar):
                found.append(f"clauses out of Snowflake's order: {', '.join(clauses)} (the grammar takes "
                             f"{', '.join(dict.fromkeys(grammar))})")
    return found


def unparsable(sql: str) -> list[str]:
    """What sqlfluff cannot parse in one statement (its unparsable sections and lexing errors), and object clauses
    out of Snowflake's order; empty when none."""
    parsed = _LINTER.parse_string(sql.replace(ELIDED_BODY, "as (select 1)").rstrip().rstrip(";") + ";\n")
    problems = [segment.raw for segment in parsed.tree.recursive_crawl("unparsable")] if parsed.tree else []
    problems += misordered(parsed.tree) if parsed.tree else []
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
