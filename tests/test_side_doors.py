"""No side doors: a domain reads another domain only through ref() to a public model. A relation written by hand
into another domain's database is refused by `mesh build` (before building the domain) and `mesh check`, in one
line naming the file and the ref to use; every spelling is caught (quoted, unquoted, two or three parts, any case),
and so are sources declared on another domain's database and relations built in Jinja."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
import yaml
from conftest import run_build, run_cli

from mesh_cli.check.side_doors import find_side_doors, side_door_error
from mesh_cli.core.compiled_guard import (
    Writer,
    may_need_parsing,
    refusal,
    rendering,
    scope_of,
    start_run,
    statement_refusal,
)
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.graph import DomainGraph
from mesh_cli.dbt.parse import parse_domains
from mesh_cli.engines.duckdb import DuckDBEngine
from mesh_cli.engines.snowflake import SnowflakeEngine
from mesh_cli.plugin.side_door_guard import check_node, install


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


# --- The rule on compiled SQL (issue #26, items 9-10): whatever Jinja, var() or a macro builds, the SQL that will
# run is judged. A consumer reads another domain only through the objects granted to it
# (https://docs.snowflake.com/en/user-guide/security-access-control-overview); a session's roles change only by
# the user's own grants (https://docs.snowflake.com/en/sql-reference/sql/use-role); files are reached only through
# a stage the role may use (https://docs.snowflake.com/en/sql-reference/sql/copy-into-location).

DUCKDB = DuckDBEngine.sqlglot_dialect
_SCOPE = scope_of("orders", ["customers", "orders"], {"customers": ("dim_customers",)}, {},
                  ["customers.marts.dim_customers_v2"], dialect=DUCKDB,
                  emulated=DuckDBEngine.emulates_governance)


@pytest.mark.parametrize(("sql", "refused"), [
    ('select * from "customers"."mesh_protected"."marts__dim_customers_v2"',
     "reads customers.mesh_protected.marts__dim_customers_v2 of domain customers directly"),
    ("select * from CUSTOMERS.Staging.stg_customers", "reads CUSTOMERS.Staging.stg_customers of domain customers"),
    ("select * from customers.stg_customers", "reads customers.stg_customers of domain customers"),
    ("select 1 from t where x in (select * from customers.governance.mesh_entitlements)",
     "reads customers.governance.mesh_entitlements"),
    ("select * from read_csv('../customers/landing/customers/x.csv')", "with read_csv()"),
    ("select * from read_csv_auto('x.csv', header = true)", "with read_csv_auto()"),
    ("select (select count(*) from read_parquet('x.parquet')) as n", "with read_parquet()"),
    ("select * from glob('../customers/*')", "with glob()"),
    ("select * from query_table('customers.mesh_protected.marts__dim_customers_v2')", "with query_table()"),
    # each column's minimum and maximum, clear values of the protected table
    ("select stats from pragma_storage_info('customers.mesh_protected.marts__dim_customers_v2')",
     "with pragma_storage_info()"),
    ("select * from '../customers/landing/customers/x.csv'", "reads the file '../customers/landing/customers/x.csv'"),
    ("select * from 'leak.csv'", "reads the file 'leak.csv'"),
    ('select * from "landing.parquet"', "reads the file 'landing.parquet'"),
    ("attach '../../.mesh/duckdb/customers.duckdb' as crm (read_only)", "runs ATTACH"),
    ("detach customers", "runs DETACH"),
    ("set variable mesh_roles = ['PII_READER', 'ALL_REGIONS']", "runs SET"),
    ("select 1 as a; reset variable mesh_share", "runs RESET"),
    ("copy (select 1) to 'leak.csv'", "runs COPY"),
    ("install httpfs", "runs INSTALL"),
    ("load httpfs", "runs LOAD"),
    ("pragma database_list", "runs PRAGMA"),
    ("export database 'leak'", "runs EXPORT"),
    ("use customers", "runs USE"),
    # a SELECT given as a string runs inside json_execute_serialized_sql (audit of #26, item 1): table functions
    # are allowed by name, never refused by a list of bad ones
    ("select * from json_execute_serialized_sql(json_serialize_sql('select email from "
     "customers.mesh_protected.marts__dim_customers_v2'))", "calls the table function json_execute_serialized_sql()"),
    ("select (from json_execute_serialized_sql('x'))", "calls the table function json_execute_serialized_sql()"),
    ("select * from t cross join lateral json_execute_serialized_sql('x')", "json_execute_serialized_sql()"),
    ("select * from system.main.json_execute_serialized_sql('x')", "json_execute_serialized_sql()"),
    ("select * from table(json_execute_serialized_sql('x'))", "calls the table function table()"),
    ("select * from sql_auto_complete('select')", "calls the table function sql_auto_complete()"),
    # the emulated governance state, written by the package's preparation only (audit of #26, item 6)
    ("insert into governance.mesh_role_grants values ('ALL_REGIONS', 'NA_ANALYST')",
     "writes governance.mesh_role_grants, the emulated governance state"),
    ("create or replace macro governance.is_role_in_session(r) as true",
     "writes governance.is_role_in_session, the emulated governance state"),
    ("create or replace macro governance.mask_email(val) as val", "writes governance.mask_email"),
    ("update orders.governance.mesh_entitlements set value = '*'", "writes orders.governance.mesh_entitlements"),
    ("delete from governance.mesh_role_grants", "writes governance.mesh_role_grants"),
    ("drop schema governance cascade", "writes governance, the emulated governance state"),
    ("alter table governance.mesh_role_grants rename to old", "writes governance.mesh_role_grants"),
    ("create or replace view marts.fct_orders as select * from mesh_protected.marts__fct_orders",
     "writes marts.fct_orders, which its node does not build"),
])
def test_compiled_sql_that_steps_around_the_policies_is_refused(sql: str, refused: str) -> None:
    found = refusal(sql, _SCOPE)
    assert found is not None and refused in found
    assert may_need_parsing(sql, _SCOPE.foreign)          # the cheap test never lets a refusal through unparsed


@pytest.mark.parametrize("sql", [
    'select * from "customers"."marts"."dim_customers_v2"',           # the public relation the node refs
    "select * from orders.staging.stg_orders join main.x using (id)",  # its own database
    "with customers as (select 1 as a) select * from customers",      # a CTE named like a domain
    "select 'customers.mesh_protected.x' as label, read_count from range(3) t(read_count)",
    "select table_name from customers.information_schema.tables",    # names and types, no rows
    "select * from generate_series(1, 3) join duckdb_tables() on true, unnest([1, 2]) u(x)",   # harmless ones
])
def test_own_relations_refs_and_lookalikes_pass(sql: str) -> None:
    assert refusal(sql, _SCOPE) is None


_FCT = Writer(("orders", "marts", "fct_orders"))


@pytest.mark.parametrize(("sql", "writer", "refused"), [
    # what dbt-duckdb and the package's post-hook run for the node: its relation, dbt's temporary and backup
    # relations, its clear storage, and its own rows of the governance records
    ('create view "orders"."marts"."fct_orders__dbt_tmp" as ( select null )', _FCT, None),
    ('alter view "orders"."marts"."fct_orders__dbt_tmp" rename to "fct_orders"', _FCT, None),
    ('drop table if exists "orders"."mesh_protected"."marts__fct_orders"; create table '
     '"orders"."mesh_protected"."marts__fct_orders" (a integer not null); insert into '
     '"orders"."mesh_protected"."marts__fct_orders" (a) ( select null )', _FCT, None),
    ("delete from governance.tag_references where object_schema = 'marts' and object_name = 'fct_orders'", _FCT,
     None),
    ("insert into governance.policy_references values ('orders', 'governance', 'mask_email', 'MASKING_POLICY', "
     "'orders', 'marts', 'fct_orders', 'TABLE', 'email', null, null, 'ACTIVE')", _FCT, None),
    ('create table "orders"."governance"."mesh_entitlements__dbt_tmp" as ( select null )',
     Writer(("orders", "governance", "mesh_entitlements"), package=True), None),
    ('create schema if not exists "orders"."marts"', Writer(), None),
    # another relation, or another relation's records, or a domain model built into the governance schema
    ('alter view "orders"."marts"."fct_orders__dbt_tmp" rename to "dim_x"', _FCT, "writes orders.marts.dim_x"),
    ("delete from governance.tag_references where object_name = 'dim_customers_v2'", _FCT,
     "writes governance.tag_references"),
    ('create table "orders"."governance"."mesh_role_grants__dbt_tmp" as ( select null )',
     Writer(("orders", "governance", "mesh_role_grants")), "writes orders.governance.mesh_role_grants__dbt_tmp"),
    ("insert into main.audit values (1)", Writer(), "writes main.audit, which its node does not build"),
    # the package's preparation creates the governance state, one statement at a time, each object once
    ("create or replace macro governance.is_role_in_session(r) as true", Writer(prepares_governance=True), None),
    ("create or replace macro governance.is_role_in_session(r) as true",
     Writer(prepares_governance=True, created={"governance.is_role_in_session"}),
     "creates governance.is_role_in_session a second time while preparing the governance state"),
    ("insert into governance.mesh_role_grants values ('ALL_REGIONS', 'NA_ANALYST')", Writer(prepares_governance=True),
     "runs INSERT while preparing the governance state"),
    ("create or replace macro governance.mask_x(val) as (val); insert into governance.mesh_role_grants values "
     "('ALL_REGIONS', 'NA_ANALYST')", Writer(prepares_governance=True), "runs several statements at once"),
])
def test_a_node_writes_its_own_relation_and_nothing_of_the_governance_state(sql: str, writer: Writer,
                                                                            refused: str | None) -> None:
    found = refusal(sql, _SCOPE, writer)
    assert (found is None) if refused is None else (found is not None and refused in found), found
    assert may_need_parsing(sql, _SCOPE.foreign)


def test_only_the_packages_own_preparation_hook_writes_the_governance_state() -> None:
    """The on-run-start hook that calls the package's prepare_governance and nothing else, in a project that does not
    dispatch the package's macros to its own, writes the governance state; any other hook does not."""
    from mesh_cli.plugin.side_door_guard import _prepares_governance

    hook = SimpleNamespace(resource_type="operation", raw_code="{{ data_mesh.prepare_governance() }}")
    orders = SimpleNamespace(dispatch=[], project_name="orders")

    def macros(name: str) -> SimpleNamespace:
        return SimpleNamespace(macros={f"macro.orders.{name}": SimpleNamespace(package_name="orders", name=name)})

    assert _prepares_governance(orders, hook, macros("generate_schema_name"))
    redispatched = [{"macro_namespace": "data_mesh", "search_order": ["orders", "data_mesh"]}]
    assert not _prepares_governance(SimpleNamespace(dispatch=redispatched, project_name="orders"), hook, macros("x"))
    assert not _prepares_governance(orders, SimpleNamespace(
        resource_type="operation", raw_code="{{ data_mesh.prepare_governance() }} {% do run_query('x') %}"),
        macros("x"))
    assert not _prepares_governance(orders, hook, macros("run_query"))   # it could rewrite the package's statements
    context = "create or replace macro governance.is_role_in_session(r) as (list_contains(getvariable('x'), r))"
    try:
        start_run(guarded=True)
        assert "the emulated governance state" in str(statement_refusal(context, "master", "duckdb"))
        rendering(True)
        assert statement_refusal(context, "master", "duckdb") is None
        assert "a second time" in str(statement_refusal(context, "master", "duckdb"))   # a domain entry's name
    finally:
        start_run(guarded=True)


def test_a_public_relation_not_reached_by_ref_is_refused() -> None:
    """The node refs v2: v1, public too, is a relation it does not depend on (dbt's lineage would miss it)."""
    assert refusal('select * from "customers"."marts"."dim_customers_v1"', _SCOPE) is not None


SIDE_DOORS = {   # model -> (its SQL, what the refusal says): issue #26 item 10, each reproduced
    "door_jinja": ("select email, phone from {{ 'custo' ~ 'mers' }}.mesh_protected.marts__dim_customers_v2",
                   "door_jinja: its compiled SQL reads customers.mesh_protected.marts__dim_customers_v2 of domain "
                   "customers directly"),
    "door_var": ("select email from {{ var('crm_database', 'customers') }}.staging.stg_customers",
                 "door_var: its compiled SQL reads customers.staging.stg_customers of domain customers"),
    "door_macro": ("select email from {{ crm_relation() }}",
                   "door_macro: its compiled SQL reads customers.mesh_protected.marts__dim_customers_v2"),
    "door_read_csv": ("select * from read_csv('../customers/landing/customers/*.csv')",
                      "door_read_csv: its compiled SQL reads files or a relation named in a string with read_csv()"),
    "door_attach": ("{{ config(pre_hook=\"attach '../../.mesh/duckdb/customers.duckdb' as crm (read_only)\") }}\n"
                    "select email from {{ ref('customers', 'dim_customers', v=2) }}",
                    "door_attach: a statement it runs (a hook, run_query) runs ATTACH"),
    "door_hook_copy": ("{{ config(pre_hook='create table main.door_copy as select * from '\n"
                       "                     ~ 'customers.mesh_protected.marts__dim_customers_v2') }}\nselect 1 as a",
                       "door_hook_copy: a statement it runs (a hook, run_query) reads "
                       "customers.mesh_protected.marts__dim_customers_v2"),
    "door_set_roles": ("{{ config(pre_hook=\"set variable mesh_roles = ['PII_READER', 'ALL_REGIONS']\") }}\n"
                       "select email, region from {{ ref('customers', 'dim_customers', v=2) }}",
                       "door_set_roles: a statement it runs (a hook, run_query) runs SET"),
    "door_run_query": ("{% if execute %}{% do run_query(\"set variable mesh_roles = ['PII_READER']\") %}{% endif %}\n"
                       "select email from {{ ref('customers', 'dim_customers', v=2) }}",
                       "door_run_query: a statement it runs (a hook, run_query) runs SET"),
    # audit of #26: a SELECT run from a string; the emulated role grants and context function rewritten by a hook
    "door_json_sql": ("select * from json_execute_serialized_sql(json_serialize_sql("
                      "'select email from customers.mesh_protected.marts__dim_customers_v2'))",
                      "door_json_sql: its compiled SQL calls the table function json_execute_serialized_sql()"),
    "door_role_grant": ("{{ config(pre_hook=\"insert into governance.mesh_role_grants values "
                        "('ALL_REGIONS', 'NA_ANALYST')\") }}\nselect 1 as a",
                        "door_role_grant: a statement it runs (a hook, run_query) writes governance.mesh_role_grants"),
    "door_role_macro": ("{{ config(pre_hook='create or replace macro governance.is_role_in_session(r) as true') }}\n"
                        "select 1 as a",
                        "door_role_macro: a statement it runs (a hook, run_query) writes "
                        "governance.is_role_in_session"),
}
_MACRO = ("{% macro crm_relation() %}{{ return(api.Relation.create(database='custo' ~ 'mers', "
          "schema='mesh_protected', identifier='marts__dim_customers_v2')) }}{% endmacro %}\n")
_SESSION = ("{{ config(materialized='table') }} select current_setting('enable_external_access') as external_access, "
            "current_setting('lock_configuration') as locked, email from {{ ref('customers', 'dim_customers', v=2) }}")


def test_every_side_door_of_the_issue_is_refused_before_anything_lands(built_copy: Path) -> None:
    """A consumer domain with each side door of issue #26 (Jinja-built name, var(), a macro returning the relation,
    read_csv of another domain's landing files, a pre-hook ATTACH, a pre-hook or run_query SET of the emulated
    roles): the file check sees none of them; the build refuses each node in one line naming its file, and none
    lands. A model reading the ref'd product builds, in a session with external access off and its configuration
    locked, and reads masked e-mails as the orders deployer."""
    folder = built_copy / "domains/orders/models/side"
    folder.mkdir()
    for name, (sql, _) in SIDE_DOORS.items():
        (folder / f"{name}.sql").write_text(sql)
    (folder / "session_settings.sql").write_text(_SESSION)
    (built_copy / "domains/orders/macros").mkdir(exist_ok=True)
    (built_copy / "domains/orders/macros/crm.sql").write_text(_MACRO)
    domains = discover_domains(load_config(built_copy))
    assert find_side_doors(domains["orders"], domains) == []      # the pattern check misses them all

    report = run_build(built_copy, "orders", publish=False)

    [orders] = report.results
    failures = {line.split(":")[0].removeprefix("model.orders."): line for line in orders.failures}
    assert sorted(failures) == sorted(SIDE_DOORS)
    for name, (_, refused) in SIDE_DOORS.items():
        assert f"models/side/{name}.sql: " in failures[name] and refused in failures[name], failures[name]
        assert "\n" not in failures[name]
    with duckdb.connect(str(built_copy / ".mesh/duckdb/orders.duckdb"), read_only=True) as connection:
        landed = {row[0] for row in connection.execute(
            "select table_name from information_schema.tables where table_name like 'door%'").fetchall()}
        session = connection.execute("select distinct external_access, locked, email like '*****@%' "
                                     "from main.session_settings").fetchall()
        granted = connection.execute("select count(*) from governance.mesh_role_grants "
                                     "where granted_to = 'NA_ANALYST' and role_name = 'ALL_REGIONS'").fetchall()
        context = connection.execute("select macro_definition from duckdb_functions() "
                                     "where function_name = 'is_role_in_session'").fetchall()
    assert landed == set()
    assert granted == [(0,)] and all("mesh_roles" in str(row[0]) for row in context), (granted, context)
    assert session == [(False, True, True)]


def test_run_time_statements_are_judged_in_a_domain_run_only() -> None:
    """In a mesh domain's run every statement outside the judged SQL is judged (a seed's own COPY FROM excepted);
    another project's run (the package's integration_tests set roles in hooks) is not, even in the same process."""
    setting = "set variable mesh_roles = ['PII_READER']"
    seed = "COPY \"orders\".\"main\".\"raw_orders\" FROM '/mesh/domains/orders/seeds/raw_orders.csv' (FORMAT CSV)"
    try:
        start_run(guarded=True)
        assert statement_refusal(setting, "model.orders.x", DUCKDB) == (
            "dbt run: a statement it runs (a hook, run_query) runs SET, which changes the session or touches files "
            "around the governance policies; remove it (files come in through `mesh ingest`, session settings "
            "belong to the profile)")
        assert statement_refusal(seed, "seed.orders.raw_orders", DUCKDB) is None
        assert statement_refusal(seed.replace(" FROM ", " TO "), "seed.orders.raw_orders", DUCKDB) is not None
        assert statement_refusal(seed, "model.orders.x", DUCKDB) is not None
        # a `dbt seed` compiling no node: the seed writes the table its unique_id names, and no other
        table = 'create table "orders"."main"."{}" ("id" integer)'
        assert statement_refusal(table.format("raw_orders"), "seed.orders.raw_orders", DUCKDB) is None
        assert "writes orders.main.other, which its node does not build" in str(
            statement_refusal(table.format("other"), "seed.orders.raw_orders", DUCKDB))
        start_run(guarded=False)
        assert statement_refusal(setting, "model.orders.x", DUCKDB) is None
    finally:
        start_run(guarded=True)


def _dbt_objects(code: str) -> tuple[SimpleNamespace, SimpleNamespace, SimpleNamespace]:
    """dbt's config, manifest and a node as the compiler hands them (only the attributes the guard reads): orders
    attaches customers (one public product injected) and a raw database holding a source it declares."""
    credentials = SimpleNamespace(database="orders", type="duckdb", attach=[
        SimpleNamespace(alias="customers", path="customers.duckdb"), SimpleNamespace(alias=None, path="/x/raw.duckdb")])
    product = SimpleNamespace(package_name="customers", name="dim_customers", database="customers", schema="marts",
                              alias="dim_customers_v2", access="public")
    events = SimpleNamespace(database="raw", schema="main", identifier="events")
    manifest = SimpleNamespace(nodes={"model.customers.dim_customers.v2": product},
                               sources={"source.orders.raw.events": events})
    node = SimpleNamespace(unique_id="model.orders.m", name="m", original_file_path="models/m.sql", language="sql",
                           compiled_code=code, depends_on=SimpleNamespace(
                               nodes=["model.customers.dim_customers.v2", "source.orders.raw.events"]))
    return SimpleNamespace(credentials=credentials, project_name="orders"), manifest, node


def test_a_node_reads_its_refs_and_declared_sources_and_nothing_else_outside_its_database() -> None:
    config, manifest, node = _dbt_objects('select * from "customers"."marts"."dim_customers_v2" join '
                                          '"raw"."main"."events" using (id)')
    start_run(guarded=True)
    check_node(config, manifest=manifest, node=node)
    for code, refused in [("select * from customers.staging.stg_customers", "reads customers.staging.stg_customers "
                           "of domain customers directly"),
                          ("select * from raw.main.other", "reads raw.main.other")]:
        node.compiled_code = code
        with pytest.raises(MeshError) as error:
            check_node(config, node, manifest)
        assert str(error.value).startswith(f"models/m.sql: m: its compiled SQL {refused}")


def test_on_snowflake_only_the_relation_rule_applies() -> None:
    """Snowflake's own grants decide session statements and stages there; another domain's database is still refused
    (a consumer reads it only through what is granted to it)."""
    snowflake = scope_of("ORDERS", ["CUSTOMERS"], {"CUSTOMERS": ("dim_customers",)}, {"CUSTOMERS": "customers"},
                         [], dialect=SnowflakeEngine.sqlglot_dialect, emulated=SnowflakeEngine.emulates_governance)
    assert refusal("use warehouse ORDERS_WH", snowflake) is None
    assert refusal("select * from @landing/customers.csv", snowflake) is None
    assert "reads CUSTOMERS.STAGING.STG_CUSTOMERS of domain customers" in str(
        refusal("select * from CUSTOMERS.STAGING.STG_CUSTOMERS", snowflake))


def test_every_domain_run_installs_the_statement_guard(mesh_copy: Path, tmp_path: Path) -> None:
    """The dbt plugin installs the guard for a domain (a folder with domain.yml) whatever its profile loads, so a
    profile without the roles plugin cannot set `mesh_roles` in a hook; another project runs unjudged."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    setting = "set variable mesh_roles = ['PII_READER']"
    try:
        install(tmp_path)                                       # not a domain
        assert statement_refusal(setting, "model.x.y", DUCKDB) is None
        install(mesh_copy / "domains/orders")
        assert getattr(DuckDBConnectionManager.add_query, "data_mesh_guarded", False)
        assert statement_refusal(setting, "model.orders.y", DUCKDB) is not None
    finally:
        start_run(guarded=True)
