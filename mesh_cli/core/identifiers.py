"""Snowflake identifiers: validated or quoted before they reach SQL."""

from __future__ import annotations

import re

from mesh_cli.core.errors import MeshError
from mesh_cli.core.strict import check_identifier_length

_UNQUOTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def identifier(name: str, *, what: str = "identifier") -> str:
    """A name that may stand unquoted in SQL (letters, digits, `_`, `$`; not starting with a digit).

    >>> identifier("ORDERS_WH"), identifier("_tmp$1")
    ('ORDERS_WH', '_tmp$1')
    >>> identifier("1st", what="warehouse")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    mesh_cli.core.errors.MeshError: warehouse '1st' is not a valid Snowflake identifier (letters, digits, ...)
    """
    if not isinstance(name, str) or not _UNQUOTED.match(name):
        raise MeshError(f"{what} {name!r} is not a valid Snowflake identifier "
                        "(letters, digits, _ and $, not starting with a digit)")
    return check_identifier_length(name, what=what)


def qualified(*parts: str, what: str = "object name") -> str:
    """`db.schema.name` from validated parts.

    >>> qualified("ORDERS", "MARTS", "ORDER_FACTS")
    'ORDERS.MARTS.ORDER_FACTS'
    """
    return ".".join(identifier(part, what=what) for part in parts)


def quote(name: str) -> str:
    """A double-quoted identifier, for names that must keep their case or characters.

    >>> print(quote('Order "Lines" v2'))
    "Order ""Lines"" v2"
    """
    return '"' + name.replace('"', '""') + '"'

