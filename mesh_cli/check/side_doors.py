"""No side doors: a domain reads another domain only through `ref()` to a public model it may read.

Every SQL file of a domain (models, snapshots, analyses, tests) is read with its Jinja blocks blanked out,
so what remains names only relations written by hand; sqlglot finds every table reference in it (quoted or not,
two- or three-part, any case). A reference whose database part is another domain's database (its DuckDB catalog,
its Snowflake database, or a database mounted from one of its shares) is a side door: it reaches protected storage,
staging, landing or governance objects the resolver never injects, and reads them without the share's secure views
and policies. So is a dbt source declared on another domain's database, and a relation built in Jinja
(`api.Relation.create(database='customers', ...)`). `mesh build` refuses such a domain before building it and
`mesh check` reports it, in one line naming the file and the ref to use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.profiles import target_database
from mesh_cli.core.yamlfile import read_yaml

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_JINJA_DATABASE = re.compile(r"database\s*=\s*['\"](\w+)['\"]", re.I)
_PLACEHOLDER = "__mesh_jinja__"
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_THREE_PART = re.compile(rf"({_IDENT})\s*\.\s*({_IDENT})\s*\.\s*({_IDENT})")
_STRINGS_AND_COMMENTS = re.compile(r"'(?:[^'\\]|\\.|'')*'|--[^\n]*|/\*.*?\*/", re.S)


@dataclass(frozen=True)
class SideDoor:
    """One hand-written relation into another domain's database."""

    path: Path
    relation: str
    owner: str                 # the domain whose database it reads
    suggestion: str            # the ref to use instead

    def message(self, domain: str) -> str:
        return (f"{domain} reads {self.relation} of domain {self.owner} directly, a side door around its shares and "
                f"policies: read it with {self.suggestion}")


def foreign_databases(domain: Domain, domains: dict[str, Domain],
                      databases: dict[str, set[str]] | None = None) -> dict[str, str]:
    """Upper-cased database names of every other domain (its name: the DuckDB catalog; the databases of its
    Snowflake targets, given in `databases`; the databases mounted from its shares) -> that domain."""
    owners: dict[str, str] = {}
    for name, other in domains.items():
        if name == domain.name:
            continue
        names = {name, *(databases or {}).get(name, set())}
        names |= {f"{name}_{entry['name']}" for entry in other.products
                  if isinstance(entry, dict) and isinstance(entry.get("name"), str)}
        owners.update((candidate.upper(), name) for candidate in names)
    return owners


def _suggestion(owner: Domain, relation: str) -> str:
    """The ref of the owner's public product model the relation looks like, else the list to choose from."""
    models = sorted({str(m) for entry in owner.products if isinstance(entry, dict) for m in entry.get("models") or []})
    table = relation.replace('"', "").split(".")[-1].lower()
    match = max((m for m in models if m.lower() in table), key=len, default=None)
    if match is None:
        listed = ", ".join(models) or "none shared yet"
        return f"{{{{ ref('{owner.name}', '<public model>') }}}} (its products' models: {listed})"
    version = re.search(rf"{re.escape(match.lower())}_v(\d+)$", table)
    return f"{{{{ ref('{owner.name}', '{match}'" + (f", v={version.group(1)}" if version else "") + ") }}"


def _parts(table: exp.Table) -> list[str]:
    return [part for part in (table.catalog, table.db, table.name) if part]


def _relations(sql: str) -> list[list[str]]:
    """The table references written in SQL whose Jinja is blanked out, as their name parts."""
    text = _JINJA.sub(lambda m: _PLACEHOLDER if m.group(0).startswith("{{") else " ", sql)
    try:
        return [_parts(table) for statement in sqlglot.parse(text, read="snowflake") if statement is not None
                for table in statement.find_all(exp.Table)]
    except SqlglotError:   # Jinja control flow can leave text no dialect parses: fall back to three-part names
        bare = _STRINGS_AND_COMMENTS.sub(" ", text)
        return [[part.strip('"') for part in match.groups()] for match in _THREE_PART.finditer(bare)]


def _naming(databases: Iterable[str]) -> re.Pattern[str]:
    """What a relation in one of these databases must contain: the name, quoted or not, then (across spaces) a dot.
    A file without it is not parsed: sqlglot takes about 1 ms a model (8 s for 10,000 models)."""
    names = "|".join(sorted((re.escape(name) for name in databases), key=len, reverse=True))
    return re.compile(rf'(?<![\w$"])"?(?:{names})"?\s*\.', re.I)


def _may_name(sql: str, naming: re.Pattern[str]) -> bool:
    """Whether SQL, without its Jinja, strings and comments, contains text `naming` matches."""
    return naming.search(_STRINGS_AND_COMMENTS.sub(" ", _JINJA.sub(" ", sql))) is not None


def _sql_files(domain: Domain) -> list[Path]:
    return sorted({f for folder in domain.source_paths if folder.is_dir() for f in folder.rglob("*.sql")
                   if "dbt_packages" not in f.parts})


def _yaml_files(domain: Domain) -> list[Path]:
    return sorted({f for folder in domain.source_paths if folder.is_dir() for pattern in ("*.yml", "*.yaml")
                   for f in folder.rglob(pattern) if "dbt_packages" not in f.parts})


def find_side_doors(domain: Domain, domains: dict[str, Domain],
                    databases: dict[str, set[str]] | None = None) -> list[SideDoor]:
    """Every relation a domain's files write by hand into another domain's database, and every source declared
    on one; `databases` adds each domain's Snowflake database names (its targets' `database`)."""
    owners = foreign_databases(domain, domains, databases)
    found: list[SideDoor] = []

    def add(path: Path, relation: str, database: str) -> None:
        owner = domains[owners[database.upper()]]
        found.append(SideDoor(path, relation, owner.name, _suggestion(owner, relation)))

    naming = _naming(owners)
    for path in _sql_files(domain):
        sql = path.read_text(encoding="utf-8", errors="replace")
        for parts in _relations(sql) if owners and _may_name(sql, naming) else []:
            if len(parts) >= 2 and parts[0].upper() in owners:
                add(path, ".".join(parts), parts[0])
        for block in _JINJA.findall(sql):
            for database in _JINJA_DATABASE.findall(block):
                if database.upper() in owners:
                    add(path, f"a relation in database {database} built in Jinja", database)
    for path in _yaml_files(domain):
        if not owners or "database" not in path.read_text(encoding="utf-8", errors="replace").lower():
            continue   # no source can name a database: not parsed (a 200-model properties file takes 0.2 s)
        data = read_yaml(path, default={})
        for source in (data.get("sources") or []) if isinstance(data, dict) else []:
            database = source.get("database") if isinstance(source, dict) else None
            if isinstance(database, str) and database.upper() in owners:
                add(path, f"source {source.get('name')} (database: {database})", database)
    return found


def target_databases(domains: dict[str, Domain], target: str) -> dict[str, set[str]]:
    """The database each domain's profile names for `target` (Snowflake targets; none on DuckDB, where a domain's
    database is the catalog named after it)."""
    databases: dict[str, set[str]] = {}
    for name, domain in domains.items():
        try:
            databases[name] = {target_database(domain, target)}
        except MeshError:
            databases[name] = set()
    return databases


def side_door_error(domain: Domain, domains: dict[str, Domain], target: str) -> str | None:
    """The first side door of a domain as one line (file, relation, ref to use), or None: what `mesh build`
    refuses a domain for before building it."""
    doors = find_side_doors(domain, domains, target_databases(domains, target))
    if not doors:
        return None
    more = f" (and {len(doors) - 1} more)" if len(doors) > 1 else ""
    return f"{doors[0].path}: {doors[0].message(domain.name)}{more}"
