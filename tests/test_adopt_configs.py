"""What adoption reads of a project's config (dbt's precedence over dbt_project.yml, properties YAML and the SQL
file, for models, seeds and snapshots), the edits it makes (`secure: true` on a shared view, the local output in
a profiles.yml holding several profiles) and the bad input it refuses before writing anything (a cycle)."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from mesh_cli.cli import main
from mesh_cli.core.domains import load_domain
from mesh_cli.scaffold.adopt import adopt
from mesh_cli.scaffold.adopt_static import node_configs, secure_edit

PROFILE = """{name}:
  target: dev
  outputs:
    dev:
      type: snowflake
      account: acme
      database: ANALYTICS
      schema: {name}
"""


def _project(root: Path, name: str, files: dict[str, str], project_yml: str = "") -> Path:
    folder = root / name
    for path, text in {"dbt_project.yml": f"name: {name}\nversion: '1'\nconfig-version: 2\nprofile: {name}\n"
                       + project_yml, "profiles.yml": PROFILE.format(name=name), **files}.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    return folder


def test_configs_follow_dbts_precedence_for_every_resource_type(tmp_path: Path) -> None:
    project_yml = """
models:
  +materialized: table
  shop:
    marts:
      +access: public
      orders:
        +materialized: incremental
    staging:
      +group: intake
      +contract: {enforced: true}
seeds:
  shop:
    +access: protected
    countries:
      +access: public
snapshots:
  shop:
    +access: public
"""
    folder = _project(tmp_path, "shop", {
        "models/marts/orders.sql": "select 1 as id",
        "models/marts/customers.sql": "{{ config(materialized='view', access='protected') }}\nselect 1 as id",
        "models/marts/_marts.yml": "version: 2\nmodels:\n  - name: customers\n    access: public\n"
                                   "    config: {secure: true}\n  - name: orders\n    config: {access: private}\n",
        "models/staging/stg_orders.sql": "select 1 as id",
        "models/scores.py": "def model(dbt, session):\n    return dbt.ref('orders')\n",
        "seeds/countries.csv": "code\nFI\n", "seeds/currencies.csv": "code\nEUR\n",
        "snapshots/orders_snapshot.sql": "{% snapshot orders_snapshot %}select 1 as id{% endsnapshot %}",
    }, project_yml)
    configs = node_configs(load_domain(folder))
    orders, customers, staging = configs["orders"], configs["customers"], configs["stg_orders"]
    assert (orders.materialized, orders.access) == ("incremental", "private")   # YAML over dbt_project.yml
    assert (customers.materialized, customers.access, customers.secure) == ("view", "protected", True)  # SQL over YAML
    assert (staging.materialized, staging.access, staging.group, staging.contract) == ("table", "protected",
                                                                                       "intake", True)
    assert configs["scores"].materialized == "table"        # a Python model is never a view
    assert (configs["countries"].kind, configs["countries"].access) == ("seed", "public")   # `seeds:` is read
    assert configs["currencies"].access == "protected"
    assert (configs["orders_snapshot"].kind, configs["orders_snapshot"].access) == ("snapshot", "public")


def test_a_seed_made_public_in_dbt_project_yml_is_shared(tmp_path: Path) -> None:
    _project(tmp_path, "ref_data", {"seeds/countries.csv": "code\nFI\n"},
             "seeds:\n  ref_data:\n    countries:\n      +access: public\n")
    _project(tmp_path, "sales", {"models/by_country.sql": "select * from {{ ref('ref_data', 'countries') }}",
                                 "dependencies.yml": "projects:\n  - name: ref_data\n"})
    adoption = adopt(tmp_path, [tmp_path / "ref_data", tmp_path / "sales"])
    products = yaml.safe_load((tmp_path / "ref_data/domain.yml").read_text())["products"]
    assert products[0]["models"] == ["countries"]
    assert not [f for f in adoption.findings if "relaxed access" in f.problem]


def test_a_cycle_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    _project(tmp_path, "alpha", {"models/a.sql": "select * from {{ ref('beta', 'b') }}",
                                 "models/_a.yml": "version: 2\nmodels:\n  - name: a\n    access: public\n",
                                 "dependencies.yml": "projects:\n  - name: beta\n"})
    _project(tmp_path, "beta", {"models/b.sql": "select * from {{ ref('a') }}",
                                "models/_b.yml": "version: 2\nmodels:\n  - name: b\n    access: public\n",
                                "dbt_loom.config.yml": "manifests:\n  - name: alpha\n    type: file\n    config:\n"
                                                       "      path: ../alpha/target/manifest.json\n"})
    before = sorted(p for p in tmp_path.rglob("*"))
    result = CliRunner().invoke(main, ["init", "mesh", str(tmp_path), "--apply", "--adopt", str(tmp_path / "alpha"),
                                       "--adopt", str(tmp_path / "beta")])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "projects read each other in a cycle" in message, message
    assert "alpha -> beta -> alpha" in message or "beta -> alpha -> beta" in message, message
    assert "nothing was written" in message
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_a_dbt_loom_back_link_no_ref_reads_is_no_dependency(tmp_path: Path) -> None:
    _project(tmp_path, "core", {"models/accounts.sql": "select 1 as id",
                                "models/_m.yml": "version: 2\nmodels:\n  - name: accounts\n    access: public\n",
                                "dbt_loom.config.yml": "manifests:\n  - name: growth\n    type: file\n    config:\n"
                                                       "      path: ../growth/target/manifest.json\n"
                                                       "    optional: true\n"})
    _project(tmp_path, "growth", {"models/g.sql": "select * from {{ ref('accounts') }}",
                                  "dbt_loom.config.yml": "manifests:\n  - name: core\n    type: file\n    config:\n"
                                                         "      path: ../core/target/manifest.json\n"})
    adoption = adopt(tmp_path, [tmp_path / "core", tmp_path / "growth"], apply=True)
    assert not (tmp_path / "core/dependencies.yml").exists()
    assert yaml.safe_load((tmp_path / "growth/dependencies.yml").read_text()) == {"projects": [{"name": "core"}]}
    assert adoption.notes == ["core: its dbt-loom config reads growth's manifest, but no ref of core reads growth: "
                              "not made a dependency"]


def test_secure_is_added_to_a_views_config_in_each_yaml_shape(tmp_path: Path) -> None:
    shapes = {
        "flow": "version: 2\nmodels:\n  - name: v\n    config: {contract: {enforced: true}}\n    columns: []\n",
        "block": "version: 2\nmodels:\n  - name: v\n    description: x\n    config:\n      materialized: view\n"
                 "  - name: w\n",
        "none": "version: 2\nmodels:\n  - name: other\n  - name: v   # the view\n    description: x\n",
    }
    for shape, text in shapes.items():
        folder = _project(tmp_path, f"p_{shape}", {"models/v.sql": "select 1 as id", "models/_m.yml": text})
        edit = secure_edit(load_domain(folder), "v")
        assert edit is not None, shape
        path, old, new = edit
        written = path.read_text().replace(old, new, 1)
        models = {m["name"]: m for m in yaml.safe_load(written)["models"]}
        assert models["v"]["config"]["secure"] is True, (shape, written)
        original = {m["name"]: m for m in yaml.safe_load(text)["models"]}
        assert {k: v for k, v in models["v"]["config"].items() if k != "secure"} == (
            original["v"].get("config") or {}), shape
        assert {n: m for n, m in models.items() if n != "v"} == {n: m for n, m in original.items() if n != "v"}
    folder = _project(tmp_path, "no_yaml", {"models/v.sql": "select 1 as id"})
    assert secure_edit(load_domain(folder), "v") is None


def test_the_local_output_goes_into_the_projects_profile_of_a_file_holding_several(tmp_path: Path) -> None:
    folder = _project(tmp_path, "shop", {"models/m.sql": "select 1 as id"})
    profiles = folder / "profiles.yml"
    other = PROFILE.format(name="shop_sandbox")
    profiles.write_text(other + profiles.read_text() + "\n" + PROFILE.format(name="zeta"))
    adoption = adopt(tmp_path, [folder], apply=True)
    assert adoption.target == "local" and not adoption.findings
    written = yaml.safe_load(profiles.read_text())
    assert sorted(written["shop"]["outputs"]) == ["dev", "local"]
    assert written["shop_sandbox"] == yaml.safe_load(other)["shop_sandbox"]
    assert sorted(written["zeta"]["outputs"]) == ["dev"]


def test_a_vendored_packages_nested_local_path_is_rewritten_from_the_consuming_project(tmp_path: Path) -> None:
    """dbt resolves a vendored package's `local:` paths from the consuming project's folder
    (https://github.com/dbt-labs/dbt-core/issues/5410)."""
    folder = _project(tmp_path, "shop", {"models/m.sql": "select 1 as id",
                                         "packages.yml": "packages:\n  - local: ../vendor/helpers\n"})
    for name, packages in (("helpers", "packages:\n  - local: ../dates\n  - package: calogica/dbt_date\n"),
                           ("dates", None)):
        package = tmp_path / "vendor" / name
        package.mkdir(parents=True)
        (package / "dbt_project.yml").write_text(f"name: {name}\nversion: '1.0.0'\nconfig-version: 2\n")
        if packages:
            (package / "packages.yml").write_text(packages)
    nested = tmp_path / "vendor/helpers/packages.yml"
    reported = adopt(tmp_path, [folder])
    problems = {f.problem: f for f in reported.findings}
    path_finding = next(f for p, f in problems.items() if "installs `local: ../dates`" in p)
    assert path_finding.safe and path_finding.fix == (
        f"write `local: ../vendor/dates` (relative to {folder.resolve()}) in {nested.resolve()}")
    hub = next(f for p, f in problems.items() if "calogica/dbt_date" in p)
    assert "relative to" in hub.fix and "from the consuming project's folder" in hub.fix
    applied = adopt(tmp_path, [folder], apply=True)
    assert path_finding.problem in {f.problem for f in applied.applied}
    assert yaml.safe_load(nested.read_text())["packages"][0] == {"local": "../vendor/dates"}


def test_a_ref_to_a_private_model_of_an_installed_package_is_foreseen(tmp_path: Path) -> None:
    package = tmp_path / "vendor/core_models"
    (package / "models").mkdir(parents=True)
    (package / "dbt_project.yml").write_text("name: core_models\nversion: '1.0.0'\nconfig-version: 2\n"
                                             "models:\n  core_models:\n    +access: private\n    public_ones:\n"
                                             "      +access: protected\n")
    (package / "models/calendar.sql").write_text("select 1 as d")
    (package / "models/public_ones").mkdir()
    (package / "models/public_ones/fiscal_weeks.sql").write_text("select 1 as w")
    folder = _project(tmp_path, "shop", {
        "models/m.sql": "select * from {{ ref('calendar') }} join {{ ref('core_models', 'fiscal_weeks') }} using (d)",
        "packages.yml": "packages:\n  - local: ../vendor/core_models\n"})
    said = [f for f in adopt(tmp_path, [folder]).findings if "package core_models" in f.problem]
    assert [f.problem for f in said] == [
        "ref to calendar of package core_models (models/m.sql) relies on dbt-loom's relaxed access: it is private in "
        "core_models (its config), and dbt refuses a ref to a private model from outside its group"]
    assert said[0].fix.startswith("give calendar `+access: protected` in ") and not said[0].safe
