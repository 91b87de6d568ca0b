"""No side doors: a domain reads another domain only through ref() to a public model. A relation written by hand
into another domain's database is refused by `mesh build` (before building the domain) and `mesh check`, in one
line naming the file and the ref to use; every spelling is caught (quoted, unquoted, two or three parts, any case),
and so are sources declared on another domain's database and relations built in Jinja."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import run_cli

from mesh_cli.check.side_doors import find_side_doors, side_door_error
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.graph import DomainGraph
from mesh_cli.dbt.parse import parse_domains


def _doors(root: Path, domain: str = "orders", target: str = "dev") -> list[str]:
    domains = discover_domains(load_config(root))
    return [f"{door.path.name}: {door.message(domain)}" for door in find_side_doors(
        domains[domain], domains, {"customers": {"DEV_CUSTOMERS"} if target == "prod" else set()})]


def _model(root: Path, sql: str, name: str = "side_door.sql") -> Path:
    path = root / "domains/orders/models" / name
    path.write_text(sql)
    return path


def test_the_example_mesh_has_no_side_door(mesh_copy: Path) -> None:
    domains = discover_domains(load_config(mesh_copy))
    assert all(find_side_doors(domain, domains) == [] for domain in domains.values())


@pytest.mark.parametrize(("sql", "relation"), [
    ("select * from customers.mesh_protected.marts__dim_customers_v2",
     "customers.mesh_protected.marts__dim_customers_v2"),
    ('select * from "CUSTOMERS"."STAGING"."STG_CUSTOMERS"', "CUSTOMERS.STAGING.STG_CUSTOMERS"),
    ("select c.email from Customers.Landing.customers as c join {{ ref('stg_orders') }} o using (customer_id)",
     "Customers.Landing.customers"),
    ("with x as (select * from customers.stg_customers) select * from x", "customers.stg_customers"),
    ("select * from {{ ref('stg_orders') }} where customer_id in (select customer_id from "
     "customers.governance.mesh_entitlements)", "customers.governance.mesh_entitlements"),
    ("{% if target.name == 'dev' %} select 1 as a {% else %} select 2 as a {% endif %}\n"
     "union all select * from customers . marts . dim_regions", "customers.marts.dim_regions"),
    ("select * from customers /* the CRM */ . marts.dim_regions", "customers.marts.dim_regions"),
    ("select 'customers.x' as label, * from\n  \"customers\"\n.marts.dim_regions -- customers.y",
     "customers.marts.dim_regions"),
])
def test_every_spelling_of_a_relation_into_another_domain_is_a_side_door(mesh_copy: Path, sql: str,
                                                                        relation: str) -> None:
    _model(mesh_copy, sql)
    [door] = _doors(mesh_copy)
    assert door.startswith(f"side_door.sql: orders reads {relation} of domain customers directly")
    assert "read it with {{ ref('customers', " in door


def test_the_ref_to_use_is_named(mesh_copy: Path) -> None:
    _model(mesh_copy, "select * from customers.mesh_protected.marts__dim_customers_v2")
    assert _doors(mesh_copy)[0].endswith("read it with {{ ref('customers', 'dim_customers', v=2) }}")
    _model(mesh_copy, "select * from customers.staging.stg_customers")
    assert _doors(mesh_copy)[0].endswith("read it with {{ ref('customers', '<public model>') }} (its products' "
                                         "models: dim_customers, dim_regions)")


def test_snowflake_databases_and_mounted_shares_count(mesh_copy: Path) -> None:
    _model(mesh_copy, "select * from DEV_CUSTOMERS.MARTS.DIM_REGIONS union all "
                      "select * from customers_customer_master.marts.dim_regions")
    doors = _doors(mesh_copy, target="prod")
    assert [d.split(" of domain ")[0] for d in doors] == [
        "side_door.sql: orders reads DEV_CUSTOMERS.MARTS.DIM_REGIONS",
        "side_door.sql: orders reads customers_customer_master.marts.dim_regions"]


def test_sources_on_another_domain_and_jinja_relations_are_side_doors(mesh_copy: Path) -> None:
    (mesh_copy / "domains/orders/models/_side.yml").write_text(yaml.safe_dump({"sources": [
        {"name": "crm_copy", "database": "customers", "schema": "landing", "tables": [{"name": "customers"}]}]}))
    _model(mesh_copy, "select * from {{ api.Relation.create(database='customers', schema='staging', "
                      "identifier='stg_customers') }}")
    doors = sorted(_doors(mesh_copy))
    assert doors[0].startswith("_side.yml: orders reads source crm_copy (database: customers) of domain customers")
    assert doors[1].startswith("side_door.sql: orders reads a relation in database customers built in Jinja")


def test_refs_own_relations_strings_and_aliases_are_not_side_doors(mesh_copy: Path) -> None:
    _model(mesh_copy, "-- customers.staging.stg_customers in a comment\n"
                      "select customers.customer_id, 'customers.marts.x' as note\n"
                      "from {{ ref('customers', 'dim_customers') }} as customers\n"
                      "join orders.staging.stg_orders o on o.customer_id = customers.customer_id")
    assert _doors(mesh_copy) == []


def test_mesh_build_refuses_the_domain_before_building_it(mesh_copy: Path) -> None:
    path = _model(mesh_copy, 'select * from "customers"."mesh_protected"."marts__dim_customers_v2"')
    domains = discover_domains(load_config(mesh_copy))
    assert side_door_error(domains["orders"], domains, "dev") == (
        f"{path}: orders reads customers.mesh_protected.marts__dim_customers_v2 of domain customers directly, a "
        "side door around its shares and policies: read it with {{ ref('customers', 'dim_customers', v=2) }}")
    result = run_cli(mesh_copy, "build", "orders", "--no-publish")
    assert result.exit_code == 1
    assert "orders failed: " in result.output and "side door" in result.output
    assert not (mesh_copy / ".mesh/duckdb/orders.duckdb").exists()      # nothing built, nothing ingested


def test_mesh_check_reports_the_side_door(mesh_copy: Path, tmp_path: Path) -> None:
    config = load_config(mesh_copy)
    domains = discover_domains(config)
    parse_domains(config, [domains[n] for n in DomainGraph(domains).order(domains)], "dev", state_dir=tmp_path)
    _model(mesh_copy, "select * from customers.staging.stg_customers")
    result = run_cli(mesh_copy, "check", "--baseline", str(tmp_path / "state" / "dev"), "--format", "json")
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert '"rule": "no-side-door"' in text and "side_door.sql" in text
