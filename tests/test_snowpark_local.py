"""Snowpark Python models on the embedded engine: real dbt, real DuckDB files, Snowpark's local testing session.

The example mesh's finance.customer_scoring is checked against the same logic computed in SQL; a copy of the
built mesh gets probe models (refs' types, dbt.this, dbt.config.get, a masked column) and broken ones (a
contract mismatch, an unsupported operation, a result that is no DataFrame), built in one `mesh build`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from snowflake.snowpark import types as sp

from mesh_cli.build.run import BuildReport
from mesh_cli.core.types import parse_type
from mesh_cli.engines.snowpark_contract import DeclaredColumn, contract_columns
from mesh_cli.engines.snowpark_types import canonical_type, snowpark_ref_type
from tests.conftest import copy_built_mesh, run_build

# finance.customer_scoring, in SQL, from the clear (protected) tables it reads through the governed views:
# every customer with revenue > 0 counts in its region's average; segments against that average.
EXPECTED_SCORING = """
with revenue as (
    select * from finance.mesh_protected.marts__customer_revenue where revenue > 0
), regions as (
    select region, sum(revenue) as region_revenue, count(customer_id) as region_customers
    from revenue group by region
)
select
    c.customer_id, c.region, coalesce(r.order_count, 0) as order_count,
    cast(coalesce(r.revenue, 0) as decimal(14, 2)) as revenue, r.last_order_date,
    case
        when r.revenue * g.region_customers >= 2 * g.region_revenue then 'high'
        when r.revenue * g.region_customers >= 1 * g.region_revenue then 'medium'
        when r.order_count > 0 then 'low'
        else 'none'
    end as segment
from customers.mesh_protected.marts__dim_customers_v2 as c
left join revenue as r on r.customer_id = c.customer_id
left join regions as g on g.region = c.region
"""

PROBE = '''
from snowflake.snowpark import DataFrame


def model(dbt, session):
    dbt.config(materialized="table")
    revenue = dbt.ref("customer_revenue")
    customers = dbt.ref("customers", "dim_customers")
    materialized = dbt.config.get("materialized")
    note = dbt.config.get("meta")["probe_note"]
    kinds = sorted({type(df).__module__ + "." + type(df).__name__ for df in (revenue, customers)})
    return session.create_dataframe(
        [[",".join(kinds), all(isinstance(df, DataFrame) for df in (revenue, customers)), repr(dbt.this),
          dbt.this.identifier, materialized, note, int(revenue.count())]],
        schema=["REF_TYPES", "DATAFRAMES", "THIS", "IDENTIFIER", "MATERIALIZED", "NOTE", "REVENUE_ROWS"],
    )
'''

LABELS = '''
from snowflake.snowpark.functions import col, concat, lit
from snowflake.snowpark.types import StringType


def model(dbt, session):
    customers = dbt.ref("customer_revenue").filter(col("ORDER_COUNT") >= 1)
    return customers.select(col("CUSTOMER_ID"), col("REGION"),
                            concat(lit("customer-"), col("CUSTOMER_ID").cast(StringType())).alias("LABEL"))
'''

WRONG_CONTRACT = '''
from snowflake.snowpark.functions import sum as sum_


def model(dbt, session):
    return dbt.ref("customer_revenue").group_by("REGION").agg(sum_("REVENUE").alias("REVENUE"))
'''

UNSUPPORTED = '''
def model(dbt, session):
    dbt.ref("customer_revenue")
    return session.sql("select 1 as one")
'''

NOT_A_DATAFRAME = '''
def model(dbt, session):
    return dbt.ref("customer_revenue").collect()
'''

PROBE_YAML = """
models:
  - name: snowpark_probe
    config: {access: private, materialized: table, meta: {probe_note: from the yaml}}
  - name: snowpark_labels
    config:
      access: private
      materialized: table
    columns:
      - {name: customer_id, data_type: integer}
      - {name: region, data_type: varchar}
      - {name: label, data_type: varchar}
  - name: snowpark_wrong_contract
    config: {access: private, materialized: table}
    columns:
      - {name: region, data_type: varchar}
      - {name: revenue, data_type: 'decimal(14,2)'}
  - name: snowpark_unsupported
    config: {access: private, materialized: table}
  - name: snowpark_not_a_dataframe
    config: {access: private, materialized: table}
"""

MODELS = {"snowpark_probe": PROBE, "snowpark_labels": LABELS, "snowpark_wrong_contract": WRONG_CONTRACT,
          "snowpark_unsupported": UNSUPPORTED, "snowpark_not_a_dataframe": NOT_A_DATAFRAME}


def _finance(root: Path, roles: list[str]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(root / ".mesh/duckdb/finance.duckdb"), read_only=True)
    connection.execute(f"attach '{root / '.mesh/duckdb/customers.duckdb'}' as customers (read_only)")
    connection.execute("set variable mesh_roles = ?", [roles])
    return connection


@pytest.fixture(scope="module")
def probed_mesh(tmp_path_factory: pytest.TempPathFactory,
                built_mesh: tuple[Path, BuildReport]) -> tuple[Path, BuildReport]:
    """The built example mesh with the probe and broken models added to finance, finance rebuilt once."""
    root = copy_built_mesh(built_mesh[0], tmp_path_factory.mktemp("snowpark") / "mesh")
    folder = root / "domains/finance/models/snowpark"
    folder.mkdir()
    for name, code in MODELS.items():
        (folder / f"{name}.py").write_text(code.lstrip())
    (folder / "_snowpark.yml").write_text(PROBE_YAML)
    return root, run_build(root, "finance")


def test_customer_scoring_rows_are_the_sql_logic(built_mesh: tuple[Path, BuildReport]) -> None:
    root, report = built_mesh
    assert report.ok
    with _finance(root, ["ALL_REGIONS"]) as connection:
        built = connection.execute("select * from marts.customer_scoring order by 1").fetchall()
        expected = connection.execute(f"select * from ({EXPECTED_SCORING}) order by 1").fetchall()
        types = connection.execute("select column_name, data_type from information_schema.columns "
                                   "where table_schema = 'marts' and table_name = 'customer_scoring' "
                                   "order by ordinal_position")
        assert types.fetchall() == [("customer_id", "BIGINT"), ("region", "VARCHAR"), ("order_count", "BIGINT"),
                                    ("revenue", "DECIMAL(14,2)"), ("last_order_date", "DATE"),
                                    ("segment", "VARCHAR")]
    assert len(built) == 2000
    assert built == expected
    assert {row[-1] for row in built} == {"high", "medium", "low", "none"}


def test_refs_arrive_as_snowpark_dataframes_with_this_and_config(probed_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = probed_mesh
    with _finance(root, ["ALL_REGIONS"]) as connection:
        row = connection.execute("select ref_types, dataframes, this, identifier, materialized, note, "
                                 "revenue_rows from main.snowpark_probe").fetchone()
        revenue_rows = connection.execute("select count(*) from marts.customer_revenue").fetchone()[0]
    assert row == ("snowflake.snowpark.table.Table", True, '"finance"."main"."snowpark_probe"', "snowpark_probe",
                   "table", "from the yaml", revenue_rows)


def test_a_governed_snowpark_model_is_refused_before_any_model_builds(
        built_mesh: tuple[Path, BuildReport], tmp_path: Path) -> None:
    """A Python model has no enforced contract (dbt refuses one), so Snowflake would create its table from Snowpark
    without its policies: masking or row access on it is refused on both engines, in one line, nothing built."""
    root = copy_built_mesh(built_mesh[0], tmp_path / "mesh")
    folder = root / "domains/finance/models/snowpark"
    folder.mkdir()
    (folder / "snowpark_labels.py").write_text(LABELS.lstrip())
    (folder / "_snowpark.yml").write_text(
        "version: 2\nmodels:\n  - name: snowpark_labels\n    config:\n      access: private\n"
        "      materialized: table\n      meta:\n"
        "        data_mesh: {row_access: {policy: region_entitlement, columns: [region]}}\n"
        "    columns:\n      - {name: customer_id, data_type: integer}\n      - {name: region, data_type: varchar}\n"
        "      - {name: label, data_type: varchar}\n")
    report = run_build(root, "finance")
    [finance] = report.results
    assert finance.status == "failed" and finance.counts.get("models", 0) == 0
    assert "snowpark_labels: is a governed table without an enforced contract" in (finance.reason or "")


def _failure(report: BuildReport, model: str) -> str:
    [finance] = report.results
    [line] = [failure for failure in finance.failures if failure.startswith(f"model.finance.{model}:")]
    assert "\n" not in line
    return line


def test_contract_mismatch_fails_in_one_line(probed_mesh: tuple[Path, BuildReport]) -> None:
    line = _failure(probed_mesh[1], "snowpark_wrong_contract")
    assert "finance.snowpark_wrong_contract (models/snowpark/snowpark_wrong_contract.py)" in line
    assert "column revenue is NUMBER(26,2), the contract says decimal(14,2) (NUMBER(14,2))" in line
    assert "change the model or the columns' data_type in its YAML" in line
    assert "Traceback" not in line


def test_unsupported_operation_names_model_operation_and_fix(probed_mesh: tuple[Path, BuildReport]) -> None:
    line = _failure(probed_mesh[1], "snowpark_unsupported")
    assert "finance.snowpark_unsupported (models/snowpark/snowpark_unsupported.py:3)" in line
    assert "Snowpark operation `Session.sql` (at `return session.sql(\"select 1 as one\")`)" in line
    assert "is not supported by Snowpark's local testing session" in line
    assert "rewrite it with the operations docs/snowpark.md lists as supported" in line


def test_a_result_that_is_no_dataframe_is_refused(probed_mesh: tuple[Path, BuildReport]) -> None:
    line = _failure(probed_mesh[1], "snowpark_not_a_dataframe")
    assert "the model returned list, not a Snowpark DataFrame" in line


def test_failed_models_leave_no_relation(probed_mesh: tuple[Path, BuildReport]) -> None:
    root, report = probed_mesh
    [finance] = report.results
    assert len(finance.failures) == 3, finance.failures
    with _finance(root, ["ALL_REGIONS"]) as connection:
        tables = {name for (name,) in connection.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'main' and table_name like 'snowpark%'").fetchall()}
    assert tables == {"snowpark_probe", "snowpark_labels"}


def test_plain_dbt_build_in_finance_builds_the_snowpark_model(built_mesh: tuple[Path, BuildReport],
                                                              tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = copy_built_mesh(built_mesh[0], tmp_path / "mesh")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESH_")}
    dbt = str(Path(sys.executable).parent / "dbt")
    for command in (["deps"], ["build", "-s", "customer_scoring"]):
        done = subprocess.run([dbt, *command], cwd=root / "domains/finance", env=env, capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stdout[-3000:]
    assert "OK created python table model marts.customer_scoring" in done.stdout
    assert "UserWarning" not in done.stdout + done.stderr


@pytest.mark.parametrize(("result", "declared", "problem"), [
    ([("CUSTOMER_ID", "number(38,0)")], [("customer_id", "integer")], None),
    ([("NAME", "varchar(4)")], [("name", "varchar")], None),                       # widened: fits
    ([("NAME", "varchar(16777216)")], [("name", "varchar(10)")], "column name is VARCHAR(16777216)"),
    ([("AMOUNT", "number(24,2)")], [("amount", "number(14,2)")], "column amount is NUMBER(24,2)"),
    ([("AMOUNT", "float")], [("amount", "number(14,2)")], "column amount is FLOAT"),
    ([("A", "date")], [("a", "date"), ("b", "date")], "column b is missing from the result"),
    ([("A", "date"), ("B", "date")], [("a", "date")], "column B is not in the contract"),
    ([('"mixed"', "date")], [("mixed", "date")], "column mixed is missing from the result"),  # quoted
])
def test_contract_compares_in_snowflake_terms(result: list[tuple[str, str]], declared: list[tuple[str, str]],
                                              problem: str | None) -> None:
    columns = [DeclaredColumn(name, data_type) for name, data_type in declared]
    typed = [(name, parse_type(data_type)) for name, data_type in result]
    if problem is None:
        assert [column.name for column in contract_columns(columns, typed)] == [n for n, _ in declared]
    else:
        with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
            contract_columns(columns, typed)


def test_undeclared_columns_land_in_lower_case_with_their_own_types() -> None:
    landed = contract_columns([DeclaredColumn("customer_id", None)], [("CUSTOMER_ID", parse_type("int")),
                                                                      ('"Mixed"', parse_type("date"))])
    assert [(column.name, str(column.data_type)) for column in landed] == [("customer_id", "number(38,0)"),
                                                                          ("Mixed", "date")]


def test_types_follow_snowpark_and_snowflake() -> None:
    assert snowpark_ref_type("INTEGER") == sp.LongType()
    assert snowpark_ref_type("DECIMAL(12,2)") == sp.DecimalType(12, 2)
    assert snowpark_ref_type("TIMESTAMP WITH TIME ZONE") == sp.TimestampType(sp.TimestampTimeZone.TZ)
    assert snowpark_ref_type("INTEGER[]") is None
    assert str(canonical_type(sp.LongType())) == "number(38,0)"
    assert str(canonical_type(sp.StringType())) == "varchar(16777216)"
    assert str(canonical_type(sp.DoubleType())) == "float"
    assert str(canonical_type(sp.TimestampType())) == "timestamp_ntz(9)"
