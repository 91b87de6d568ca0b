"""What `mesh init mesh --adopt` predicts before any build (no dbt runs here): blockers that fail a whole project,
dbt-loom habits, idempotent re-runs; and the dbt-loom parity helpers of the resolver and the build."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from mesh_cli.core.domains import load_domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.manifest import ModelInfo, unrunnable_tests
from mesh_cli.core.refs import ModelRef
from mesh_cli.plugin.resolver import unqualified_refs
from mesh_cli.scaffold.adopt import Adoption, adopt

FIXTURES = Path(__file__).parent / "fixtures" / "adopt"


@pytest.fixture
def pair(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "loom_pair", root)
    return root


def _adopt(root: Path, apply: bool = False) -> Adoption:
    return adopt(root, [root / "platform", root / "growth"], apply=apply)


def _said(adoption: Adoption) -> str:
    return "\n".join(f"{f.project}: {f.problem} | {f.fix}" for f in adoption.findings)


def test_a_single_quoted_env_var_and_filters_still_read_the_target(pair: Path) -> None:
    (pair / "platform/profiles.yml").write_text(
        "platform:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: /abs/platform.duckdb\n"
        "      schema: '{{ env_var(''PLATFORM_SCHEMA'', ''main'') }}'\n"
        "      threads: \"{{ env_var('THREADS', 4) | as_number }}\"\n")
    assert "has no target" not in _said(_adopt(pair))


def test_refs_that_only_relaxed_access_allows_are_named_with_the_fix(pair: Path) -> None:
    (pair / "growth/models/raw_names.sql").write_text("select account_name from {{ ref('stg_accounts') }}\n")
    said = _said(_adopt(pair))
    assert ("growth: ref to platform.stg_accounts (models/raw_names.sql) relies on dbt-loom's relaxed access: "
            "stg_accounts is protected in platform | give stg_accounts `access: public` in its YAML") in said


def test_a_view_read_by_another_project_is_left_out_of_the_product_with_the_fix(pair: Path) -> None:
    project = pair / "platform/dbt_project.yml"
    project.write_text(project.read_text().replace("+materialized: table", "+materialized: view"))
    adoption = _adopt(pair)
    assert "dim_accounts is a view that growth reads; shared views must be secure" in _said(adoption)
    product = yaml.safe_load((pair / "platform/domain.yml").read_text())["products"][0]
    assert product["models"] == ["country_codes"]
    marts = pair / "platform/models/marts/_marts.yml"
    marts.write_text(marts.read_text().replace("      contract: {enforced: true}\n",
                                               "      contract: {enforced: true}\n      secure: true\n", 1))
    again = _adopt(pair)
    assert "is a view that" not in _said(again)
    assert yaml.safe_load((pair / "platform/domain.yml").read_text())["products"][0]["models"] == [
        "country_codes", "dim_accounts"]


def test_hub_packages_nested_in_vendored_packages_are_predicted(pair: Path) -> None:
    vendored = pair / "vendor/date_helpers"
    vendored.mkdir(parents=True)
    (vendored / "dbt_project.yml").write_text("name: date_helpers\nversion: '1.0.0'\nconfig-version: 2\n")
    (vendored / "packages.yml").write_text("packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n")
    (pair / "growth/packages.yml").write_text("packages:\n  - local: ../vendor/date_helpers\n")
    said = _said(_adopt(pair))
    assert "vendored package date_helpers installs hub package dbt-labs/dbt_utils" in said
    assert ("vendor dbt-labs/dbt_utils too and install it with `local: <its folder, relative to "
            f"{(pair / 'growth').resolve()}>`") in said
    assert "dbt resolves a vendored package's `local:` paths from the consuming project's folder" in said


def test_apply_is_idempotent_and_never_touches_models(pair: Path) -> None:
    models = {p: p.read_bytes() for p in sorted(pair.rglob("*")) if p.is_file() and "models" in p.parts}
    first = _adopt(pair, apply=True)
    assert first.applied and not first.findings
    assert all(f.safe for f in first.applied)
    profiles = (pair / "growth/profiles.yml").read_text()
    second = _adopt(pair, apply=True)
    assert second.applied == [] and second.findings == []
    assert (pair / "growth/profiles.yml").read_text() == profiles
    assert {p: p.read_bytes() for p in models} == models
    mesh = yaml.safe_load((pair / "mesh.yml").read_text())
    assert mesh["check"]["rules"]["public-contract-enforced"] == "warning"


def test_without_apply_nothing_but_the_adoption_files_changes(pair: Path) -> None:
    before = {p: p.read_bytes() for p in sorted(pair.rglob("*")) if p.is_file()}
    adoption = _adopt(pair)
    assert any("dependencies.yml" in f.problem and f.safe for f in adoption.findings)
    assert not (pair / "growth/dependencies.yml").exists()
    assert {p: p.read_bytes() for p in before} == before
    assert _said(_adopt(pair)) == _said(adoption)    # the same report when run again


def test_a_mesh_yml_not_written_by_adoption_is_never_overwritten(pair: Path) -> None:
    (pair / "mesh.yml").write_text("mesh: {name: hand_written}\n")
    with pytest.raises(MeshError, match=r"mesh\.yml already exists"):
        _adopt(pair, apply=True)
    assert (pair / "mesh.yml").read_text() == "mesh: {name: hand_written}\n"


def _model(package: str, name: str) -> ModelInfo:
    return ModelInfo(unique_id=f"model.{package}.{name}", package=package, name=name, version=None,
                     latest_version=None, access="public", database=package, schema="main", alias=name,
                     relation_name=None, deprecation_date=None, description="", group=None,
                     contract_enforced=False, columns={}, depends_on=())


def test_an_unqualified_ref_resolves_to_the_one_upstream_that_publishes_it(tmp_path: Path) -> None:
    project = tmp_path / "growth"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: growth\nversion: '1'\nconfig-version: 2\n")
    (project / "dependencies.yml").write_text("projects:\n  - name: platform\n  - name: billing\n")
    (project / "models/own.sql").write_text("select 1 as x\n")
    domain = load_domain(project)
    published = {"platform": {"accounts": [_model("platform", "accounts")], "own": [_model("platform", "own")]},
                 "billing": {"invoices": [_model("billing", "invoices")], "accounts": []}}
    file = project / "models/x.sql"
    refs = [ModelRef("invoices", None, None, file), ModelRef("own", None, None, file),
            ModelRef("unknown", None, None, file)]
    assert unqualified_refs(domain, refs, lambda name: {k: v for k, v in published[name].items() if v}) == [
        ModelRef("invoices", "billing", None, file)]      # `own` is the project's own model; `unknown`: dbt says
    published["billing"]["accounts"] = [_model("billing", "accounts")]
    with pytest.raises(MeshError, match=r"ref\('accounts'\) in growth is ambiguous: both billing and platform "
                                        r"publish 'accounts'; write ref\('billing', 'accounts'\) or "
                                        r"ref\('platform', 'accounts'\)"):
        unqualified_refs(domain, [ModelRef("accounts", None, None, file)],
                         lambda name: {k: v for k, v in published[name].items() if v})


def test_an_unqualified_ref_to_a_protected_upstream_model_says_protected_not_not_found(tmp_path: Path) -> None:
    project = tmp_path / "growth"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: growth\nversion: '1'\nconfig-version: 2\n")
    (project / "dependencies.yml").write_text("projects:\n  - name: platform\n")
    file = project / "models/_tests.yml"    # a relationships test's `to: ref('stg_accounts')`
    hidden = {"stg_accounts": [replace(_model("platform", "stg_accounts"), access="protected")]}
    with pytest.raises(MeshError, match=r"ref\('stg_accounts'\) in growth: platform.stg_accounts is protected to "
                                        r"platform; only public models can be referenced from another domain: give "
                                        r"it `access: public` in platform, or ref a public model"):
        unqualified_refs(load_domain(project), [ModelRef("stg_accounts", None, None, file)], lambda name: hidden)
    assert unqualified_refs(load_domain(project), [ModelRef("nowhere", None, None, file)], lambda name: hidden) == []


def test_a_test_dbt_disabled_for_a_missing_ref_is_reported() -> None:
    def test(name: str, refs: list[str], parents: list[str], enabled: bool) -> dict:
        return {"resource_type": "test", "package_name": "growth", "name": name, "config": {"enabled": enabled},
                "refs": [{"name": r, "package": None} for r in refs], "depends_on": {"nodes": parents}}
    manifest = {"nodes": {
        "a": test("relationships_to_upstream", ["dim_accounts", "orders"], ["model.growth.orders"], False),
        "b": test("switched_off_by_hand", ["orders"], ["model.growth.orders"], False),
        "c": test("runs", ["orders"], ["model.growth.orders"], True),
    }}
    assert unrunnable_tests(manifest, "growth") == ["relationships_to_upstream: ref('dim_accounts') not found"]
