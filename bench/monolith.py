"""The models of a synthetic mesh written as ONE dbt project: what a team without a mesh would run.

    python -m bench.monolith --domains 12 --models 20 --public 5 --fan-in 2 --seed 7 /tmp/monolith

Same plan, seeds (row for row), SQL, tests, contracts and groups as `bench.generate` with the same options;
each domain becomes a folder and a group of the project, its models prefixed with its name (`d03_pub_1`), a
cross-domain `ref('d00', 'pub_1')` becomes `ref('d00_pub_1')`. The project installs the same `data_mesh`
package (so its models build once instead of once per domain) and writes one DuckDB file.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path
from typing import Any

import click

from bench.generate import (
    PACKAGE_FILES,
    REPO,
    DomainSpec,
    _dump,
    _public_sql,
    _public_yml,
    _seed_rows,
    _staging_sql,
    _staging_yml,
    plan_mesh,
    size_options,
)

NAME = "monolith"
_CROSS_REF = re.compile(r"ref\('(\w+)', '(\w+)'\)")
_OWN_REF = re.compile(r"ref\('((?:stg|pub)_\d+)'\)")


def _renamed(sql: str, domain: str) -> str:
    return _OWN_REF.sub(rf"ref('{domain}_\1')", _CROSS_REF.sub(r"ref('\1_\2')", sql))


def _renamed_yml(data: dict[str, Any], domain: str) -> dict[str, Any]:
    return {"models": [{**model, "name": f"{domain}_{model['name']}"} for model in data["models"]]}


def _project(specs: list[DomainSpec]) -> dict[str, Any]:
    return {
        "name": NAME, "version": "1.0.0", "profile": NAME, "config-version": 2,
        "model-paths": ["models"], "seed-paths": ["seeds"], "test-paths": ["tests"],
        "flags": {"send_anonymous_usage_stats": False},
        "dispatch": [{"macro_namespace": "dbt", "search_order": [NAME, "data_mesh", "dbt"]}],
        "models": {NAME: {spec.name: {
            "+group": spec.name,
            "staging": {"+schema": "staging", "+materialized": "view", "+access": "private"},
            "marts": {"+schema": "marts", "+materialized": "table", "+access": "public"},
        } for spec in specs}},
        "seeds": {NAME: {"+schema": "raw", **{f"raw_{spec.name}": {"+column_types": {
            "id": "integer", "category": "varchar", "amount": "decimal(18,2)", "created_on": "date"}}
            for spec in specs}}},
    }


def write_monolith(out: Path, specs: list[DomainSpec], *, seed: int = 0) -> Path:
    """Write the one-project form of the mesh `specs` into `out`: `out/monolith` (the dbt project, with its
    profiles.yml) and `out/data_mesh` (the package). Returns the project folder."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; give an empty or new folder")
    for item in PACKAGE_FILES:
        source = REPO / item
        if source.is_dir():
            shutil.copytree(source, out / "data_mesh" / item)
        elif source.is_file():
            (out / "data_mesh").mkdir(parents=True, exist_ok=True)
            shutil.copy(source, out / "data_mesh" / item)
    project = out / NAME
    _dump(project / "dbt_project.yml", _project(specs))
    _dump(project / "packages.yml", {"packages": [{"local": "../data_mesh"}]})
    _dump(project / "profiles.yml", {NAME: {"target": "dev", "outputs": {"dev": {
        "type": "duckdb", "path": f"{NAME}.duckdb", "schema": "main", "threads": 4}}}})
    _dump(project / "models" / "_groups.yml", {"groups": [{
        "name": spec.name, "description": f"Owns {spec.name}.",
        "owner": {"name": f"{spec.name} team", "email": f"{spec.name}@bench.example"}} for spec in specs]})
    rng = random.Random(seed)  # the generator's sequence: the same seed rows, domain by domain
    for spec in specs:
        folder = project / "models" / spec.name
        _dump(folder / "staging" / "_staging.yml", _renamed_yml(_staging_yml(spec), spec.name))
        _dump(folder / "marts" / "_marts.yml", _renamed_yml(_public_yml(spec), spec.name))
        for i in range(spec.staging):
            (folder / "staging" / f"{spec.name}_stg_{i}.sql").write_text(_renamed(_staging_sql(spec, i), spec.name))
        for i in range(spec.public):
            (folder / "marts" / f"{spec.name}_pub_{i}.sql").write_text(_renamed(_public_sql(spec, i), spec.name))
        (project / "seeds").mkdir(parents=True, exist_ok=True)
        (project / "seeds" / f"raw_{spec.name}.csv").write_text(_seed_rows(spec, rng))
    return project


@click.command()
@size_options
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def main(domains: int, models: int, public: int, fan_in: int, seed: int, out: Path) -> None:
    """Write the models of a synthetic mesh as one dbt project into OUT (a new or empty folder)."""
    try:
        project = write_monolith(out, plan_mesh(domains, models, public, fan_in, seed), seed=seed)
    except (ValueError, FileExistsError) as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"wrote one dbt project of {domains * models} models to {project}")


if __name__ == "__main__":
    main()
