"""`mesh init mesh` / `mesh init domain`: what they write, and every bad input refused with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mesh_cli.cli import main
from tests.conftest import REPO


def _run(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    runner = CliRunner()
    prefix = ["--mesh-dir", str(cwd)] if cwd else []
    result = runner.invoke(main, [*prefix, *args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def new_mesh(tmp_path: Path) -> Path:
    code, output = _run("init", "mesh", str(tmp_path / "acme-mesh"))
    assert code == 0, output
    root = tmp_path / "acme-mesh"
    assert _run("init", "domain", "customers", "--owner", "cust@acme.example", cwd=root)[0] == 0
    return root


def test_init_mesh_writes_a_minimal_repository(tmp_path: Path) -> None:
    code, _ = _run("init", "mesh", str(tmp_path / "acme-mesh"))
    assert code == 0
    root = tmp_path / "acme-mesh"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [".github/workflows/mesh-ci.yml", ".gitignore", ".mesh/duckdb/.gitkeep", "README.md",
                     "domains/.gitkeep", "governance.yml", "mesh.yml"]
    library = yaml.safe_load((root / "governance.yml").read_text())   # the starter governance library
    assert set(library) == {"tags", "masking_policies", "row_access_policies", "roles", "entitlements"}
    assert "PII_READER" in library["roles"] and "is_role_in_session('PII_READER')" in \
        library["masking_policies"]["mask_full"]["body"]
    settings = yaml.safe_load((root / "mesh.yml").read_text())
    assert settings["mesh"]["name"] == "acme_mesh" and "provision" in settings
    assert "${{ github.base_ref }}" in (root / ".github/workflows/mesh-ci.yml").read_text()
    code, output = _run("list", cwd=root)
    assert code == 0 and "no domains in" in output and "mesh init domain NAME" in output   # said, not an error
    assert "site/" in (root / ".gitignore").read_text().splitlines()   # `mesh catalog` writes there
    lines = [line for p in root.rglob("*") if p.is_file() for line in p.read_text().splitlines() if "docs/" in line]
    assert lines and all("dbt-data-mesh" in line for line in lines), lines   # never a docs/ the repo lacks


def test_init_mesh_in_an_empty_existing_folder_and_refuses_a_full_one(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "new-mesh"
    here.mkdir()
    monkeypatch.chdir(here)
    code, output = _run("init", "mesh", ".")
    assert code == 0, output
    assert (here / "mesh.yml").is_file() and "next: mesh init domain NAME" in output
    code, output = _run("init", "mesh", ".")   # now it holds a mesh: refused, nothing changed
    assert code == 2 and output == f"error: {here} holds a mesh already (mesh.yml): add a domain to it with " \
                                   "`mesh init domain NAME`\n"


def test_init_mesh_in_a_new_repository_keeps_its_own_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `git init` or a hosted repository's first clone holds: .git, a README, a LICENSE, a .gitignore."""
    here = tmp_path / "repo"
    (here / ".git").mkdir(parents=True)
    (here / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (here / "README.md").write_text("# Our mesh\n")
    (here / "LICENSE").write_text("MIT\n")
    (here / ".gitignore").write_text("node_modules/\nsite/")
    monkeypatch.chdir(here)
    code, output = _run("init", "mesh", ".")
    assert code == 0, output
    assert (here / "mesh.yml").is_file() and "next: mesh init domain NAME" in output
    assert (here / "README.md").read_text() == "# Our mesh\n" and (here / "LICENSE").read_text() == "MIT\n"
    assert (here / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    ignored = (here / ".gitignore").read_text().splitlines()
    assert ignored[:2] == ["node_modules/", "site/"] and ".mesh/" in ignored and ignored.count("site/") == 1


@pytest.mark.parametrize(("existing", "message"), [
    ("notes.txt", "{here} holds notes.txt: `mesh init mesh` writes into a new folder or one holding only a "
                  "repository's own files (.git, dotfiles, README, LICENSE); choose another folder, or make a mesh "
                  "over dbt projects there with --adopt"),
    (".github/workflows/mesh-ci.yml", "{here}/.github/workflows/mesh-ci.yml exists and `mesh init mesh` writes it: "
                                      "move it aside and run it again"),
])
def test_init_mesh_refuses_a_folder_with_other_files(tmp_path: Path, existing: str, message: str) -> None:
    here = tmp_path / "repo"
    (here / ".git").mkdir(parents=True)
    (here / existing).parent.mkdir(parents=True, exist_ok=True)
    (here / existing).write_text("mine")
    before = sorted(here.rglob("*"))
    code, output = _run("init", "mesh", str(here))
    assert code == 2 and output == f"error: {message.format(here=here)}\n"
    assert sorted(here.rglob("*")) == before and (here / existing).read_text() == "mine"


def test_a_new_domain_follows_the_example_mesh_conventions(new_mesh: Path) -> None:
    code, output = _run("init", "domain", "sales", "--owner", "sales-data@acme.example", "--upstream", "customers",
                        "--product", "sales_facts", cwd=new_mesh)
    assert code == 0, output
    domain = new_mesh / "domains" / "sales"
    project = yaml.safe_load((domain / "dbt_project.yml").read_text())
    example = yaml.safe_load((REPO / "domains" / "orders" / "dbt_project.yml").read_text())
    for key in ("dispatch", "on-run-start", "flags", "config-version", "require-dbt-version"):
        assert str(project[key]).replace("sales", "orders") == str(example[key]), key
    assert project["vars"]["data_mesh"]["roles"]["SALES_DEPLOYER"]
    assert project["models"]["sales"]["+post-hook"] == example["models"]["orders"]["+post-hook"]
    profile = yaml.safe_load((domain / "profiles.yml").read_text())["sales"]["outputs"]
    assert profile["dev"]["plugins"] == [{"module": "mesh_cli.engines.duckdb_session",
                                          "config": {"roles": ["SALES_DEPLOYER"]}}]
    assert profile["dev"]["attach"][0]["alias"] == "customers"
    assert "../../.mesh/duckdb" in profile["dev"]["path"]
    assert profile["prod"]["type"] == "snowflake" and "SNOWFLAKE_ACCOUNT" in profile["prod"]["account"]
    assert yaml.safe_load((domain / "dependencies.yml").read_text()) == {"projects": [{"name": "customers"}]}
    products = yaml.safe_load((domain / "domain.yml").read_text())
    assert products["domain"]["owner"]["email"] == "sales-data@acme.example"
    assert products["products"][0]["name"] == "sales_facts"
    marts = yaml.safe_load((domain / "models/marts/_marts.yml").read_text())["models"][0]
    assert marts["config"]["access"] == "public" and marts["config"]["contract"] == {"enforced": True}
    assert all(column.get("data_type") for column in marts["columns"])
    package = yaml.safe_load((domain / "packages.yml").read_text())["packages"][0]["local"]
    assert "DATA_MESH_PACKAGE" in package
    # the upstream now lists the new domain as a consumer of its products
    upstream = yaml.safe_load((new_mesh / "domains/customers/domain.yml").read_text())
    assert upstream["products"][0]["consumers"]["domains"] == ["sales"]
    # its own workflow: checked against the deployed state on pull requests, deployed alone on merge
    workflow = yaml.safe_load((new_mesh / ".github/workflows/deploy-sales.yml").read_text())
    triggers = workflow[True]   # YAML 1.1 reads the key `on` as true
    assert triggers["pull_request"]["paths"][0] == triggers["push"]["paths"][0] == "domains/sales/**"
    assert triggers["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["group"].startswith("deploy-sales-")
    assert workflow["jobs"]["check"]["steps"][-1]["run"] == "mesh check --target prod --format github"
    assert workflow["jobs"]["deploy"]["steps"][-1]["run"] == "mesh build sales --target prod"
    assert workflow["env"]["SNOWFLAKE_ROLE"] == "SALES_DEPLOYER"
    assert (new_mesh / ".github/workflows/deploy-customers.yml").is_file()
    # the upstream is read, so `mesh graph` and the catalogue show the same edge
    reader = (domain / "models/staging/stg_customers__customers_summary.sql").read_text()
    assert "ref('customers', 'customers_summary')" in reader
    assert yaml.safe_load((domain / "models/staging/_upstreams.yml").read_text())["models"][0]["name"] == \
        "stg_customers__customers_summary"
    assert output.rstrip().splitlines()[-1] == "next: mesh provision -s +sales && mesh build -s +sales"   # works
    assert "placeholder" not in output


def test_a_domain_without_owner_says_its_placeholder(new_mesh: Path) -> None:
    code, output = _run("init", "domain", "sales", cwd=new_mesh)
    assert code == 0, output
    assert "no --owner given; sales-data@example.com is a placeholder" in " ".join(output.split())
    assert not (new_mesh / "domains/sales/models/staging/_upstreams.yml").exists()   # no upstream, no reader


def test_a_domain_whose_workflow_exists_is_refused(new_mesh: Path) -> None:
    (new_mesh / ".github/workflows/deploy-sales.yml").write_text("# the team's own\n")
    code, output = _run("init", "domain", "sales", cwd=new_mesh)
    assert code == 2 and "deploy-sales.yml already exists" in output
    assert not (new_mesh / "domains" / "sales").exists()
    assert (new_mesh / ".github/workflows/deploy-sales.yml").read_text() == "# the team's own\n"


@pytest.mark.parametrize(("args", "message"), [
    (["Sales"], "domain name 'Sales' is not valid"),
    (["9lives"], "domain name '9lives' is not valid"),
    (["sales-ops"], "domain name 'sales-ops' is not valid"),
    (["governance"], "is reserved"),
    (["customers"], "domain 'customers' already exists"),
    (["sales", "--upstream", "customers,billing"], "unknown upstream 'billing'"),
    (["sales", "--owner", "not-an-email"], "is not an e-mail address"),
    (["sales", "--product", "Sales Facts"], "product name 'Sales Facts'"),
])
def test_bad_domain_input_is_one_line_exit_2_and_writes_nothing(new_mesh: Path, args: list[str],
                                                                message: str) -> None:
    before = sorted(p for p in new_mesh.rglob("*"))
    texts = {p: p.read_text() for p in before if p.is_file()}
    code, output = _run("init", "domain", *args, cwd=new_mesh)
    assert code == 2 and message in output
    assert len(output.strip().splitlines()) == 1 or output.count("error:") == 1
    assert sorted(p for p in new_mesh.rglob("*")) == before
    assert {p: p.read_text() for p in before if p.is_file()} == texts


def test_an_existing_folder_is_refused(new_mesh: Path, tmp_path: Path) -> None:
    (new_mesh / "domains" / "sales").mkdir()
    code, output = _run("init", "domain", "sales", cwd=new_mesh)
    assert code == 2 and "already exists" in output
    assert list((new_mesh / "domains" / "sales").iterdir()) == []


def test_init_domain_outside_a_mesh_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = _run("init", "domain", "sales")
    assert code == 2 and "no mesh.yml found" in output
    assert list(tmp_path.iterdir()) == []


def test_existing_domains_get_their_deploy_workflows(mesh_copy: Path) -> None:
    code, output = _run("init", "workflow", "orders", cwd=mesh_copy)
    assert code == 0 and "wrote .github/workflows/deploy-orders.yml" in output
    workflow = yaml.safe_load((mesh_copy / ".github/workflows/deploy-orders.yml").read_text())
    assert workflow["jobs"]["deploy"]["steps"][-1]["run"] == "mesh build orders --target prod"
    (mesh_copy / ".github/workflows/deploy-orders.yml").write_text("# edited\n")
    code, output = _run("init", "workflow", cwd=mesh_copy)
    assert code == 0 and "kept .github/workflows/deploy-orders.yml (exists)" in output
    assert "wrote .github/workflows/deploy-customers.yml" in output and "deploy-finance.yml" in output
    assert (mesh_copy / ".github/workflows/deploy-orders.yml").read_text() == "# edited\n"
    code, output = _run("init", "workflow", "billing", cwd=mesh_copy)
    assert code == 2 and "selector 'billing' names no domain" in output
    (mesh_copy / ".github/workflows/deploy-customers.yml").unlink()
    code, output = _run("init", "workflow", "-s", "+orders", "--exclude", "orders", cwd=mesh_copy)   # dbt's syntax
    assert code == 0 and output.splitlines() == ["wrote .github/workflows/deploy-customers.yml"], output


def test_a_failed_write_into_a_folder_puts_back_what_was_there(tmp_path: Path) -> None:
    from mesh_cli.scaffold.render import write_into_folder

    (tmp_path / ".gitignore").write_text("node_modules/\n")
    (tmp_path / "blocked").write_text("a file where a folder is wanted")
    files = {Path(".gitignore"): "node_modules/\n.mesh/\n", Path("a/b/new.txt"): "new",
             Path("blocked/inside.txt"): "cannot be written"}
    with pytest.raises(OSError):
        write_into_folder(tmp_path, files)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitignore", "blocked"]
    assert (tmp_path / ".gitignore").read_text() == "node_modules/\n"
