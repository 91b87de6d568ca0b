"""Static discovery of refs, the basis of cross-domain checks and lean resolution."""

from pathlib import Path

from mesh_cli.core.refs import refs_in_sql, scan_refs

FILE = Path("model.sql")


def test_two_argument_ref_with_version_is_found() -> None:
    refs, dynamic = refs_in_sql("select * from {{ ref('customers', 'dim_customers', v=1) }}", FILE)
    assert [(r.package, r.name, r.version) for r in refs] == [("customers", "dim_customers", "1")]
    assert not dynamic


def test_one_argument_ref_has_no_package() -> None:
    refs, _ = refs_in_sql("select * from {{ ref('stg_orders') }}", FILE)
    assert [(r.package, r.name) for r in refs] == [(None, "stg_orders")]


def test_jinja_control_flow_falls_back_to_literal_refs() -> None:
    sql = "{% if true %}select * from {{ ref(\"orders\", \"fct_orders\", version=2) }}{% endif %}"
    refs, dynamic = refs_in_sql(sql, FILE)
    assert [(r.package, r.name, r.version) for r in refs] == [("orders", "fct_orders", "2")]
    assert not dynamic


def test_ref_with_computed_arguments_is_dynamic() -> None:
    sql = "{% for m in ['a', 'b'] %}select * from {{ ref('orders', m) }}{% endfor %}"
    refs, dynamic = refs_in_sql(sql, FILE)
    assert refs == []
    assert dynamic


def test_scan_reads_yaml_tests_and_marks_dynamic_files(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "a.sql").write_text("select 1 from {{ ref('customers', 'dim_customers') }}")
    (models / "b.sql").write_text("{% set n = 'x' %}select 1 from {{ ref(n) }}")
    (models / "schema.yml").write_text(
        "models:\n  - name: a\n    columns:\n      - name: id\n        data_tests:\n"
        "          - relationships: {to: \"ref('orders', 'fct_orders')\", field: id}\n")
    found = scan_refs([models, tmp_path / "missing"])
    assert {(r.package, r.name) for r in found.refs} == {("customers", "dim_customers"), ("orders", "fct_orders")}
    assert found.dynamic_files == (models / "b.sql",)
    assert [r.name for r in found.refs if r.package == "orders"] == ["fct_orders"]
