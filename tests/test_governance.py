"""Federated governance: enforced on DuckDB for every role, validated strictly, planned exactly for Snowflake."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from conftest import run_build, run_cli

from mesh_cli.build.run import BuildReport
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.dbt.invoke import DbtCall, DbtJob, run_shared, with_deps
from mesh_cli.engines.duckdb import DuckDBEngine

REGION_ROLES = {"EMEA_ANALYST": "EMEA", "NA_ANALYST": "NA", "APAC_ANALYST": "APAC", "LATAM_ANALYST": "LATAM"}
PUBLIC = {"customers": ["dim_customers_v1", "dim_customers_v2", "dim_regions"],
          "orders": ["fct_orders", "fct_order_lines"],
          "finance": ["revenue_by_region_month", "customer_revenue"]}
ROW_FILTERED = [("customers", "dim_customers_v2"), ("customers", "dim_customers_v1"), ("orders", "fct_orders"),
                ("finance", "revenue_by_region_month"), ("finance", "customer_revenue")]


def connect(root: Path, domain: str, *roles: str) -> duckdb.DuckDBPyConnection:
    config = load_config(root)
    return DuckDBEngine(config, "dev").connect(discover_domains(config)[domain], roles=list(roles))


def clear_counts(root: Path, domain: str, model: str) -> dict[str, int]:
    with connect(root, domain) as connection:
        return dict(connection.execute(
            f'select region, count(*) from mesh_protected."marts__{model}" group by region').fetchall())


@pytest.mark.parametrize(("domain", "model"), ROW_FILTERED)
@pytest.mark.parametrize("role", sorted(REGION_ROLES))
def test_a_regional_role_sees_exactly_its_region(built_mesh: tuple[Path, BuildReport], domain: str, model: str,
                                                 role: str) -> None:
    root, _ = built_mesh
    expected = clear_counts(root, domain, model)[REGION_ROLES[role]]
    with connect(root, domain, role) as connection:
        visible = dict(connection.execute(f"select region, count(*) from marts.{model} group by region").fetchall())
    assert visible == {REGION_ROLES[role]: expected}


def test_no_role_sees_no_row_and_every_region_role_sees_all(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    with connect(root, "customers") as connection:
        assert connection.execute("select count(*) from marts.dim_customers_v2").fetchone() == (0,)
    with connect(root, "customers", "ALL_REGIONS") as connection:
        assert connection.execute("select count(*) from marts.dim_customers_v2").fetchone() == (
            sum(clear_counts(root, "customers", "dim_customers_v2").values()),)


def test_pii_is_masked_without_the_pii_role(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    with connect(root, "customers", "ALL_REGIONS") as connection:
        rows = connection.execute(
            "select v.email, c.email, v.first_name, v.phone, v.birth_date, c.birth_date "
            "from marts.dim_customers_v2 v join mesh_protected.marts__dim_customers_v2 c using (customer_id)"
        ).fetchall()
    assert len(rows) == 2000
    for email, clear_email, first_name, phone, birth_date, clear_birth_date in rows:
        assert email == "*****@" + clear_email.split("@")[1]
        assert first_name == "*****" and phone == "*****"
        assert (birth_date.month, birth_date.day, birth_date.year) == (1, 1, clear_birth_date.year)


def test_pii_reader_and_inherited_roles_see_clear_values(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    query = "select customer_id, email, phone, birth_date, region from {} order by customer_id"
    with connect(root, "customers", "PII_READER", "ALL_REGIONS") as connection:
        clear = connection.execute(query.format("mesh_protected.marts__dim_customers_v2")).fetchall()
        assert connection.execute(query.format("marts.dim_customers_v2")).fetchall() == clear
    # CUSTOMERS_DEPLOYER inherits PII_READER and ALL_REGIONS: both count as in session, as on Snowflake
    with connect(root, "customers", "CUSTOMERS_DEPLOYER") as connection:
        assert connection.execute(query.format("marts.dim_customers_v2")).fetchall() == clear
        roles = connection.execute("select getvariable('mesh_roles')").fetchone()[0]
    assert set(roles) == {"CUSTOMERS_DEPLOYER", "PII_READER", "ALL_REGIONS"}


def test_a_downstream_session_reads_the_upstream_with_its_own_roles(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    with connect(root, "finance", "EMEA_ANALYST") as connection:
        regions = connection.execute(
            "select distinct region, min(email) from customers.marts.dim_customers_v2 group by region").fetchall()
    assert [region for region, _ in regions] == ["EMEA"]
    assert regions[0][1].startswith("*****@")


def test_tags_and_policy_attachments_are_recorded(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    for domain, models in PUBLIC.items():
        with connect(root, domain) as connection:
            tagged = dict(connection.execute(
                "select object_name, tag_value from governance.tag_references "
                "where tag_name = 'data_domain' and domain in ('TABLE', 'VIEW')").fetchall())
            assert tagged == dict.fromkeys(models, domain)
    with connect(root, "customers") as connection:
        masked = set(connection.execute(
            "select ref_entity_name, ref_column_name, policy_name from governance.policy_references "
            "where policy_kind = 'MASKING_POLICY'").fetchall())
        pii = set(connection.execute(
            "select object_name, column_name from governance.tag_references where tag_name = 'pii'").fetchall())
    assert {(entity, column) for entity, column, _ in masked} == pii
    assert ("dim_customers_v2", "email", "mask_email") in masked
    assert ("dim_customers_v1", "full_name", "mask_full") in masked


def test_mesh_query_shows_governance_acting(built_mesh: tuple[Path, BuildReport]) -> None:
    root, _ = built_mesh
    sql = "select region, count(*) as n from marts.dim_customers_v2 group by region order by region"
    result = run_cli(root, "query", "customers", sql, "--role", "APAC_ANALYST", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["roles"] == ["APAC_ANALYST"]
    assert data["rows"] == [{"region": "APAC", "n": clear_counts(root, "customers", "dim_customers_v2")["APAC"]}]


@pytest.mark.parametrize(("args", "message"), [
    (["customers", "delete from marts.dim_regions"], "mesh query runs exactly one read-only SELECT; got DELETE"),
    (["nowhere", "select 1"], "no domain named 'nowhere'"),
    (["customers", "select 1", "--role", "bad-role"], "role name 'bad-role' must be letters"),
])
def test_mesh_query_refuses_bad_input(built_mesh: tuple[Path, BuildReport], args: list[str], message: str) -> None:
    result = run_cli(built_mesh[0], "query", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


CUSTOMERS_MARTS = "domains/customers/models/marts/_marts.yml"
BAD_CONFIGS = [
    (CUSTOMERS_MARTS, "masking: mask_email,", "masking: mask_emial,",
     "column email: masking policy 'mask_emial' is not in the governance library"),
    (CUSTOMERS_MARTS, "masking: mask_email,", "masking: mask_date_to_year,",
     "masking policy mask_date_to_year expects date for argument 1, column email is varchar"),
    (CUSTOMERS_MARTS, "masking: mask_email,", "masking: {policy: mask_email, using: [region]},",
     "masking policy mask_email takes 1 argument(s), it is given 2"),
    (CUSTOMERS_MARTS, "columns: [region]}", "columns: [regio]}",
     "row access column 'regio' is not a column of the model"),
    (CUSTOMERS_MARTS, "columns: [region]}", "columns: [region, country]}",
     "row access policy region_entitlement takes 1 column(s), `columns` names 2"),
    (CUSTOMERS_MARTS, "columns: [region]}", "on: [region]}", "which YAML reads as the boolean true"),
    (CUSTOMERS_MARTS, "row_access: {policy: region_entitlement,", "row_access: {policy: region_access,",
     "row access policy 'region_access' is not in the governance library"),
    (CUSTOMERS_MARTS, "confidentiality: confidential}", "confidentiality: secret}",
     "tag confidentiality = 'secret' is not an allowed value"),
    (CUSTOMERS_MARTS, "tags: {pii: email}", "tags: {piii: email}", "tag 'piii' is not in the governance library"),
    ("domains/customers/dbt_project.yml", "\nmodels:\n",
     "\nvars:\n  data_mesh:\n    masking_policies:\n      mask_email: {args: [{name: val, type: varchar}], "
     "returns: varchar, body: val}\nmodels:\n", "vars.data_mesh.masking_policies.mask_email redefines a central"),
    ("governance.yml", "  mask_null:\n", "  bad name: {}\n  mask_null:\n",
     "governance library: masking_policies name 'bad name' must be lower-case"),
    (CUSTOMERS_MARTS, "contract: {enforced: true}", "contract: {enforced: false}",
     ": is a governed table without an enforced contract, so Snowflake would create it "
     "without its policies; add `contract: {enforced: true}` to its config"),
    ("governance.yml", "tags:\n", "tagz: {}\ntags:\n",
     "governance.yml: unknown setting(s) at the top level: tagz (did you mean `tags`?)"),
]


@pytest.mark.parametrize(("path", "old", "new", "message"), BAD_CONFIGS)
def test_bad_governance_config_stops_the_build_before_any_model(mesh_copy: Path, path: str, old: str, new: str,
                                                                message: str) -> None:
    """The package's own validation (on-run-start), as a plain `dbt build` in the domain meets it; `mesh build`
    refuses most of these before dbt starts (build/validate.py, tests/test_reliability.py)."""
    _edit(mesh_copy / path, old, new)
    domain = discover_domains(load_config(mesh_copy))["customers"]
    engine = DuckDBEngine(load_config(mesh_copy), "dev")
    engine.prepare()
    job = DbtJob(with_deps(domain.path, DbtCall(("build",), domain.path)), engine.domain_env(domain), "duckdb")
    outcome = run_shared(job)
    assert not outcome.ok
    assert message in (outcome.error or ""), outcome.error
    assert not any(key.startswith("model:") for key in outcome.counts)  # on-run-start stopped it: nothing built


def test_a_domain_may_add_its_own_policy(mesh_copy: Path) -> None:
    _edit(mesh_copy / "domains/customers/dbt_project.yml", "\nmodels:\n",
          "\nvars:\n  data_mesh:\n    masking_policies:\n      mask_country:\n"
          "        args: [{name: val, type: varchar}]\n"
          "        returns: varchar\n        body: \"case when is_role_in_session('PII_READER') then val else 'XX' "
          "end\"\nmodels:\n")
    _edit(mesh_copy / CUSTOMERS_MARTS, "      - name: country\n        description: ISO",
          "      - name: country\n        config: {meta: {data_mesh: {masking: mask_country}}}\n"
          "        description: ISO")
    assert run_build(mesh_copy, "customers").ok
    with connect(mesh_copy, "customers", "ALL_REGIONS") as connection:
        assert connection.execute("select distinct country from marts.dim_customers_v2").fetchall() == [("XX",)]


def test_a_plan_before_the_first_build_says_to_build_first(mesh_copy: Path) -> None:
    """finance attaches its upstreams' databases: unbuilt, dbt would stop with DuckDB's `IO Error`."""
    result = run_cli(mesh_copy, "governance", "--plan", "-s", "finance")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {mesh_copy / 'domains/finance'}: governance plan of finance on dev reads "
                             "customers, orders, not built yet; build first with `mesh build -s +finance`\n")
