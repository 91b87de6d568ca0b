"""The type families that columns and policy arguments are matched by, read from the dbt package's own macro
(macros/governance/library/type_family.sql) so that `mesh check` and the package's build-time validation share one
rule source."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
import jinja2.nodes

from mesh_cli.core.package_path import dbt_package_path

MACRO_FILE = "macros/governance/library/type_family.sql"


@cache
def type_families() -> dict[str, tuple[str, ...]]:
    """Each family with the type names it holds, as the macro `type_families()` returns them.

    >>> type_families()["varchar"][:3]
    ('varchar', 'text', 'string')
    """
    path = dbt_package_path() / MACRO_FILE
    literal = _returned_literal(path.read_text(encoding="utf-8"), "type_families")
    return {str(family): tuple(str(name) for name in names) for family, names in literal.items()}


def type_family(data_type: Any) -> str:
    """The kind of a type as the macro `type_family` compares them (`varchar(20)` and `text` are both varchar).

    >>> type_family("VARCHAR(20)"), type_family("text"), type_family("NUMBER(38, 0)"), type_family("boolean")
    ('varchar', 'varchar', 'number', 'boolean')
    """
    base = str(data_type or "").lower().strip().split("(")[0].strip()
    return next((family for family, names in type_families().items() if base in names), base)


def _returned_literal(source: str, macro_name: str) -> dict[str, Any]:
    """The constant a macro hands to dbt's `return(...)`, read with Jinja's parser (nothing is rendered).

    >>> _returned_literal("{% macro m() %}{{ return({'a': ['x']}) }}{% endmacro %}", "m")
    {'a': ['x']}
    """
    tree = jinja2.Environment().parse(source)
    for macro in tree.find_all(jinja2.nodes.Macro):
        if macro.name != macro_name:
            continue
        for call in macro.find_all(jinja2.nodes.Call):
            if isinstance(call.node, jinja2.nodes.Name) and call.node.name == "return" and call.args:
                try:
                    value = call.args[0].as_const()
                except jinja2.nodes.Impossible:
                    break
                if isinstance(value, dict):
                    return value
    raise ValueError(f"macro {macro_name} returns no literal mapping")
