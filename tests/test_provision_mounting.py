"""Item 1 of issue 26: mounting a share across accounts. The role that creates a database from a share is granted
every database role of the share (https://docs.snowflake.com/en/user-guide/data-sharing-policy-protected-data), so
each consumer domain mounts with its own mounting role (IMPORT SHARE and CREATE DATABASE, provisioned), which grants
the domain's reading role exactly what governance.yml entitles it to, SELECT through the product's reader database
role, and then gives up every database role of the share."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from mesh_cli.core.config import load_config
from mesh_cli.core.destroy import DestructionRefused, refuse_destruction
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.plan import Plan, RecordedState
from mesh_cli.core.share_access import Mount
from mesh_cli.engines.snowflake_provision import plan_snowflake
from mesh_cli.engines.snowflake_shares import SnowflakeShareStatements
from mesh_cli.provision import declared_footprint
from mesh_cli.shares.diff import plan_shares, read_current
from mesh_cli.shares.spec import DomainShares
from tests.conftest import copy_mesh, run_cli
from tests.sql_oracle import assert_snowflake_sql

MOUNT = "CUSTOMERS_CUSTOMER_MASTER"
SHARED_ROLES = ("ALL_REGIONS", "CUSTOMER_MASTER_READER", "EMEA_ANALYST", "PII_READER")
ACCOUNTS = {"customers": "RETAIL.CUSTOMERS", "orders": "RETAIL.ORDERS", "finance": "RETAIL.FINANCE"}


def _provision_plan(root: Path, topology: str) -> Plan:
    path = root / "mesh.yml"
    data = yaml.safe_load(path.read_text())
    data["snowflake"] = {"topology": topology, **({"accounts": ACCOUNTS} if topology == "account_per_domain" else {})}
    path.write_text(yaml.safe_dump(data))
    config = load_config(root)
    return plan_snowflake(declared_footprint(config, discover_domains(config)), RecordedState(), offline=True)


def _orders_mounts() -> DomainShares:
    """Orders, a consumer of customers' product, in its own account: what `mounts_of` declares for it."""
    shares = DomainShares("orders", "ORDERS", "account_per_domain")
    shares.mounts = [Mount(MOUNT, f"RETAIL.CUSTOMERS.{MOUNT}",
                           (("CUSTOMER_MASTER_READER", "ORDERS_DEPLOYER"), ("ALL_REGIONS", "ORDERS_DEPLOYER")),
                           "ORDERS_DEPLOYER", SHARED_ROLES, "ORDERS_MOUNTER", "CUSTOMER_MASTER_READER")]
    return shares


def _holders(*pairs: tuple[str, str]) -> dict[str, list[dict[str, str]]]:
    """SHOW GRANTS OF DATABASE ROLE rows of the mounted database (https://docs.snowflake.com/en/sql-reference/sql/
    show-grants), from (role, holder)."""
    recorded: dict[str, list[dict[str, str]]] = {"SHOW DATABASES": [{"name": MOUNT, "kind": "IMPORTED DATABASE"}]}
    for role, holder in pairs:
        recorded.setdefault(f"SHOW GRANTS OF DATABASE ROLE {MOUNT}.{role}", []).append(
            {"role": f"{MOUNT}.{role}", "granted_to": "ROLE", "grantee_name": holder})
    return recorded


def _plan(shares: DomainShares, recorded: dict[str, list[dict[str, str]]] | None = None) -> Plan:
    return plan_shares(shares, read_current(RecordedState(recorded), shares), "test",
                       sql=SnowflakeShareStatements())


def test_each_consumer_domain_gets_a_mounting_role_with_import_share_and_create_database(tmp_path: Path) -> None:
    """https://docs.snowflake.com/en/user-guide/security-access-privileges-shares (data consumers): creating a
    database from a share needs IMPORT SHARE and CREATE DATABASE on the account, ACCOUNTADMIN's by default."""
    sql = [s.sql for s in _provision_plan(copy_mesh(tmp_path / "mesh"), "account_per_domain").statements]
    for consumer in ("ORDERS", "FINANCE"):
        assert f"CREATE ROLE {consumer}_MOUNTER COMMENT = 'managed by dbt-data-mesh (mesh retail)'" in sql
        assert f"GRANT IMPORT SHARE ON ACCOUNT TO ROLE {consumer}_MOUNTER" in sql
        assert f"GRANT CREATE DATABASE ON ACCOUNT TO ROLE {consumer}_MOUNTER" in sql
        # it keeps no database role of a share, so the admin role may hold it: it runs the mounts
        assert f"GRANT ROLE {consumer}_MOUNTER TO ROLE MESH_ADMIN" in sql
        assert not [s for s in sql if f"TO ROLE {consumer}_DEPLOYER" in s and "IMPORT SHARE" in s]
    assert not [s for s in sql if "CUSTOMERS_MOUNTER" in s]          # customers consumes no product
    assert not [s for s in sql if s.startswith("GRANT DATABASE ROLE")]   # across accounts: the mounted share
    assert_snowflake_sql(sql)


def test_one_account_has_no_mounting_role(tmp_path: Path) -> None:
    sql = [s.sql for s in _provision_plan(copy_mesh(tmp_path / "mesh"), "one_account").statements]
    assert not [s for s in sql if "MOUNTER" in s or "IMPORT SHARE" in s]


def test_a_new_mount_grants_the_entitled_roles_then_the_mounting_role_gives_up_every_one() -> None:
    plan = _plan(_orders_mounts())
    assert [s.sql for s in plan.statements] == [
        # the creator of the database is the session's primary role (https://docs.snowflake.com/en/sql-reference/
        # sql/use-role): run as the deployer, SYSADMIN or ACCOUNTADMIN, that role would keep every database role
        "USE ROLE ORDERS_MOUNTER",
        f"CREATE DATABASE {MOUNT} FROM SHARE RETAIL.CUSTOMERS.{MOUNT}",
        # SELECT through the product's reader role, and the entitlement governance.yml gives ORDERS_DEPLOYER
        f"GRANT DATABASE ROLE {MOUNT}.CUSTOMER_MASTER_READER TO ROLE ORDERS_DEPLOYER",
        f"GRANT DATABASE ROLE {MOUNT}.ALL_REGIONS TO ROLE ORDERS_DEPLOYER",
        # creating the database granted the mounting role every database role of the share: it keeps none
        *(f"REVOKE DATABASE ROLE {MOUNT}.{role} FROM ROLE ORDERS_MOUNTER" for role in SHARED_ROLES),
    ]
    assert all(s.role and s.role.startswith("ORDERS_MOUNTER (IMPORT SHARE and CREATE DATABASE")
               for s in plan.statements[1:])
    # a first publish needs no --allow-destroy: the gate publishing applies (shares/publish.py) lets it through,
    # the mounting role giving up what the mount handed it being no destruction
    refuse_destruction([plan], allow=False, what="publishing orders")
    assert not [s for s in plan.statements if "PII_READER TO ROLE ORDERS_DEPLOYER" in s.sql]
    assert_snowflake_sql(s.sql for s in plan.statements)


def test_a_withdrawn_entitlement_in_the_same_plan_as_a_give_up_is_still_refused() -> None:
    """ORDERS_DEPLOYER holds ALL_REGIONS, which governance.yml no longer entitles it to, and the mounting role still
    holds PII_READER: the gate refuses the withdrawal alone (REVOKE ... FROM ROLE ORDERS_DEPLOYER), never the
    give-up; with --allow-destroy both run."""
    declared = _orders_mounts()
    declared.mounts = [replace(declared.mounts[0], grants=declared.mounts[0].grants[:1])]
    plan = _plan(declared, _holders(("CUSTOMER_MASTER_READER", "ORDERS_DEPLOYER"),
                                    ("ALL_REGIONS", "ORDERS_DEPLOYER"), ("PII_READER", "ORDERS_MOUNTER")))
    assert [s.sql for s in plan.statements] == [
        "USE ROLE ORDERS_MOUNTER", f"REVOKE DATABASE ROLE {MOUNT}.ALL_REGIONS FROM ROLE ORDERS_DEPLOYER",
        f"REVOKE DATABASE ROLE {MOUNT}.PII_READER FROM ROLE ORDERS_MOUNTER"]
    with pytest.raises(DestructionRefused) as refused:
        refuse_destruction([plan], allow=False, what="publishing orders")
    message = str(refused.value)
    assert "would destroy 1 object(s) or grant(s): REVOKE DATABASE ROLE CUSTOMERS_CUSTOMER_MASTER.ALL_REGIONS " \
           "FROM ROLE ORDERS_DEPLOYER" in message and "ORDERS_MOUNTER" not in message
    refuse_destruction([plan], allow=True, what="publishing orders")


def test_a_mounting_role_still_holding_a_database_role_gives_it_up() -> None:
    """A mount made by an earlier version, or an apply that stopped half-way: the mounting role still holds
    PII_READER of the share, which every holder of the mounting role (the admin role, SYSADMIN) inherits."""
    converged = [("CUSTOMER_MASTER_READER", "ORDERS_DEPLOYER"), ("ALL_REGIONS", "ORDERS_DEPLOYER")]
    assert _plan(_orders_mounts(), _holders(*converged)).empty
    plan = _plan(_orders_mounts(), _holders(*converged, ("PII_READER", "ORDERS_MOUNTER")))
    assert [s.sql for s in plan.statements] == [
        "USE ROLE ORDERS_MOUNTER", f"REVOKE DATABASE ROLE {MOUNT}.PII_READER FROM ROLE ORDERS_MOUNTER"]


def test_a_mount_without_the_reader_role_is_reconciled() -> None:
    """A consumer whose mount predates the reader role gets its SELECT: the reader database role is granted."""
    plan = _plan(_orders_mounts(), _holders(("ALL_REGIONS", "ORDERS_DEPLOYER")))
    assert [s.sql for s in plan.statements] == [
        "USE ROLE ORDERS_MOUNTER", f"GRANT DATABASE ROLE {MOUNT}.CUSTOMER_MASTER_READER TO ROLE ORDERS_DEPLOYER"]


def test_a_role_named_like_the_mounting_role_is_bad_input(tmp_path: Path) -> None:
    """A functional role `MOUNTER` of orders would be the mounting role too, and so inherit every database role
    of the shares it mounts: refused in one line naming the file, the role and the fix; nothing planned."""
    root = copy_mesh(tmp_path / "mesh")
    path = root / "domains/orders/domain.yml"
    data = yaml.safe_load(path.read_text())
    data["provision"] = {"functional_roles": {"MOUNTER": {"access": "READ"}}}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(MeshError) as error:
        _provision_plan(root, "account_per_domain")
    message = str(error.value)
    assert str(path) in message and "ORDERS_MOUNTER is the mounting role of orders" in message
    assert "rename that role" in message and "\n" not in message
    result = run_cli(root, "provision", "--plan", "--target", "prod")
    assert result.exit_code == 2 and "ORDERS_MOUNTER" in result.output


def test_across_accounts_a_provisioning_plan_covers_one_domain_and_its_account(tmp_path: Path) -> None:
    """A plan reconciles one account: with a domain per account, provisioning the whole mesh at once would create
    every domain's databases in whichever account the credentials reach, so it is refused (exit 2, nothing
    planned); one domain at a time plans that domain's footprint only."""
    root = copy_mesh(tmp_path / "mesh")
    _provision_plan(root, "account_per_domain")
    refused = run_cli(root, "provision", "--plan", "--target", "prod")
    assert refused.exit_code == 2
    assert "provision one domain at a time" in refused.output and "selected: customers, orders, finance" in \
        refused.output and "mesh.yml" in refused.output
    assert run_cli(root, "provision", "--prune", "--plan", "--target", "prod").exit_code == 2
    done = run_cli(root, "provision", "-s", "orders", "--plan", "--target", "prod", "--format", "json")
    assert done.exit_code == 0, done.output
    sql = [s["sql"] for plan in json.loads(done.output)["plans"] for s in plan["statements"]]
    assert "CREATE DATABASE ORDERS COMMENT = 'managed by dbt-data-mesh (mesh retail)'" in sql
    assert "GRANT IMPORT SHARE ON ACCOUNT TO ROLE ORDERS_MOUNTER" in sql
    assert not [s for s in sql if "CUSTOMERS_WH" in s or "FINANCE_WH" in s or "DATABASE CUSTOMERS" in s]
    # an account holds one domain: --prune compares that domain's account with its footprint
    assert run_cli(root, "provision", "-s", "orders", "--prune", "--plan", "--target", "prod").exit_code == 0
