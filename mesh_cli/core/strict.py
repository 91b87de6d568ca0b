"""Strict settings: an unknown key is an error naming the file, the key and the closest valid key.

A misspelt section (`provison:`, `snowflak:`) silently ignored plans defaults the user did not declare; refusing
it, with the key meant, is cheaper than finding out in production. Snowflake's identifier limit is checked here
too, so a long domain name is refused before it becomes a 400-character share name.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mesh_cli.core.errors import MeshError

# https://docs.snowflake.com/en/sql-reference/identifiers-syntax: identifiers are at most 255 characters.
SNOWFLAKE_IDENTIFIER_LIMIT = 255


def closest(key: str, known: Iterable[str]) -> str | None:
    """The known key nearest to a misspelt one (difflib), if any is close."""
    found = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


def check_keys(mapping: Mapping[str, Any], known: Iterable[str], *, path: Path, where: str) -> None:
    """Refuse a key of `mapping` outside `known`; `where` names the section (`mesh`, `products[0]`, or "" for the
    top level)."""
    allowed = set(known)
    unknown = sorted(str(key) for key in mapping if key not in allowed)
    if not unknown:
        return
    key = unknown[0]
    suggestion = closest(key, allowed)
    hint = f"did you mean `{suggestion}`?" if suggestion else f"known: {', '.join(sorted(allowed))}"
    section = f"under `{where}:`" if where else "at the top level"
    raise MeshError(f"unknown setting(s) {section}: {', '.join(unknown)} ({hint}); fix or remove the key", path=path)


def check_identifier_length(name: str, *, what: str, path: Path | None = None) -> str:
    """Refuse an identifier longer than Snowflake accepts (255 characters)."""
    if len(name) > SNOWFLAKE_IDENTIFIER_LIMIT:
        raise MeshError(f"{what} {name[:40]}… is {len(name)} characters; Snowflake identifiers are at most "
                        f"{SNOWFLAKE_IDENTIFIER_LIMIT} (https://docs.snowflake.com/en/sql-reference/identifiers-syntax):"
                        " use a shorter name", path=path)
    return name
