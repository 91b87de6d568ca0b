"""Items 4 and 8 of the #26 audit: `mesh check` refuses what every build would refuse in the governance library (a
policy body that does not parse or names an unknown function, an entitlement of an undeclared role) in one line
naming governance.yml, the policy or role and the fix, exit 2; `mesh build` says the same line instead of a raw
DuckDB parser error. Bodies are Snowflake SQL (https://docs.snowflake.com/en/sql-reference/sql/create-masking-policy),
parsed with sqlglot's Snowflake dialect; on DuckDB each policy macro is also created in an in-memory database, as
the build creates it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mesh_cli.check.library import library_refusals
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.policy_bodies import snowflake_body_problem
from tests.conftest import run_cli

GOOD = "case when is_role_in_session('PII_READER') then val else '*****' end"


def _edit_library(root: Path, edit: dict[str, str]) -> Path:
    path = root / "governance.yml"
    library = yaml.safe_load(path.read_text())
    if "mask_full" in edit:
        library["masking_policies"]["mask_full"]["body"] = edit["mask_full"]
    if "entitled" in edit:
        library["entitlements"][2]["role"] = edit["entitled"]
    path.write_text(yaml.safe_dump(library, sort_keys=False))
    return path


@pytest.mark.parametrize(("body", "problem"), [
    (GOOD, None),
    ("exists (select 1 from @entitlements e where e.value = region and is_role_in_session(e.role_name))", None),
    (GOOD + " end", "does not parse as Snowflake SQL"),          # a stray `end`, read by sqlglot as an alias
    ("case when is_role_in_session('PII_READER') then val else '*' ", "does not parse as Snowflake SQL"),
    ("val; drop table t", "does not parse as Snowflake SQL"),
    ("val from t", "is not one SQL expression"),
    ("", "is empty"),
])
def test_a_body_is_one_snowflake_expression(body: str, problem: str | None) -> None:
    found = snowflake_body_problem(body)
    assert found is None if problem is None else (found or "").startswith(problem)


@pytest.mark.parametrize(("edit", "expected"), [
    ({"mask_full": GOOD + " end"},
     "masking policy mask_full: its `body` does not parse as Snowflake SQL"),
    ({"mask_full": GOOD.replace("'*****'", "nosuchfn(val)")},
     "masking policy mask_full: its `body` fails on DuckDB (Catalog Error: Scalar Function with name nosuchfn"),
    ({"entitled": "NA_ANALYSTT"},
     "entitlement of role NA_ANALYSTT (region: ['NA']) names a role no library declares; declare NA_ANALYSTT "
     "under `roles:` of governance.yml, or correct the role's name"),
])
def test_check_and_build_refuse_what_every_build_would_refuse_in_the_library(
        git_mesh: Path, edit: dict[str, str], expected: str) -> None:
    path = _edit_library(git_mesh, edit)
    checked = run_cli(git_mesh, "check", "--baseline-ref", "main")
    built = run_cli(git_mesh, "build", "--no-publish")
    for result in (checked, built):
        assert result.exit_code == 2, result.output
        [line] = [line for line in result.output.splitlines() if expected in line]
        assert line.split(f"{path}: ", 1)[1].startswith(expected.split(":")[0]), line
    assert "Parser Error" not in built.output
    assert not (git_mesh / ".mesh" / "duckdb" / "customers.duckdb").exists()   # nothing was built


def test_a_library_found_sound_is_not_checked_again_until_it_changes(mesh_copy: Path) -> None:
    config = load_config(mesh_copy)
    domains = discover_domains(config)
    sound = library_refusals(config, domains, "dev")
    assert sound.problems == [] and sound.keep_at is not None and not sound.keep_at.exists()   # kept at the end
    sound.keep()
    again = library_refusals(config, domains, "dev")
    assert again.problems == [] and again.keep_at is None           # not checked again
    _edit_library(mesh_copy, {"mask_full": GOOD + " end"})
    broken = library_refusals(config, domains, "dev")               # another content: checked again
    assert len(broken.problems) == 1 and broken.keep_at is None
    assert library_refusals(config, domains, "dev", cache=False).keep_at is None


def test_the_checked_policy_macros_are_the_ones_the_package_creates(built_mesh: tuple[Path, object]) -> None:
    """`policy_problems` creates each policy as `duckdb_policy_body` writes it; that body is the one the package's
    duckdb__policy_body gives the build: each governance macro of a built domain file is the body checked here (as
    DuckDB stores them, read back in sqlglot's DuckDB dialect: the build's spells a type in capitals)."""
    import duckdb
    import sqlglot

    from mesh_cli.engines.duckdb import GOVERNANCE_SCHEMA, POLICY_SCAFFOLD, duckdb_policy_body

    root = built_mesh[0]
    library = yaml.safe_load((root / "governance.yml").read_text())
    policies = {**library["masking_policies"], **library["row_access_policies"]}
    listed = ("select function_name, macro_definition from duckdb_functions() "
              "where schema_name = ? and function_name = any(?)")

    def macros(connection: duckdb.DuckDBPyConnection, names: list[str]) -> dict[str, str]:
        rows = connection.execute(listed, [GOVERNANCE_SCHEMA, names]).fetchall()
        return {name: sqlglot.transpile(body, read="duckdb")[0] for name, body in rows}

    with duckdb.connect(str(next((root / ".mesh").rglob("customers.duckdb"))), read_only=True) as built:
        created = macros(built, list(policies))
    checked = duckdb.connect()
    checked.execute(POLICY_SCAFFOLD)
    for name in created:
        arguments = ", ".join(str(arg["name"]) for arg in policies[name]["args"])
        checked.execute(f"create macro {GOVERNANCE_SCHEMA}.{name}({arguments}) as "
                        f"({duckdb_policy_body(policies[name])})")
    assert len(created) >= 6
    assert macros(checked, list(created)) == created
