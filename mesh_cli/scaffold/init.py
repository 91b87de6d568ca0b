"""`mesh init mesh DIR` and `mesh init domain NAME`: a new mesh repository, a new domain that builds, checks
and publishes with no edits. Every input is checked before anything is written."""

from __future__ import annotations

import os
import re
from pathlib import Path

from mesh_cli import __version__
from mesh_cli.core.config import MESH_FILE, MeshConfig
from mesh_cli.core.domains import DOMAIN_NAME, Domain, discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.package_path import dbt_package_path
from mesh_cli.core.safe_io import write_text_atomic
from mesh_cli.core.strict import check_identifier_length
from mesh_cli.scaffold.render import render_tree, write_into_folder, write_new_folder

CONSUMERS = re.compile(r"(consumers:\s*\{\s*domains:\s*\[)([^\]]*)(\])")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# names dbt or Snowflake reserve: a domain called so would not build
RESERVED = {"dbt", "data_mesh", "governance", "main", "mesh_protected", "information_schema", "select", "table",
            "database", "schema", "account", "current", "group", "order", "public", "role", "user"}


def init_mesh(dest: Path, name: str | None = None) -> Path:
    """Write a minimal, working mesh repository into the new folder `dest`."""
    dest = dest.resolve()
    mesh_name = name or re.sub(r"[^a-z0-9_]", "_", dest.name.lower()).strip("_") or "mesh"
    if not DOMAIN_NAME.match(mesh_name):
        raise MeshError(f"mesh name {mesh_name!r} must be lower-case letters, digits and underscores, starting "
                        "with a letter; pass --name")
    files = render_tree("mesh", {"name": mesh_name, "version": __version__})
    files[Path("domains/.gitkeep")] = ""
    files[Path(".mesh/duckdb/.gitkeep")] = ""
    if dest.is_dir():   # `mesh init mesh .` in a new repository's folder
        write_into_folder(dest, _fitted_to(dest, files))
    else:
        write_new_folder(dest, files)
    return dest


# what a new repository may hold besides dotfiles (.git, .gitignore) when the mesh is written into it
REPOSITORY_FILES = ("README", "LICENSE", "LICENCE", "COPYING")


def _fitted_to(dest: Path, files: dict[Path, str]) -> dict[Path, str]:
    """The scaffold's `files` for the existing folder `dest`, which may hold a repository's own files only (its
    .git and other dotfiles, a README, a LICENSE): the repository's README stays, its .gitignore gets the lines
    the mesh needs; any other file the scaffold writes, or any other file at all, is refused."""
    if (dest / MESH_FILE).exists():
        raise MeshError(f"{dest} holds a mesh already ({MESH_FILE}): add a domain to it with `mesh init domain NAME`")
    others = sorted(child.name for child in dest.iterdir()
                    if not child.name.startswith(".") and child.name.split(".")[0].upper() not in REPOSITORY_FILES)
    if others:
        raise MeshError(f"{dest} holds {', '.join(others[:3])}{', …' if len(others) > 3 else ''}: `mesh init mesh` "
                        "writes into a new folder or one holding only a repository's own files (.git, dotfiles, "
                        "README, LICENSE); choose another folder, or make a mesh over dbt projects there with --adopt")
    fitted = dict(files)
    if any(child.name.split(".")[0].upper() == "README" for child in dest.iterdir()):
        del fitted[Path("README.md")]   # the repository's own README (.md, .rst, ...) stays the only one
    for relative, text in list(fitted.items()):
        existing = dest / relative
        if not existing.exists():
            continue
        if relative == Path(".gitignore"):
            kept = existing.read_text(encoding="utf-8")
            missing = [line for line in text.splitlines() if line not in kept.splitlines()]
            fitted[relative] = kept + ("" if kept.endswith("\n") or not kept else "\n") + "".join(
                f"{line}\n" for line in missing)
        else:
            raise MeshError(f"{existing} exists and `mesh init mesh` writes it: move it aside and run it again")
    return fitted


def _check_name(name: str, config: MeshConfig) -> None:
    where = config.root / MESH_FILE
    if not DOMAIN_NAME.match(name):
        raise MeshError(f"domain name {name!r} is not valid: use lower-case letters, digits and underscores, "
                        "starting with a letter (e.g. sales_ops)", path=where)
    if name in RESERVED:
        raise MeshError(f"domain name {name!r} is reserved by dbt or Snowflake; choose another name", path=where)


def init_domain(config: MeshConfig, name: str, *, owner: str | None = None, upstreams: tuple[str, ...] = (),
                product: str | None = None) -> Path:
    """Write `<domains_dir>/<name>/`: a dbt project with a starter data product, wired into the mesh."""
    _check_name(name, config)
    domains = discover_domains(config)
    dest = config.domains_dir / name
    if name in domains:
        raise MeshError(f"domain {name!r} already exists at {domains[name].path}; choose another name",
                        path=domains[name].path / "dbt_project.yml")
    if dest.exists():
        raise MeshError(f"folder {dest} already exists; remove it or choose another domain name")
    for upstream in upstreams:
        if upstream not in domains:
            known = ", ".join(sorted(domains)) or "none yet"
            raise MeshError(f"unknown upstream {upstream!r} for domain {name}: domains of this mesh are {known}",
                            path=config.root / MESH_FILE)
    if owner is not None and not EMAIL.match(owner):
        raise MeshError(f"--owner {owner!r} is not an e-mail address (e.g. {name}-data@example.com)")
    product = product or f"{name}_core"
    check_identifier_length(f"{name}_{product}".upper(), what="share name of the starter product",
                            path=config.root / MESH_FILE)
    if not DOMAIN_NAME.match(product):
        raise MeshError(f"product name {product!r} must be lower-case letters, digits and underscores")
    owner_email = owner or f"{name}-data@example.com"
    context = {
        "name": name, "mesh": config.name, "product": product, "model": f"{name}_summary",
        "role": f"{name.upper()}_DEPLOYER", "upstreams": list(upstreams), "version": __version__,
        "owner_name": f"{name.replace('_', ' ').title()} Data Team", "owner_email": owner_email,
        "description": f"The {name.replace('_', ' ')} domain of the {config.name} mesh.",
        "package_path": str(dbt_package_path()),
        "duckdb_dir": Path(os.path.relpath(config.state_dir / "duckdb", dest)).as_posix(),
    }
    workflows = deploy_workflow(config, name, dest)
    taken = [config.root / path for path in workflows if (config.root / path).exists()]
    if taken:
        raise MeshError(f"{taken[0]} already exists: remove it, or choose another domain name")
    updates = {upstream: _add_consumer(domains[upstream].path / "domain.yml", name) for upstream in upstreams}
    files = render_tree("domain", context)
    files.update(_upstream_readers(name, [domains[upstream] for upstream in upstreams]))
    write_new_folder(dest, files)
    for relative, workflow in workflows.items():   # its own deploy workflow (docs/deploying.md)
        write_text_atomic(config.root / relative, workflow)
    for path, text in updates.values():
        if text is not None:
            path.write_text(text, encoding="utf-8")
    return dest


def _upstream_readers(name: str, upstreams: list[Domain]) -> dict[Path, str]:
    """A staging model per upstream that reads its first shared model with `ref()`: the dependency is used, so
    `mesh graph` and the catalogue's lineage show the same edge (an upstream that shares nothing gets none)."""
    files: dict[Path, str] = {}
    entries = []
    for upstream in upstreams:
        shared = [str(m) for product in upstream.products for m in product.get("models") or () if isinstance(m, str)]
        if not shared:
            continue
        model = f"stg_{upstream.name}__{shared[0]}"
        files[Path(f"models/staging/{model}.sql")] = (
            f"-- What {name} reads from the {upstream.name} domain: its public model {shared[0]}, through ref() (the\n"
            f"-- only way across domains). Select the columns you use; `mesh check` tells you when they change.\n"
            f"select *\nfrom {{{{ ref('{upstream.name}', '{shared[0]}') }}}}\n")
        entries.append(f"  - name: {model}\n    description: The {upstream.name} domain's {shared[0]}, as {name} "
                       f"reads it.\n")
    if entries:
        files[Path("models/staging/_upstreams.yml")] = "models:\n" + "".join(entries)
    return files


def deploy_workflow(config: MeshConfig, name: str, path: Path) -> dict[Path, str]:
    """The domain's own GitHub Actions workflow (checked on pull requests, deployed alone on merge), by its path
    relative to the mesh root."""
    return render_tree("deploy", {"name": name, "domain_path": path.relative_to(config.root).as_posix(),
                                  "role": f"{name.upper()}_DEPLOYER", "version": __version__})


def init_workflows(config: MeshConfig, names: tuple[str, ...] = ()) -> tuple[list[Path], list[Path]]:
    """Write the deploy workflow of each named domain (every domain when none) that has none yet; returns the
    files written and those left as they were."""
    domains = discover_domains(config)
    unknown = [name for name in names if name not in domains]
    if unknown:
        raise MeshError(f"unknown domain(s): {', '.join(unknown)} (domains: {', '.join(sorted(domains)) or 'none'})")
    written, kept = [], []
    for name in names or tuple(sorted(domains)):
        for relative, text in deploy_workflow(config, name, domains[name].path).items():
            target = config.root / relative
            if target.exists():
                kept.append(target)
            else:
                written.append(write_text_atomic(target, text))
    return written, kept


def _add_consumer(path: Path, consumer: str) -> tuple[Path, str | None]:
    """The upstream's domain.yml with `consumer` added to every product's `consumers: {domains: [...]}` (the
    flow style `mesh init` writes), so the new domain may read what the upstream publishes; None when the file
    has no such list (the upstream team adds it by hand)."""
    text = path.read_text(encoding="utf-8")

    def add(match: re.Match[str]) -> str:
        names = [n.strip() for n in match.group(2).split(",") if n.strip()]
        return match.group(1) + ", ".join([*names, consumer] if consumer not in names else names) + match.group(3)

    updated = CONSUMERS.sub(add, text)
    return path, updated if updated != text else None
