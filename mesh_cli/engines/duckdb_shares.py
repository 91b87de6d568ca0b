"""Shares on DuckDB: an emulated Snowflake account. The statements of a share plan (Snowflake's, from
engines/snowflake_shares.py: the plan a developer reads is the one production runs) change recorded SHOW output,
kept in `<state>/state/<target>/<domain>/shares.json`, so plan/apply (and an empty second apply) hold locally
exactly as on Snowflake."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.errors import EngineError, MeshError
from mesh_cli.core.plan import RecordedState, show_statement
from mesh_cli.core.safe_io import write_text_atomic
from mesh_cli.core.sql_literals import snowflake_unquote
from mesh_cli.core.state import domain_state_dir

Rows = list[dict[str, Any]]
_NAME = r"([A-Za-z0-9_$.]+)"
_GRANTEE = r"(SHARE|DATABASE ROLE|ROLE) " + _NAME


class EmulatedAccount:
    """Shares, database roles, grants, listings and mounted databases as SHOW rows, keyed by SHOW statement."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.recorded: dict[str, Rows] = {}
        if path.is_file():
            try:
                self.recorded = json.loads(path.read_text(encoding="utf-8"))["show"]
            except (ValueError, KeyError, TypeError) as exc:
                raise MeshError(f"cannot read the emulated share state ({exc}); delete the file and publish "
                                "again", path=path) from exc
        self._statements: list[tuple[re.Pattern[str], Callable[..., None]]] = [
            (re.compile(rf"CREATE SHARE {_NAME} COMMENT = '(.*)'", re.S), self._create_share),
            (re.compile(rf"ALTER SHARE {_NAME} SET COMMENT = '(.*)'", re.S), self._comment),
            (re.compile(rf"ALTER SHARE {_NAME} (ADD|REMOVE) ACCOUNTS = (.+)"), self._accounts),
            (re.compile(rf"DROP SHARE {_NAME}"), self._drop_share),
            (re.compile(rf"(GRANT|REVOKE) DATABASE ROLE {_NAME} (?:TO|FROM) {_GRANTEE}"), self._role_grant),
            (re.compile(rf"(GRANT|REVOKE) (\w+) ON (DATABASE|SCHEMA|TABLE|VIEW) {_NAME} (?:TO|FROM) {_GRANTEE}"),
             self._privilege),
            (re.compile(rf"CREATE DATABASE ROLE IF NOT EXISTS {_NAME}"), self._create_role),
            (re.compile(rf"DROP DATABASE ROLE {_NAME}"), self._drop_role),
            (re.compile(rf"CREATE ORGANIZATION LISTING IF NOT EXISTS {_NAME} SHARE {_NAME} "
                        r"AS \$\$(.*)\$\$ PUBLISH = TRUE", re.S), self._listing),
            (re.compile(rf"ALTER LISTING {_NAME} AS \$\$\n(.*)\$\$", re.S), self._alter_listing),
            (re.compile(rf"ALTER LISTING {_NAME} (PUBLISH|UNPUBLISH)"), self._listing_state),
            (re.compile(rf"DROP LISTING {_NAME}"), self._drop_listing),
            (re.compile(rf"CREATE DATABASE {_NAME} FROM SHARE {_NAME}"), self._mount),
            (re.compile(rf"USE ROLE {_NAME}"), self._use_role),
        ]

    def reader(self) -> RecordedState:
        """A StateReader over the current rows (it sees changes as they are applied)."""
        state = RecordedState()
        state.recorded = self.recorded
        return state

    def _rows(self, kind: str, scope: str | None = None) -> Rows:
        return self.recorded.setdefault(show_statement(kind, scope).upper(), [])

    def execute(self, sql: str) -> None:
        for pattern, handler in self._statements:
            match = pattern.fullmatch(sql.strip())
            if match:
                handler(*match.groups())
                return
        raise EngineError(f"the DuckDB share emulation does not run this statement: {sql.splitlines()[0]}")

    def save(self) -> None:
        write_text_atomic(self.path, json.dumps({"show": self.recorded}, indent=1, sort_keys=True))

    def _create_share(self, name: str, comment: str) -> None:
        if any(r["name"] == name for r in self._rows("SHARES")):
            raise EngineError(f"share {name} already exists")
        self._rows("SHARES").append({"kind": "OUTBOUND", "name": name, "comment": snowflake_unquote(comment),
                                     "database_name": "", "to": ""})

    def _named(self, kind: str, name: str) -> dict[str, Any]:
        """The SHOW row of the share or listing `name` (`kind` SHARES or LISTINGS); an error when there is none."""
        for row in self._rows(kind):
            if row["name"] == name:
                return row
        raise EngineError(f"{kind.lower().removesuffix('s')} {name} does not exist")

    def _share(self, name: str) -> dict[str, Any]:
        return self._named("SHARES", name)

    def _comment(self, name: str, comment: str) -> None:
        self._share(name)["comment"] = snowflake_unquote(comment)

    def _accounts(self, name: str, verb: str, accounts: str) -> None:
        rows = self._rows("GRANTS", f"OF SHARE {name}")
        names = [a.strip() for a in accounts.split(",")]
        if verb == "ADD":
            rows.extend({"share": name, "granted_to": a} for a in names if a not in {r["granted_to"] for r in rows})
        else:
            rows[:] = [r for r in rows if r["granted_to"] not in names]
        self._share(name)["to"] = ",".join(r["granted_to"] for r in rows)

    def _drop_share(self, name: str) -> None:
        self._share(name)
        self._rows("SHARES")[:] = [r for r in self._rows("SHARES") if r["name"] != name]
        for scope in (f"TO SHARE {name}", f"OF SHARE {name}"):
            self.recorded.pop(show_statement("GRANTS", scope).upper(), None)

    def _grant(self, verb: str, row: dict[str, Any], grantee_kind: str, grantee: str) -> None:
        if grantee_kind == "SHARE":
            share = self._share(grantee)
            if row["granted_on"] == "DATABASE" and row["privilege"] == "USAGE":
                share["database_name"] = row["name"] if verb == "GRANT" else ""
        rows = self._rows("GRANTS", f"TO {grantee_kind} {grantee}")
        key = (row["privilege"], row["granted_on"], row["name"])
        present = [r for r in rows if (r["privilege"], r["granted_on"], r["name"]) == key]
        if verb == "GRANT" and not present:
            rows.append({**row, "granted_to": grantee_kind.replace(" ", "_"), "grantee_name": grantee})
        elif verb == "REVOKE":
            rows[:] = [r for r in rows if (r["privilege"], r["granted_on"], r["name"]) != key]

    def _role_grant(self, verb: str, role: str, grantee_kind: str, grantee: str) -> None:
        if grantee_kind == "ROLE":
            rows = self._rows("GRANTS", f"OF DATABASE ROLE {role}")
            rows[:] = [r for r in rows if r["grantee_name"] != grantee]
            if verb == "GRANT":
                rows.append({"role": role, "granted_to": "ROLE", "grantee_name": grantee})
            return
        self._grant(verb, {"privilege": "USAGE", "granted_on": "DATABASE_ROLE", "name": role}, grantee_kind, grantee)

    def _privilege(self, verb: str, privilege: str, on: str, name: str, grantee_kind: str, grantee: str) -> None:
        self._grant(verb, {"privilege": privilege, "granted_on": on, "name": name}, grantee_kind, grantee)

    def _create_role(self, qualified: str) -> None:
        database, _, role = qualified.rpartition(".")
        rows = self._rows("DATABASE ROLES", f"IN DATABASE {database}")
        if role not in {r["name"] for r in rows}:
            rows.append({"name": role, "owner": "", "comment": ""})

    def _drop_role(self, qualified: str) -> None:
        """The role goes with its grants and every grant of it, to roles and to shares
        (https://docs.snowflake.com/en/sql-reference/sql/drop-database-role)."""
        database, _, role = qualified.rpartition(".")
        rows = self._rows("DATABASE ROLES", f"IN DATABASE {database}")
        if role not in {r["name"] for r in rows}:
            raise EngineError(f"database role {qualified} does not exist")
        rows[:] = [r for r in rows if r["name"] != role]
        for scope in (f"TO DATABASE ROLE {qualified}", f"OF DATABASE ROLE {qualified}"):
            self.recorded.pop(show_statement("GRANTS", scope).upper(), None)
        for key, grants in self.recorded.items():
            if key.startswith("SHOW GRANTS TO "):
                grants[:] = [g for g in grants if (g.get("granted_on"), g.get("name")) != ("DATABASE_ROLE", qualified)]

    def _listing(self, name: str, share: str, manifest: str) -> None:
        self._share(share)
        rows = self._rows("LISTINGS")
        if name not in {r["name"] for r in rows}:
            rows.append({"name": name, "title": "", "state": "PUBLISHED", "manifest": manifest})

    def _listing_row(self, name: str) -> dict[str, Any]:
        return self._named("LISTINGS", name)

    def _alter_listing(self, name: str, manifest: str) -> None:
        self._listing_row(name)["manifest"] = manifest

    def _listing_state(self, name: str, verb: str) -> None:
        self._listing_row(name)["state"] = "PUBLISHED" if verb == "PUBLISH" else "UNPUBLISHED"

    def _drop_listing(self, name: str) -> None:
        """Only an unpublished (or draft) listing can be dropped
        (https://docs.snowflake.com/en/sql-reference/sql/drop-listing)."""
        if self._listing_row(name)["state"] == "PUBLISHED":
            raise EngineError(f"listing {name} is published: unpublish it before dropping it")
        self._rows("LISTINGS")[:] = [r for r in self._rows("LISTINGS") if r["name"] != name]

    def _mount(self, database: str, share: str) -> None:
        self._rows("DATABASES").append({"name": database, "kind": "IMPORTED DATABASE", "origin": share})

    def _use_role(self, role: str) -> None:
        """The emulated account has no session: who runs a statement changes nothing it records."""


class EmulatedBackend:
    """A domain's emulated account as a `core.plan.Backend`: applied statements are kept on `commit`."""

    offline = False

    def __init__(self, config: MeshConfig, target: str, domain: str) -> None:
        self.account = EmulatedAccount(domain_state_dir(config, target, domain) / "shares.json")
        self.reader = self.account.reader()

    def execute(self, sql: str) -> Any:
        return self.account.execute(sql)

    def commit(self) -> None:
        self.account.save()
