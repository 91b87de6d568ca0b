"""A synthetic mesh: N domains of M models, P of them public and contracted, in a layered DAG of domains.

    python -m bench.generate --domains 12 --models 20 --public 5 --fan-in 2 --seed 7 /tmp/mesh

Every domain loads a seed, stages it in private views, and publishes contracted, tested public tables; each
domain below the first layer refs public models of `--fan-in` upstream domains (one of them in the layer just
above, so the layers are real). `--chains C` splits the domains into C independent components. The output is
a mesh repository (mesh.yml, a copy of the `data_mesh` package, domains/) that `mesh build` runs on DuckDB.
"""

from __future__ import annotations

import math
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import yaml

REPO = Path(__file__).resolve().parents[1]
PACKAGE_FILES = ("dbt_project.yml", "packages.yml", "macros", "models")
CATEGORIES = ("alpha", "beta", "gamma", "delta")


@dataclass(frozen=True)
class CrossRef:
    """`ref(upstream, model)` placed in the downstream's public model number `into`."""

    upstream: str
    model: str
    into: int


@dataclass
class DomainSpec:
    """One generated domain: its staging and public model counts and what it refs upstream."""

    name: str
    staging: int
    public: int
    rows: int = 100
    upstreams: list[str] = field(default_factory=list)
    refs: list[CrossRef] = field(default_factory=list)
    downstreams: list[str] = field(default_factory=list)


def _layers(names: list[str], count: int) -> list[list[str]]:
    """`names` cut into `count` consecutive layers of near-equal size."""
    count = max(1, min(count, len(names)))
    bounds = [round(i * len(names) / count) for i in range(count + 1)]
    return [names[bounds[i]:bounds[i + 1]] for i in range(count)]


def plan_mesh(domains: int, models: int, public: int, fan_in: int, seed: int, *, chains: int = 1,
              layers: int | None = None, rows: int = 100) -> list[DomainSpec]:
    """The domains of a mesh; `layers` per chain defaults to the square root of the chain's length."""
    if domains < 1 or chains < 1 or chains > domains:
        raise ValueError(f"need 1 <= --chains ({chains}) <= --domains ({domains})")
    if not 1 <= public < models:
        raise ValueError(f"--public ({public}) must be at least 1 and below --models ({models}): "
                         "every domain keeps at least one private staging model")
    if fan_in < 1:
        raise ValueError(f"--fan-in ({fan_in}) must be at least 1")
    rng = random.Random(seed)
    width = max(2, len(str(domains - 1)))
    names = [f"d{i:0{width}d}" for i in range(domains)]
    specs = {name: DomainSpec(name, models - public, public, rows) for name in names}
    for chain in range(chains):
        members = names[chain::chains]
        levels = _layers(members, layers or math.ceil(math.sqrt(len(members))))
        for depth in range(1, len(levels)):
            earlier = [name for level in levels[:depth] for name in level]
            for name in levels[depth]:
                first = rng.choice(levels[depth - 1])
                others = rng.sample([n for n in earlier if n != first], min(fan_in - 1, len(earlier) - 1))
                for index, upstream in enumerate([first, *others]):
                    spec = specs[name]
                    spec.upstreams.append(upstream)
                    model = f"pub_{rng.randrange(specs[upstream].public)}"
                    spec.refs.append(CrossRef(upstream, model, index % spec.public))
                    specs[upstream].downstreams.append(name)
    return list(specs.values())


def _dump(path: Path, data: Any, header: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, width=120), encoding="utf-8")


def _project(spec: DomainSpec) -> dict[str, Any]:
    return {
        "name": spec.name, "version": "1.0.0", "profile": spec.name, "config-version": 2,
        "model-paths": ["models"], "seed-paths": ["seeds"], "test-paths": ["tests"],
        "flags": {"send_anonymous_usage_stats": False},
        "dispatch": [{"macro_namespace": "dbt", "search_order": [spec.name, "data_mesh", "dbt"]}],
        "models": {spec.name: {
            "+group": spec.name,
            "staging": {"+schema": "staging", "+materialized": "view", "+access": "private"},
            "marts": {"+schema": "marts", "+materialized": "table", "+access": "public"},
        }},
        "seeds": {spec.name: {"+schema": "raw", f"raw_{spec.name}": {"+column_types": {
            "id": "integer", "category": "varchar", "amount": "decimal(18,2)", "created_on": "date"}}}},
    }


def _profile(spec: DomainSpec) -> dict[str, Any]:
    folder = "{{ env_var('MESH_DUCKDB_DIR', '../../.mesh/duckdb') }}"
    dev: dict[str, Any] = {"type": "duckdb", "path": f"{folder}/{spec.name}.duckdb", "schema": "main", "threads": 4}
    if spec.upstreams:
        dev["attach"] = [{"path": f"{folder}/{up}.duckdb", "alias": up, "read_only": True}
                         for up in spec.upstreams]
    upper = spec.name.upper()
    prod = {"type": "snowflake", "account": "{{ env_var('SNOWFLAKE_ACCOUNT', '') }}",
            "user": f"{{{{ env_var('SNOWFLAKE_USER', '{upper}_DEPLOYER') }}}}",
            "password": "{{ env_var('SNOWFLAKE_PASSWORD', '') }}",
            "role": f"{{{{ env_var('SNOWFLAKE_ROLE', '{upper}_DEPLOYER') }}}}",
            "warehouse": f"{{{{ env_var('SNOWFLAKE_WAREHOUSE', '{upper}_WH') }}}}",
            "database": f"{{{{ env_var('MESH_SNOWFLAKE_DATABASE_PREFIX', '') }}}}{upper}",
            "schema": "MARTS", "threads": 8}
    return {spec.name: {"target": "{{ env_var('MESH_TARGET', 'dev') }}", "outputs": {"dev": dev, "prod": prod}}}


def _seed_rows(spec: DomainSpec, rng: random.Random) -> str:
    lines = ["id,category,amount,created_on"]
    for row in range(1, spec.rows + 1):
        lines.append(f"{row},{rng.choice(CATEGORIES)},{rng.randrange(100, 100_000) / 100:.2f},"
                     f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}")
    return "\n".join(lines) + "\n"


def _staging_sql(spec: DomainSpec, index: int) -> str:
    return (f"-- Staged rows of raw_{spec.name} (synthetic).\n"
            "select\n    cast(id as integer) as id,\n    cast(category as varchar) as category,\n"
            f"    cast(amount * {index + 1} as decimal(18, 2)) as amount\n"
            f"from {{{{ ref('raw_{spec.name}') }}}}\n")


def _public_sql(spec: DomainSpec, index: int) -> str:
    refs = [ref for ref in spec.refs if ref.into == index]
    joins = "".join(f"left join {{{{ ref('{ref.upstream}', '{ref.model}') }}}} as up{n} on up{n}.id = s.id\n"
                    for n, ref in enumerate(refs))
    total = "s.amount" + "".join(f" + coalesce(up{n}.amount, 0)" for n in range(len(refs)))
    return (f"-- Public model {index} of {spec.name} (synthetic).\n"
            f"select\n    s.id,\n    s.category,\n    cast({total} as decimal(18, 2)) as amount\n"
            f"from {{{{ ref('stg_{index % spec.staging}') }}}} as s\n{joins}")


def _public_yml(spec: DomainSpec) -> dict[str, Any]:
    columns = [
        {"name": "id", "description": "Row identifier.", "data_type": "integer",
         "constraints": [{"type": "not_null"}], "data_tests": ["not_null", "unique"]},
        {"name": "category", "description": "Category of the row.", "data_type": "varchar"},
        {"name": "amount", "description": "Amount, with the amounts of the upstream rows of the same id.",
         "data_type": "decimal(18,2)"},
    ]
    return {"models": [{"name": f"pub_{i}", "description": f"Public model {i} of {spec.name} (synthetic).",
                        "config": {"contract": {"enforced": True}}, "columns": columns}
                       for i in range(spec.public)]}


def _staging_yml(spec: DomainSpec) -> dict[str, Any]:
    return {"models": [{"name": f"stg_{i}", "description": f"Staged rows of raw_{spec.name}.",
                        "columns": [{"name": "id", "description": "Row identifier.", "data_tests": ["not_null"]}]}
                       for i in range(spec.staging)]}


def _domain_yml(spec: DomainSpec) -> dict[str, Any]:
    return {
        "domain": {"name": spec.name, "description": f"Synthetic domain {spec.name}.",
                   "owner": {"name": f"{spec.name} team", "email": f"{spec.name}@bench.example"}},
        "products": [{"name": f"{spec.name}_products", "description": f"Every public model of {spec.name}.",
                      "models": [f"pub_{i}" for i in range(spec.public)], "sla": {"freshness_hours": 24},
                      "consumers": {"domains": sorted(set(spec.downstreams)), "accounts": []}}],
    }


def write_domain(folder: Path, spec: DomainSpec, rng: random.Random) -> None:
    """Write one domain's dbt project into `folder`."""
    _dump(folder / "dbt_project.yml", _project(spec))
    _dump(folder / "packages.yml", {"packages": [{"local": "../.."}]})
    _dump(folder / "dependencies.yml", {"projects": [{"name": up} for up in spec.upstreams]})
    _dump(folder / "profiles.yml", _profile(spec))
    _dump(folder / "domain.yml", _domain_yml(spec))
    _dump(folder / "models" / "_groups.yml", {"groups": [{
        "name": spec.name, "description": f"Owns {spec.name}.",
        "owner": {"name": f"{spec.name} team", "email": f"{spec.name}@bench.example"}}]})
    _dump(folder / "models" / "staging" / "_staging.yml", _staging_yml(spec))
    _dump(folder / "models" / "marts" / "_marts.yml", _public_yml(spec))
    for i in range(spec.staging):
        (folder / "models" / "staging" / f"stg_{i}.sql").write_text(_staging_sql(spec, i))
    for i in range(spec.public):
        (folder / "models" / "marts" / f"pub_{i}.sql").write_text(_public_sql(spec, i))
    (folder / "seeds").mkdir(parents=True, exist_ok=True)
    (folder / "seeds" / f"raw_{spec.name}.csv").write_text(_seed_rows(spec, rng))


GITIGNORE = "# build leftovers and the state folder: what a mesh repository does not track\n" + "".join(
    f"{entry}\n" for entry in (".mesh/", "target/", "dbt_packages/", "logs/", "package-lock.yml"))


def write_mesh(out: Path, specs: list[DomainSpec], *, seed: int = 0, name: str = "bench") -> Path:
    """Write a mesh repository with the given domains and a copy of the `data_mesh` package into `out`."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; give an empty or new folder")
    out.mkdir(parents=True, exist_ok=True)
    for item in PACKAGE_FILES:
        source = REPO / item
        if source.is_dir():
            shutil.copytree(source, out / item)
        elif source.is_file():
            shutil.copy(source, out / item)
    shutil.copy(REPO / "governance.yml", out / "governance.yml")   # the example organisation's governance library
    _dump(out / "mesh.yml", {"mesh": {"name": name, "domains_dir": "domains", "state_dir": ".mesh",
                                      "default_target": "dev"}},
          header="# A synthetic mesh written by `python -m bench.generate`.\n")
    (out / ".mesh" / "duckdb").mkdir(parents=True, exist_ok=True)
    (out / ".gitignore").write_text(GITIGNORE)
    rng = random.Random(seed)
    for spec in specs:
        write_domain(out / "domains" / spec.name, spec, rng)
    return out


def size_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that size a generated mesh (`bench.generate` and `bench.monolith` share them)."""
    for option in reversed((
        click.option("--domains", type=click.IntRange(min=1), required=True, help="Number of domains."),
        click.option("--models", type=click.IntRange(min=2), required=True, help="Models per domain."),
        click.option("--public", type=click.IntRange(min=1), required=True, help="Public models per domain."),
        click.option("--fan-in", type=click.IntRange(min=1), default=2, show_default=True,
                     help="Upstream domains of each domain below the first layer."),
        click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same models)."),
    )):
        command = option(command)
    return command


@click.command()
@size_options
@click.option("--chains", type=click.IntRange(min=1), default=1, show_default=True,
              help="Independent components the domains are split into.")
@click.option("--layers", type=click.IntRange(min=1), default=None,
              help="Layers per component (default: the square root of its domain count).")
@click.option("--rows", type=click.IntRange(min=1), default=100, show_default=True, help="Seed rows per domain.")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def main(domains: int, models: int, public: int, fan_in: int, seed: int, chains: int, layers: int | None,
         rows: int, out: Path) -> None:
    """Write a synthetic mesh into OUT (a new or empty folder)."""
    try:
        specs = plan_mesh(domains, models, public, fan_in, seed, chains=chains, layers=layers, rows=rows)
        write_mesh(out, specs, seed=seed)
    except (ValueError, FileExistsError) as exc:
        raise click.UsageError(str(exc)) from exc
    edges = sum(len(spec.upstreams) for spec in specs)
    click.echo(f"wrote {len(specs)} domains, {len(specs) * models} models, {edges} cross-domain refs to {out}")


if __name__ == "__main__":
    main()
