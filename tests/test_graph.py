"""The domain graph: order, selection and every validation error."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_cli.cli import main
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.graph import DomainGraph


def write_domain(root: Path, name: str, upstreams: tuple[str, ...] = (), sql: str = "select 1 as id") -> Path:
    folder = root / "domains" / name
    (folder / "models").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text(f"name: {name}\nprofile: {name}\nconfig-version: 2\n")
    (folder / "dependencies.yml").write_text(
        "projects:\n" + "".join(f"  - name: {u}\n" for u in upstreams) if upstreams else "projects: []\n")
    (folder / "models" / "m.sql").write_text(sql)
    return folder


def graph_of(root: Path) -> DomainGraph:
    return DomainGraph(discover_domains(load_config(root)))


@pytest.fixture
def mesh(tmp_path: Path) -> Path:
    (tmp_path / "mesh.yml").write_text("mesh:\n  name: t\n")
    write_domain(tmp_path, "a")
    write_domain(tmp_path, "b", ("a",), "select * from {{ ref('a', 'm') }}")
    write_domain(tmp_path, "c", ("a", "b"), "select * from {{ ref('b', 'm') }}")
    write_domain(tmp_path, "d")
    return tmp_path


def test_order_builds_upstreams_first(mesh: Path) -> None:
    graph = graph_of(mesh)
    graph.validate()
    assert graph.order(["c", "b", "a", "d"]) == ["a", "b", "c", "d"]


@pytest.mark.parametrize(("selectors", "expected"), [
    ((), {"a", "b", "c", "d"}),
    (("b",), {"b"}),
    (("b+",), {"b", "c"}),
    (("+b",), {"a", "b"}),
    (("+b+",), {"a", "b", "c"}),
    (("a+", "d"), {"a", "b", "c", "d"}),
    (("b d",), {"b", "d"}),               # a union in one value, as `-s 'b d'`
    (("a+1",), {"a", "b", "c"}),          # one level down: c is a child of a too (the doctest has a chain)
    (("1+b",), {"a", "b"}),
    (("b+0",), {"b"}),
    (("@b",), {"a", "b", "c"}),           # b, its downstream c, and c's upstream
    (("@d",), {"d"}),
    (("a+,+b",), {"a", "b"}),             # an intersection
    (("a+ d", "b"), {"a", "b", "c", "d"}),
])
def test_selectors_follow_dbt_habits(mesh: Path, selectors: tuple[str, ...], expected: set[str]) -> None:
    assert graph_of(mesh).select(selectors) == expected


def test_unknown_selector_suggests_a_domain(mesh: Path) -> None:
    with pytest.raises(MeshError, match=r"selector 'bb\+' names no domain \(did you mean 'b'\?\)"):
        graph_of(mesh).select(["bb+"])


@pytest.mark.parametrize("selector", ["a+++", "++a", "@a+", "tag:nightly", "a,", "2+@a"])
def test_a_form_dbt_does_not_have_is_refused_naming_the_forms(mesh: Path, selector: str) -> None:
    result = CliRunner().invoke(main, ["--mesh-dir", str(mesh), "build", "-s", selector])
    assert result.exit_code == 2
    assert result.output == (f"error: selector {selector!r} is not a domain selector: use `name`, `+name` (and "
                             "upstream), `name+` (and downstream), `2+name` / `name+1` (that many levels), `@name`, "
                             "`'a b'` (either), `a+,+b` (both)\n")


def test_cycle_is_named(mesh: Path) -> None:
    (mesh / "domains" / "a" / "dependencies.yml").write_text("projects:\n  - name: c\n")
    with pytest.raises(MeshError, match=r"domain cycle .*a → b → c → a|domain cycle .*a → c → a"):
        graph_of(mesh).validate()


def test_upstream_that_is_not_a_domain(mesh: Path) -> None:
    (mesh / "domains" / "d" / "dependencies.yml").write_text("projects:\n  - name: ordrs\n")
    with pytest.raises(MeshError, match=r"dependencies.yml: d declares upstream 'ordrs', which is not a domain"):
        graph_of(mesh).validate()


def test_cross_domain_ref_must_be_declared(mesh: Path) -> None:
    (mesh / "domains" / "d" / "models" / "m.sql").write_text("select * from {{ ref('b', 'm') }}")
    with pytest.raises(MeshError) as error:
        graph_of(mesh).validate()
    message = str(error.value)
    assert "domains/d/models/m.sql" in message
    assert "ref('b', 'm') in d reaches domain b, which d does not declare" in message
    assert "add `- name: b` under `projects:`" in message


def test_invalid_domain_name(mesh: Path) -> None:
    (mesh / "domains" / "d" / "dbt_project.yml").write_text("name: Bad-Name\nconfig-version: 2\n")
    with pytest.raises(MeshError, match=r"project name 'Bad-Name' is not a valid domain name"):
        graph_of(mesh)


def test_duplicate_domain_name(mesh: Path) -> None:
    (mesh / "domains" / "d" / "dbt_project.yml").write_text("name: a\nconfig-version: 2\n")
    with pytest.raises(MeshError, match=r"domain name 'a' is used by both"):
        graph_of(mesh)


def test_bad_dependencies_file(mesh: Path) -> None:
    (mesh / "domains" / "b" / "dependencies.yml").write_text("projects: [a\n")
    with pytest.raises(MeshError, match=r"dependencies.yml: invalid YAML at line"):
        graph_of(mesh)
    (mesh / "domains" / "b" / "dependencies.yml").write_text("projects:\n  - a\n")
    with pytest.raises(MeshError, match=r"each entry of `projects:` needs a `name:`"):
        graph_of(mesh)


def test_config_errors(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match=r"mesh\.yml: file not found"):
        load_config(tmp_path)
    (tmp_path / "mesh.yml").write_text("mesh:\n  domain_dir: x\n")
    with pytest.raises(MeshError, match=r"unknown setting\(s\) under `mesh:`: domain_dir"):
        load_config(tmp_path)
