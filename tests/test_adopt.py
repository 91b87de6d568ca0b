"""`mesh init mesh DIR --adopt PATH...` over a two-project dbt mesh written the way dbt users write one today
(dependencies.yml, a dbt-loom config, a seed-fed upstream), and `mesh.domains:` in mesh.yml."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from mesh_cli.cli import main
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.scaffold.adopt import adopt
from tests.conftest import run_build

FIXTURE = Path(__file__).parent / "fixtures" / "adopt"
PROJECTS = ("upstream_proj", "downstream_proj")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository holding the two projects under analytics/, as a team would have it."""
    root = tmp_path / "repo"
    for name in PROJECTS:
        shutil.copytree(FIXTURE / name, root / "analytics" / name)
    return root


def _adopt(root: Path, *names: str) -> object:
    return adopt(root, [root / "analytics" / name for name in names or PROJECTS])


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_cli_writes_mesh_yml_and_reports(repo: Path) -> None:
    result = CliRunner().invoke(main, ["init", "mesh", str(repo), "--adopt", str(repo / "analytics/upstream_proj"),
                                       "--adopt", str(repo / "analytics/downstream_proj")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "dbt-loom manifest customer_platform -> project upstream_proj" in result.output
    assert "3 thing(s) stand in the way" in result.output
    assert "wrote mesh.yml" in result.output and "wrote analytics/upstream_proj/domain.yml" in result.output


def test_adopted_projects_build_with_their_cross_project_refs_and_unedited_models(repo: Path) -> None:
    adoption = _adopt(repo)
    mesh = yaml.safe_load((repo / "mesh.yml").read_text())["mesh"]
    assert mesh["domains"] == ["analytics/downstream_proj", "analytics/upstream_proj"]
    products = yaml.safe_load((repo / "analytics/upstream_proj/domain.yml").read_text())["products"]
    assert products[0]["models"] == ["dim_customers"]
    assert products[0]["consumers"] == {"domains": ["downstream_proj"]}
    assert {f.project for f in adoption.findings} == set(PROJECTS)
    assert all("relative" in f.problem and f.edit for f in adoption.findings)
    for path, old, new in (f.edit for f in adoption.findings if f.edit):   # the reported fixes, as written
        path.write_text(path.read_text().replace(old, new))

    report = run_build(repo)
    assert report.ok, [(r.domain, r.reason, r.failures) for r in report.results]
    with duckdb.connect(str(repo / ".mesh/duckdb/downstream_proj.duckdb"), read_only=True) as connection:
        rows = connection.execute("select * from main.customers_by_country order by 1").fetchall()
    assert rows == [("FI", 1), ("GB", 1), ("US", 1)]
    for name in PROJECTS:   # models, seeds and dbt_project.yml as they were
        for folder in ("models", "seeds"):
            if (FIXTURE / name / folder).is_dir():
                assert _files(repo / "analytics" / name / folder) == _files(FIXTURE / name / folder)
        assert (repo / "analytics" / name / "dbt_project.yml").read_bytes() == (
            FIXTURE / name / "dbt_project.yml").read_bytes()


def test_a_clean_adoption_reports_nothing(repo: Path) -> None:
    for name in PROJECTS:
        profile = repo / "analytics" / name / "profiles.yml"
        text = profile.read_text().replace("path: upstream_proj.duckdb", "path: /abs/upstream_proj.duckdb")
        text = text.replace("path: downstream_proj.duckdb", "path: /abs/downstream_proj.duckdb")
        profile.write_text(text.replace("path: ../upstream_proj/upstream_proj.duckdb",
                                        "path: /abs/upstream_proj.duckdb"))
    adoption = _adopt(repo)
    assert adoption.findings == []
    assert adoption.loom == {"customer_platform": "upstream_proj"}


def _problems(adoption: object, project: str) -> list[str]:
    return [f"{f.problem} | {f.fix}" for f in adoption.findings if f.project == project]  # type: ignore[attr-defined]


def test_what_stands_in_the_way_is_reported_with_its_fix(repo: Path) -> None:
    down = repo / "analytics/downstream_proj"
    up = repo / "analytics/upstream_proj"
    (down / "packages.yml").write_text("packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n"
                                       "  - local: ../upstream_proj\n")
    (down / "profiles.yml").write_text((down / "profiles.yml").read_text().split("      attach:")[0])
    (down / "dependencies.yml").write_text("projects:\n  - name: upstream_proj\n  - name: billing\n")
    (down / "dbt_loom.config.yml").write_text(
        "manifests:\n  - name: customer_platform\n    type: file\n    config: {path: ../upstream_proj/target/"
        "manifest.json}\n  - name: finance\n    type: s3\n    config: {bucket_name: x, object_name: m.json}\n")
    marts = up / "models/marts/_marts.yml"
    marts.write_text(marts.read_text().replace("data_type: varchar\n", "data_type: geography\n", 1))
    adoption = _adopt(repo)
    down_problems = "\n".join(_problems(adoption, "downstream_proj"))
    assert "hub package dbt-labs/dbt_utils" in down_problems
    assert "installs upstream project upstream_proj as a package" in down_problems
    assert "list `- name: upstream_proj` under `projects:`" in down_problems
    assert "does not attach the database of upstream upstream_proj" in down_problems
    assert "attach: [{path: \"{{ env_var('MESH_DUCKDB_DIR', '../upstream_proj') }}/upstream_proj.duckdb\"" \
        in down_problems
    assert "names project 'billing', which is not adopted" in down_problems
    assert "dbt-loom manifest 'finance'" in down_problems
    assert adoption.loom == {"customer_platform": "upstream_proj"}
    up_problems = "\n".join(_problems(adoption, "upstream_proj"))
    assert "contract type 'geography' of dim_customers.customer_name" in up_problems
    assert "build its dev target on Snowflake" in up_problems


@pytest.mark.parametrize("data_type", ["timestamp_ntz", "NUMBER(38, 0)", "variant"])
def test_snowflake_contract_types_make_a_snowflake_mesh_and_are_no_finding(repo: Path, data_type: str) -> None:
    """A type only Snowflake spells marks the projects as written for Snowflake: mesh.yml transpiles their SQL and
    checks contracts by Snowflake's types, so a type with a local spelling stands in nobody's way."""
    marts = repo / "analytics/upstream_proj/models/marts/_marts.yml"
    marts.write_text(marts.read_text().replace("data_type: varchar\n", f"data_type: {data_type}\n", 1))
    adoption = _adopt(repo)
    assert adoption.dialect == "snowflake"  # type: ignore[attr-defined]
    assert yaml.safe_load((repo / "mesh.yml").read_text())["sql"] == {"dialect": "snowflake"}
    assert not [p for p in _problems(adoption, "upstream_proj") if "contract type" in p]


@pytest.mark.parametrize("data_type", ["varchar", "text", "string"])
def test_portable_projects_make_no_snowflake_mesh(repo: Path, data_type: str) -> None:
    marts = repo / "analytics/upstream_proj/models/marts/_marts.yml"
    marts.write_text(marts.read_text().replace("data_type: varchar\n", f"data_type: {data_type}\n", 1))
    adoption = _adopt(repo)
    assert adoption.dialect is None  # type: ignore[attr-defined]
    assert "sql" not in yaml.safe_load((repo / "mesh.yml").read_text())


def test_a_snowflake_dev_target_makes_a_snowflake_mesh(repo: Path) -> None:
    profile = repo / "analytics/upstream_proj/profiles.yml"
    profile.write_text(profile.read_text().replace("type: duckdb", "type: snowflake", 1))
    assert _adopt(repo).dialect == "snowflake"  # type: ignore[attr-defined]


def test_profile_problems(repo: Path) -> None:
    (repo / "analytics/upstream_proj/profiles.yml").unlink()
    down = repo / "analytics/downstream_proj/profiles.yml"
    down.write_text(down.read_text().replace("    dev:", "    local:"))
    adoption = _adopt(repo)
    assert "no profiles.yml" in _problems(adoption, "upstream_proj")[0]
    assert "has no target 'dev' (targets: local)" in _problems(adoption, "downstream_proj")[0]


@pytest.mark.parametrize("case, message", [
    ("no_project", "no dbt_project.yml"),
    ("outside", "is outside the mesh folder"),
    ("mesh_exists", "mesh.yml already exists"),
    ("bad_name", "is not a valid domain name"),
    ("same_name", "is used by both"),
    ("bad_loom", "needs a `name:`"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(repo: Path, tmp_path: Path, case: str,
                                                          message: str) -> None:
    paths = [repo / "analytics" / name for name in PROJECTS]
    if case == "no_project":
        paths.append(repo / "analytics")
    elif case == "outside":
        shutil.copytree(FIXTURE / "upstream_proj", tmp_path / "elsewhere")
        paths.append(tmp_path / "elsewhere")
    elif case == "mesh_exists":
        (repo / "mesh.yml").write_text("mesh: {name: x}\n")
    elif case == "bad_name":
        project = repo / "analytics/upstream_proj/dbt_project.yml"
        project.write_text(project.read_text().replace("name: upstream_proj", "name: Upstream-Proj"))
    elif case == "same_name":
        shutil.copytree(FIXTURE / "upstream_proj", repo / "other")
        paths.append(repo / "other")
    elif case == "bad_loom":
        (repo / "analytics/downstream_proj/dbt_loom.config.yml").write_text("manifests:\n  - type: file\n")
    before = _files(repo)
    args = ["init", "mesh", str(repo)] + [arg for path in paths for arg in ("--adopt", str(path))]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) <= 3
    assert _files(repo) == before


def test_adopt_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="is not a folder"):
        adopt(tmp_path / "nope", [FIXTURE / "upstream_proj"])


def test_mesh_domains_lists_projects_anywhere_next_to_the_domains_folder(repo: Path) -> None:
    (repo / "domains/extra").mkdir(parents=True)
    shutil.copy(FIXTURE / "upstream_proj/dbt_project.yml", repo / "domains/extra/dbt_project.yml")
    text = (repo / "domains/extra/dbt_project.yml").read_text().replace("upstream_proj", "extra")
    (repo / "domains/extra/dbt_project.yml").write_text(text)
    (repo / "mesh.yml").write_text("mesh:\n  name: m\n  domains: ['analytics/*', analytics/upstream_proj]\n")
    domains = discover_domains(load_config(repo))
    assert sorted(domains) == ["downstream_proj", "extra", "upstream_proj"]
    assert domains["downstream_proj"].upstreams == ("upstream_proj",)


@pytest.mark.parametrize("entries, message", [
    ("analytics/nothing_here", "matches no folder with a dbt_project.yml"),
    ("/abs/path", "must be relative to the mesh root"),
    ("../outside", "must be relative to the mesh root"),
    ("{a: b}", "must be a list of project folders"),
])
def test_bad_mesh_domains_entries(repo: Path, entries: str, message: str) -> None:
    value = entries if entries.startswith("{") else f"[{entries!r}]"
    (repo / "mesh.yml").write_text(f"mesh:\n  name: m\n  domains: {value}\n")
    with pytest.raises(MeshError, match=message):
        discover_domains(load_config(repo))


def test_the_same_project_name_twice_is_refused(repo: Path) -> None:
    shutil.copytree(FIXTURE / "upstream_proj", repo / "copy/upstream_proj")
    (repo / "mesh.yml").write_text("mesh:\n  name: m\n  domains: ['analytics/*', 'copy/*']\n")
    with pytest.raises(MeshError, match="'upstream_proj' is used by both"):
        discover_domains(load_config(repo))
