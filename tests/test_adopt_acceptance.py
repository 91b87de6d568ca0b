"""Acceptance: three dbt meshes written the way teams write them today build, check, publish and catalogue with
`mesh` after `mesh init mesh --adopt ... --apply`, with no hand edit (tests/fixtures/adopt/*/README.md).
Each fixture is adopted and built once for the module; the tests read what that left behind."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner, Result
from conftest import run_cli

from mesh_cli.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "adopt"


@dataclass
class Adopted:
    """A fixture copied into a repository, adopted with --apply, built (publishing) and checked."""

    root: Path
    projects: tuple[str, ...]
    adopt: Result
    again: Result
    files_after_adopt: dict[str, bytes]
    build: Result
    check: Result


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".mesh" not in p.parts and "target" not in p.parts and "logs" not in p.parts}


def _as_written(folder: Path) -> dict[str, object]:
    """The files of a folder, YAML read without the `secure: true` that `--apply` may add to a shared view."""
    def unsecured(value: object) -> object:
        if isinstance(value, dict):
            return {k: unsecured(v) for k, v in value.items() if k != "secure" and v != {"secure": True}}
        return [unsecured(v) for v in value] if isinstance(value, list) else value
    return {name: unsecured(yaml.safe_load(data)) if name.endswith(".yml") else data
            for name, data in _files(folder).items()}


def _adopt(root: Path, projects: tuple[str, ...]) -> Result:
    args = ["init", "mesh", str(root), "--apply"] + [a for p in projects for a in ("--adopt", str(root / p))]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _adopted(tmp: Path, fixture: str, projects: tuple[str, ...]) -> Adopted:
    root = tmp / "repo"
    shutil.copytree(FIXTURES / fixture, root)
    first = _adopt(root, projects)
    after = _files(root)
    again = _adopt(root, projects)
    build = run_cli(root, "build", "--json")
    return Adopted(root, projects, first, again, after, build, run_cli(root, "check"))


@pytest.fixture(scope="module")
def loom_pair(tmp_path_factory: pytest.TempPathFactory) -> Adopted:
    return _adopted(tmp_path_factory.mktemp("loom"), "loom_pair", ("platform", "growth"))


@pytest.fixture(scope="module")
def diamond(tmp_path_factory: pytest.TempPathFactory) -> Adopted:
    return _adopted(tmp_path_factory.mktemp("diamond"), "warehouse_diamond", ("ledger", "billing", "reporting"))


@pytest.fixture(scope="module")
def snowflake_mesh(tmp_path_factory: pytest.TempPathFactory) -> Adopted:
    return _adopted(tmp_path_factory.mktemp("snowflake"), "snowflake_mesh", ("stores", "sales", "forecast"))


def _rows(root: Path, domain: str, sql: str) -> list[tuple]:
    """Rows of `sql` in the domain's database, its upstreams' attached (a view reads them)."""
    folder = root / ".mesh/duckdb"
    with duckdb.connect(str(folder / f"{domain}.duckdb"), read_only=True) as connection:
        for other in sorted(folder.glob("*.duckdb")):
            if other.stem != domain:
                connection.execute(f"attach '{other}' as {other.stem} (read_only)")
        return connection.execute(sql).fetchall()


def _assert_adopted_with_no_hand_edit(adopted: Adopted, fixture: str) -> dict:
    assert adopted.adopt.exit_code == 0, adopted.adopt.output
    assert "stand in the way" not in adopted.adopt.output          # --apply fixed everything it reported
    assert adopted.again.exit_code == 0 and "fixed:" not in adopted.again.output   # idempotent
    assert _files(adopted.root) == adopted.files_after_adopt
    for project in adopted.projects:                                # model SQL and contracts as they were
        for folder in ("models", "seeds"):
            if (FIXTURES / fixture / project / folder).is_dir():
                written = FIXTURES / fixture / project / folder
                assert _as_written(adopted.root / project / folder) == _as_written(written)
    assert adopted.build.exit_code == 0, adopted.build.output
    report = json.loads(adopted.build.output[adopted.build.output.index("{"):])
    assert [d["status"] for d in report["domains"]] == ["success"] * len(adopted.projects)
    assert report["published"] and all(p["error"] is None for p in report["published"]), report["published"]
    assert adopted.check.exit_code == 0, adopted.check.output
    catalog = run_cli(adopted.root, "catalog", "--out", str(adopted.root / "site"))
    assert catalog.exit_code == 0, catalog.output
    assert (adopted.root / "site/index.html").is_file()
    return report


def test_a_dbt_loom_pair(loom_pair: Adopted) -> None:
    report = _assert_adopted_with_no_hand_edit(loom_pair, "loom_pair")
    assert "dbt-loom manifest core_platform_prod -> project platform" in loom_pair.adopt.output
    assert yaml.safe_load((loom_pair.root / "growth/dependencies.yml").read_text()) == {
        "projects": [{"name": "platform"}]}
    # platform's optional dbt-loom back-link to growth is read by no ref: no dependency, no cycle, no attach
    assert not (loom_pair.root / "platform/dependencies.yml").exists()
    assert "platform: its dbt-loom config reads growth's manifest, but no ref of platform reads growth: not made a " \
        "dependency" in " ".join(loom_pair.adopt.output.split())
    assert "next: mesh build" in loom_pair.adopt.output
    # unqualified refs to a public model and a public seed, read across projects
    assert _rows(loom_pair.root, "growth", "select * from main.accounts_by_country order by 1") == [
        ("Finland", 1), ("United Kingdom", 1), ("United States", 1)]
    # the cross-project relationships test ran, and none was dropped
    growth = next(d for d in report["domains"] if d["domain"] == "growth")
    assert growth["counts"].get("test:pass") == 1 and growth["unrunnable_tests"] == []
    # impact follows the unqualified ref to a version past its deprecation date: a warning, not an error
    assert "growth.legacy_account_names refs platform.dim_accounts.v1, whose deprecation date passed" in \
        " ".join(loom_pair.check.output.split())
    # the public seed exports a valid ODCS contract though its columns have no data_type
    exported = run_cli(loom_pair.root, "export", "odcs", "platform.country_codes")
    assert exported.exit_code == 0, exported.output
    assert "logicalType: object" in exported.output


def test_a_diamond_written_for_other_warehouses(diamond: Adopted) -> None:
    _assert_adopted_with_no_hand_edit(diamond, "warehouse_diamond")
    output = " ".join(diamond.adopt.output.split())
    assert "target 'dev' of profile 'billing' is teradata" in output
    assert "source landing.journal_lines (models/_sources.yml) reads the project's own seed journal_lines" in output
    profile = yaml.safe_load((diamond.root / "billing/profiles.yml").read_text())["billing"]["outputs"]
    assert profile["dev"]["type"] == "teradata" and profile["local"]["type"] == "duckdb"   # kept apart
    assert "default_target: local" in (diamond.root / "mesh.yml").read_text()
    assert _rows(diamond.root, "reporting", "select * from main.monthly_summary order by 1") == [
        (date(2024, 5, 1), Decimal("200.00"), 3)]   # every May line, revenue from account 4000
    # the profile of a profiles.yml holding two gets the local output; the other profile is as written
    profiles = yaml.safe_load((diamond.root / "reporting/profiles.yml").read_text())
    assert sorted(profiles["reporting"]["outputs"]) == ["dev", "local"]
    assert profiles["reporting_sandbox"] == yaml.safe_load(
        (FIXTURES / "warehouse_diamond/reporting/profiles.yml").read_text())["reporting_sandbox"]
    # the view reporting reads is made secure in its YAML, and shared
    billing = yaml.safe_load((diamond.root / "billing/models/_models.yml").read_text())["models"][0]
    assert billing["config"] == {"secure": True, "contract": {"enforced": True}}
    assert "revenue_by_month" in yaml.safe_load((diamond.root / "billing/domain.yml").read_text())["products"][0][
        "models"]


def test_a_snowflake_mesh_builds_its_snowflake_sql_types_and_snowpark_model_locally(snowflake_mesh: Adopted) -> None:
    _assert_adopted_with_no_hand_edit(snowflake_mesh, "snowflake_mesh")
    output = " ".join(snowflake_mesh.adopt.output.split())
    assert "target 'dev' of profile 'stores' is snowflake" in output
    assert "cannot be created by the local engine" not in output      # NUMBER, VARIANT, TIMESTAMP_NTZ read locally
    mesh = yaml.safe_load((snowflake_mesh.root / "mesh.yml").read_text())
    assert mesh["sql"] == {"dialect": "snowflake"} and mesh["mesh"]["default_target"] == "local"
    for project in snowflake_mesh.projects:              # no dispatch, no package: dbt_project.yml as written
        assert (snowflake_mesh.root / project / "dbt_project.yml").read_bytes() == \
            (FIXTURES / "snowflake_mesh" / project / "dbt_project.yml").read_bytes()
        assert not (snowflake_mesh.root / project / "packages.yml").exists()
        profile = yaml.safe_load((snowflake_mesh.root / project / "profiles.yml").read_text())[project]["outputs"]
        assert profile["dev"]["type"] == "snowflake" and profile["local"]["type"] == "duckdb"
    assert sorted(p.name for p in (snowflake_mesh.root / ".mesh/duckdb").glob("*.duckdb")) == [
        "forecast.duckdb", "sales.duckdb", "stores.duckdb"]
    root = snowflake_mesh.root
    # the plugin lends data_mesh's macros on DuckDB, not its platform models
    assert _rows(root, "stores", "select count(*) from information_schema.tables where table_catalog = 'stores' "
                 "and table_name = 'mesh_entitlements'") == [(0,)]
    # IFF of a 'Y'/'N' flag, `::` casts, PARSE_JSON with a `:` path; the contract holds with Snowflake's types
    assert _rows(root, "stores", "select store_id, region, is_open, manager, attributes->>'sqm', opened_on "
                 "from main.dim_stores where store_id in (10, 40) order by 1") == [
        (10, "NORTH", True, "Ada", "120", date(2021, 4, 1)), (40, "NORTH", True, "Alan", "95", date(2024, 6, 1))]
    assert _rows(root, "stores", "select data_type from information_schema.columns where table_name = "
                 "'dim_stores' and table_catalog = 'stores' and column_name in ('store_id', 'attributes', 'opened_at') "
                 "order by column_name") == [
        ("JSON",), ("TIMESTAMP",), ("BIGINT",)]           # NUMBER(38,0), VARIANT, TIMESTAMP_NTZ as DuckDB spells them
    # NVL over a missing amount, DATEDIFF in days, NUMBER(12,2) sums
    receipts = {10: ["19.90", "5.10"], 20: ["42.00", None], 30: ["7.50"], 40: ["12.25"]}
    revenue = {store: sum(Decimal(a or "0") for a in amounts) for store, amounts in receipts.items()}
    opened = {10: date(2021, 4, 1), 20: date(2022, 9, 15), 30: date(2019, 1, 10), 40: date(2024, 6, 1)}
    sold = {10: date(2024, 7, 1), 20: date(2024, 7, 2), 30: date(2024, 7, 3), 40: date(2024, 7, 3)}
    assert _rows(root, "sales", "select store_id, revenue, receipts, days_open from main.fct_daily_sales "
                 "order by 1") == [(s, revenue[s], len(receipts[s]), (sold[s] - opened[s]).days) for s in sorted(sold)]
    # AVG and `/ 100.0` of NUMBERs are NUMBERs, typed and scaled as on Snowflake: their NUMBER contracts hold
    averages = {s: sum(Decimal(a) for a in amounts if a) / len([a for a in amounts if a])
                for s, amounts in receipts.items()}
    assert _rows(root, "sales", "select store_id, avg_receipt, revenue_hundreds from main.fct_daily_sales "
                 "order by 1") == [(s, averages[s], (revenue[s] / 100).quantize(Decimal("0.01"))) for s in sorted(sold)]
    # the seed typed for Snowflake (`+column_types` in dbt_project.yml) has those types as DuckDB spells them
    assert _rows(root, "sales", "select column_name, data_type from information_schema.columns where table_name = "
                 "'till_receipts' and table_catalog = 'sales' order by ordinal_position") == [
        ("receipt_id", "BIGINT"), ("store_id", "BIGINT"), ("sold_on", "TIMESTAMP"), ("amount", "DECIMAL(12,2)")]
    assert _rows(root, "sales", "select data_type from information_schema.columns where table_catalog = 'sales' and "
                 "table_name = 'fct_daily_sales' and column_name = 'avg_receipt'") == [("DECIMAL(38,8)",)]
    # a seed made public in dbt_project.yml (`seeds: {stores: {region_names: {+access: public}}}`) is shared
    product = yaml.safe_load((root / "stores/domain.yml").read_text())["products"][0]
    assert product["models"] == ["dim_stores", "region_names"]
    # the Snowpark Python model, run on Snowpark's local testing session
    assert _rows(root, "sales", "select store_id, revenue, tier from main.store_scores order by 1") == [
        (s, revenue[s], "high" if revenue[s] >= 20 else "low") for s in sorted(sold)]
    # LISTAGG ... WITHIN GROUP and DATEADD over the open stores (30 is closed); QUALIFY keeps each region's best day
    north = (10, 40)
    assert _rows(root, "forecast", "select * from main.region_outlook order by 1") == [
        ("NORTH", sum(revenue[s] for s in north), 2, "10,40", date(2024, 7, 10), "Northern stores"),
        ("SOUTH", revenue[20], 1, "20", date(2024, 7, 9), "Southern stores")]
    assert _rows(root, "forecast", "select region, store_id, sold_on from main.best_day order by 1") == [
        ("NORTH", 10, date(2024, 7, 1)), ("SOUTH", 20, date(2024, 7, 2))]
    assert "public-owner: warning" in (root / "mesh.yml").read_text()   # governance rules start as warnings
    assert "warning  public-owner" in snowflake_mesh.check.output


def test_a_snowflake_contract_that_fails_on_snowflake_fails_the_adopted_build(snowflake_mesh: Adopted,
                                                                              tmp_path: Path) -> None:
    """A VARCHAR column declared NUMBER(38,0) fails dbt's contract check on Snowflake (type FIXED vs TEXT), so
    the adopted build fails it locally too, naming the column."""
    root = tmp_path / "repo"
    shutil.copytree(snowflake_mesh.root, root, ignore=shutil.ignore_patterns(".mesh", "target", "logs"))
    models = root / "stores/models/_models.yml"
    text = models.read_text()
    models.write_text(text.replace("      - name: store_name\n        data_type: varchar",
                                   "      - name: store_name\n        data_type: number(38,0)"))
    assert models.read_text() != text
    build = run_cli(root, "build", "stores", "--no-publish")
    assert build.exit_code != 0
    assert "data type mismatch" in build.output and "store_name" in build.output, build.output
    assert "number(38,0)" in build.output.lower()
