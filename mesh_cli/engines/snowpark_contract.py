"""A Snowpark model's declared columns against its result, in Snowflake's terms.

dbt refuses `contract: {enforced: true}` on Python models (a parse error on every adapter), so the declared
columns are the contract of a Snowpark model: when any column of its YAML has a `data_type`, the result must
have exactly the declared columns, and each declared type must hold every value of the result's type (a
result of NUMBER(24,2) does not fit a declared NUMBER(14,2); cast it in the model, as Snowflake would need).
Types are compared canonically (`mesh_cli.core.types`): `integer` is NUMBER(38,0), `varchar` is
VARCHAR(16777216), https://docs.snowflake.com/en/sql-reference/intro-summary-data-types.
Names compare as Snowflake identifiers: an unquoted name is upper case,
https://docs.snowflake.com/en/sql-reference/identifiers-syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mesh_cli.core.types import SAME, WIDENED, DataType, compare_types, parse_type

_UNQUOTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class DeclaredColumn:
    """A column of the model's YAML: its name as written and its `data_type` (None when not declared)."""

    name: str
    data_type: str | None


@dataclass(frozen=True)
class LandedColumn:
    """A result column as it lands in DuckDB: the result's name, the relation's name, its canonical type."""

    source: str
    name: str
    data_type: DataType


def snowflake_name(name: str) -> str:
    """How Snowflake resolves a column name: unquoted names are upper case, quoted ones kept as written."""
    if len(name) > 1 and name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name.upper() if _UNQUOTED.match(name) else name


def local_name(result_name: str) -> str:
    """The DuckDB column name of an undeclared result column: unquoted Snowflake names in lower case."""
    name = snowflake_name(result_name)
    return name.lower() if _UNQUOTED.match(name) and name == name.upper() else name


def contract_columns(declared: list[DeclaredColumn], result: list[tuple[str, DataType]]) -> list[LandedColumn]:
    """The landed columns of a result with the given (name, canonical type) columns; raises ValueError naming
    every mismatch when the declared columns are a contract and the result breaks it."""
    if not any(column.data_type for column in declared):
        return [LandedColumn(name, local_name(name), data_type) for name, data_type in result]
    by_name = {snowflake_name(name): (name, data_type) for name, data_type in result}
    problems: list[str] = []
    landed: list[LandedColumn] = []
    for column in declared:
        found = by_name.pop(snowflake_name(column.name), None)
        if found is None:
            problems.append(f"column {column.name} is missing from the result")
            continue
        source, actual = found
        if column.data_type is None:
            landed.append(LandedColumn(source, column.name, actual))
            continue
        wanted = parse_type(column.data_type)
        if compare_types(actual, wanted) not in (SAME, WIDENED):
            problems.append(f"column {column.name} is {str(actual).upper()}, the contract says "
                            f"{column.data_type} ({str(wanted).upper()})")
        landed.append(LandedColumn(source, column.name, wanted))
    problems.extend(f"column {source} is not in the contract" for source, _ in by_name.values())
    if problems:
        raise ValueError("; ".join(problems))
    return landed
