"""String constants in SQL, per engine: the one place the tool writes a quoted literal.

Snowflake reads a backslash in a single-quoted string constant as the start of an escape sequence
(https://docs.snowflake.com/en/sql-reference/data-types-text#escape-sequences-in-single-quoted-string-constants):
the CSV null marker backslash-N must be written with two backslashes (one reads as a plain N), and so must a
regular expression's escaped dot. DuckDB reads standard SQL strings, where a backslash is an ordinary character;
only the quote is doubled there.
"""

from __future__ import annotations

import re

_SNOWFLAKE_ESCAPE = re.compile(r"\\(.)|''", re.S)


def snowflake_string(value: object) -> str:
    r"""A Snowflake single-quoted string constant holding exactly `value`: backslashes and quotes escaped.

    >>> print(snowflake_string(r"it's \N"))
    'it''s \\N'
    """
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def snowflake_unquote(body: str) -> str:
    r"""The value of a Snowflake string constant's body (what is between its quotes): `snowflake_string`'s inverse.

    >>> print(snowflake_unquote(r"it''s \\N"))
    it's \N
    """
    return _SNOWFLAKE_ESCAPE.sub(lambda m: "'" if m.group(0) == "''" else m.group(1), body)


def duckdb_string(value: object) -> str:
    r"""A DuckDB (standard SQL) single-quoted string: quotes doubled, backslashes kept as they are.

    >>> print(duckdb_string(r"it's \N"))
    'it''s \N'
    """
    return "'" + str(value).replace("'", "''") + "'"
