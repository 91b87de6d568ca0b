"""Policies on shared objects: Snowflake's evaluation rules inside a share, reproduced by the DuckDB emulation.

- Inside a share IS_ROLE_IN_SESSION and CURRENT_ROLE are NULL in a policy on the shared object
  (https://docs.snowflake.com/en/sql-reference/functions/current_role, usage notes).
- IS_DATABASE_ROLE_IN_SESSION evaluates database roles only, by relative name, in the protected object's database:
  the database roles granted to the share that the consumer granted to its roles
  (https://docs.snowflake.com/en/sql-reference/functions/is_database_role_in_session).

Under `snowflake.topology: account_per_domain` every public model carries the `<policy>_shared` variants, which
accept the account role (provider side) or the database role of the same name (consumer side, through the share).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import copy_mesh, run_build

from mesh_cli.build.run import BuildReport
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.engines.duckdb import DuckDBEngine
from mesh_cli.engines.duckdb_roles import roles_literal

SHARE = "CUSTOMERS_CUSTOMER_MASTER"
ACCOUNTS = {"customers": "RETAIL.CUSTOMERS", "orders": "RETAIL.ORDERS", "finance": "RETAIL.FINANCE"}


def session(root: Path, *roles: str, share: str | None = None,
            database_roles: tuple[str, ...] = ()) -> duckdb.DuckDBPyConnection:
    """A read-only session of the customers database: as the provider's roles, or as a consumer account reading
    through `share` holding `database_roles` of it: the two variables the package's context functions read
    (macros/governance/prepare/governance_statements.sql), which no command of the mesh sets."""
    config = load_config(root)
    connection = DuckDBEngine(config, "dev").connect(discover_domains(config)["customers"], roles=list(roles))
    if share is not None:
        connection.execute(f"set variable mesh_share = '{share}'")
        connection.execute(f"set variable mesh_database_roles = {roles_literal(list(database_roles))}")
    return connection


@pytest.fixture(scope="module")
def shared_mesh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example mesh with one account per domain, customers built on DuckDB."""
    root = copy_mesh(tmp_path_factory.mktemp("shared") / "mesh")
    settings = yaml.safe_load((root / "mesh.yml").read_text())
    settings["snowflake"] = {"topology": "account_per_domain", "accounts": ACCOUNTS}
    (root / "mesh.yml").write_text(yaml.safe_dump(settings, sort_keys=False))
    report = run_build(root, "customers")
    assert report.ok, [(r.domain, r.status, r.reason) for r in report.results]
    return root


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return connection.execute(sql).fetchall()


CLEAR = "select count(*), count(distinct email) from mesh_protected.marts__dim_customers_v2"
READ = "select count(*), count(distinct email) from marts.dim_customers_v2"
MASKED_EMAILS = "select count(*) from marts.dim_customers_v2 where email like '*****@%'"


def test_the_emulated_context_functions_follow_snowflakes_rules(built_mesh: tuple[Path, BuildReport]) -> None:
    """The DuckDB macros evaluate the context functions by Snowflake's rules, over every combination of account
    roles, database roles and share session: IS_ROLE_IN_SESSION is true for a role in session or inherited, NULL
    inside a share (https://docs.snowflake.com/en/sql-reference/functions/is_role_in_session,
    https://docs.snowflake.com/en/sql-reference/functions/current_role usage notes); IS_DATABASE_ROLE_IN_SESSION
    reads database roles only, never an account role of the same name
    (https://docs.snowflake.com/en/sql-reference/functions/is_database_role_in_session)."""
    root, _ = built_mesh
    for roles, database_roles, shared in itertools.product(
            [(), ("PII_READER",), ("CUSTOMERS_DEPLOYER",)], [(), ("PII_READER",)], [False, True]):
        with session(root, *roles, share=SHARE if shared else None, database_roles=database_roles) as connection:
            in_session = DuckDBEngine(load_config(root), "dev").session_roles(connection)
            got = connection.execute("select governance.is_role_in_session('PII_READER'), "
                                     "governance.is_database_role_in_session('PII_READER')").fetchone()
        # database roles are held only through a share: the tool never grants them to account roles
        held = list(database_roles) if shared else []
        expected = (None if shared else "PII_READER" in in_session, "PII_READER" in held)
        assert got == expected, (roles, database_roles, shared)


def test_public_models_carry_the_shared_variants_only_across_accounts(
        shared_mesh: Path, built_mesh: tuple[Path, BuildReport]) -> None:
    query = ("select distinct policy_name from governance.policy_references "
             "where lower(ref_entity_name) = 'dim_customers_v2' order by 1")
    with session(shared_mesh) as connection:
        shared = [name for (name,) in _rows(connection, query)]
    with session(built_mesh[0]) as connection:
        one_account = [name for (name,) in _rows(connection, query)]
    assert shared and all(name.endswith("_shared") for name in shared)
    assert {"mask_email_shared", "region_entitlement_shared"} <= set(shared)
    assert set(one_account) == {name.removesuffix("_shared") for name in shared}


def test_a_consumer_reads_through_the_share_with_the_database_roles_it_was_granted(shared_mesh: Path) -> None:
    with session(shared_mesh) as connection:
        total, emails = _rows(connection, CLEAR)[0]
        emea = _rows(connection, "select count(*) from mesh_protected.marts__dim_customers_v2 "
                                 "where region = 'EMEA'")[0][0]
    with session(shared_mesh, share=SHARE, database_roles=("PII_READER", "ALL_REGIONS")) as connection:
        assert _rows(connection, READ) == [(total, emails)]                  # every row, in clear
    with session(shared_mesh, share=SHARE, database_roles=("ALL_REGIONS",)) as connection:
        assert _rows(connection, MASKED_EMAILS) == [(total,)]                # every row, masked
    with session(shared_mesh, share=SHARE, database_roles=("EMEA_ANALYST",)) as connection:
        assert _rows(connection, "select count(*) from marts.dim_customers_v2 where region = 'EMEA'") == [(emea,)]
        assert _rows(connection, "select count(*) from marts.dim_customers_v2 where region <> 'EMEA'") == [(0,)]
    with session(shared_mesh, share=SHARE) as connection:
        assert _rows(connection, READ)[0][0] == 0                            # no database role: nothing


def test_account_roles_decide_nothing_inside_a_share(shared_mesh: Path) -> None:
    """A consumer's account roles named like the provider's are NULL in the policy: no rows, masked values."""
    with session(shared_mesh, "PII_READER", "ALL_REGIONS", share=SHARE) as connection:
        assert _rows(connection, READ)[0][0] == 0
        assert connection.execute("select governance.is_role_in_session('PII_READER')").fetchone() == (None,)


def test_provider_side_pii_readers_keep_clear_values_under_the_shared_variants(shared_mesh: Path) -> None:
    with session(shared_mesh) as connection:
        clear = _rows(connection, CLEAR)
    with session(shared_mesh, "PII_READER", "ALL_REGIONS") as connection:
        assert _rows(connection, READ) == clear
    with session(shared_mesh, "CUSTOMERS_DEPLOYER") as connection:       # inherits both, per governance.yml
        assert _rows(connection, READ) == clear
    with session(shared_mesh, "ALL_REGIONS") as connection:
        assert _rows(connection, MASKED_EMAILS) == [(clear[0][0],)]


def test_the_non_shared_variant_on_a_shared_table_gives_consumers_nothing(built_mesh: tuple[Path, BuildReport]) -> None:
    """The wrong variant, as one account attaches it: read through a share, every row is filtered out even for a
    consumer holding every database role (why account_per_domain attaches `_shared`)."""
    with session(built_mesh[0], share=SHARE, database_roles=("PII_READER", "ALL_REGIONS")) as connection:
        assert _rows(connection, READ)[0][0] == 0
