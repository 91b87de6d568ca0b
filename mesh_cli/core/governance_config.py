"""The governance configuration of every model, validated as the package's `model_governance` macro validates it
before `dbt build` (macros/governance/library/model_governance.sql), so `mesh check` refuses what `mesh build`
refuses: an unknown tag, masking or row access policy, a tag value outside its allowed values, a row access column
the model lacks, a policy on a column of another type, an unknown key. In core: `mesh build`'s validation, `mesh
check` and the governance plan all read it.

The library is the package's central YAML block (`central_library`) merged with the domain's
`vars: {data_mesh: ...}` extensions, exactly the sources the macro reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_library import SECTIONS, find_library, read_library
from mesh_cli.core.manifest import governance_meta
from mesh_cli.core.type_families import type_family
from mesh_cli.core.yamlfile import read_mapping, read_yaml


def central_library(root: Path) -> dict[str, Any]:
    """The mesh's central governance library (governance.yml beside mesh.yml; empty without one), as the dbt
    plugin hands it to the package."""
    return read_library(find_library(root))


def domain_library(domain: Domain, central: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The central library with the domain's extensions (`vars.data_mesh` of its dbt_project.yml)."""
    path = domain.path / "dbt_project.yml"
    extension = (read_mapping(path).get("vars") or {}).get("data_mesh") or {}
    unknown = [key for key in extension if key not in SECTIONS]
    if unknown:
        raise MeshError(f"unknown key vars.data_mesh.{unknown[0]} (allowed: {', '.join(SECTIONS)})", path=path)
    merged: dict[str, dict[str, Any]] = {}
    for section in SECTIONS[:4]:
        entries = dict(central.get(section) or {})
        for name in extension.get(section) or {}:
            if name in entries or f"{name}_shared" in entries:
                raise MeshError(f"vars.data_mesh.{section}.{name} redefines a central {section} entry; a domain "
                                "may add entries but not redefine central ones: choose another name", path=path)
        entries.update(extension.get(section) or {})
        merged[section] = entries
    for kind in ("masking_policies", "row_access_policies"):
        merged[kind].update({f"{name}_shared": policy for name, policy in list(merged[kind].items())})
    return merged


def _tags(where: str, tags: Any, library: dict[str, dict[str, Any]]) -> Iterator[str]:
    if not isinstance(tags, dict):
        yield f"{where}tags must be a mapping of tag: value; write e.g. `tags: {{pii: email}}`"
        return
    for tag, value in tags.items():
        if tag not in library["tags"]:
            yield (f"{where}tag '{tag}' is not in the governance library; use one of: "
                   f"{', '.join(sorted(library['tags']))}")
            continue
        allowed = (library["tags"][tag] or {}).get("allowed_values")
        if allowed and value not in allowed:
            yield f"{where}tag {tag} = '{value}' is not an allowed value; use one of: {', '.join(allowed)}"


def _row_access(row_access: Any, columns: dict[str, Any], library: dict[str, dict[str, Any]]) -> Iterator[str]:
    if not isinstance(row_access, dict):
        yield "row_access must be a mapping with `policy` and `columns`"
        return
    for key in row_access:
        if key not in ("policy", "columns"):
            yield (f"unknown key row_access.{key}" + (" (YAML reads an unquoted `on` as true)" if key is True else "")
                   + "; row_access takes `policy` and `columns`")
    name = str(row_access.get("policy"))
    policy = library["row_access_policies"].get(name)
    if policy is None:
        yield (f"row access policy '{name}' is not in the governance library; use one of: "
               f"{', '.join(sorted(library['row_access_policies']))}")
        return
    bound = row_access.get("columns") or []
    bound = [bound] if isinstance(bound, str) else list(bound)
    arguments = policy.get("args") or []
    if len(bound) != len(arguments):
        yield (f"row access policy {name} takes {len(arguments)} column(s), `columns` names {len(bound)}; list "
               f"exactly {', '.join(a['name'] for a in arguments)}")
        return
    for column, found, argument in _unbound(bound, arguments, columns):
        if found is None:
            yield f"row access column '{column}' is not a column of the model; name a column declared in its YAML"
        else:
            yield (f"row access policy {name} expects {argument['type']}, column {column} "
                   f"{_mismatch(found, 'bind a column of that type')}")


def _unbound(names: list[Any], arguments: list[dict[str, Any]],
             columns: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any] | None, dict[str, Any]]]:
    """Each (column name, its declaration or None when the model lacks it, policy argument) where the column does
    not fit the argument: missing, or of another type family."""
    for name, argument in zip(names, arguments, strict=True):
        found = columns.get(str(name).lower())
        if found is None or type_family(found.get("data_type")) != type_family(argument["type"]):
            yield name, found, argument


def _mismatch(found: dict[str, Any], fix: str) -> str:
    """`is <type>; <fix>`, or that the column declares no type (the macro cannot compare one it does not know)."""
    if not found.get("data_type"):
        return "has no data_type; declare it in the model's YAML"
    return f"is {found['data_type']}; {fix}"


def _masking(column: str, masking: Any, columns: dict[str, Any], library: dict[str, dict[str, Any]]) -> Iterator[str]:
    masking = {"policy": masking} if isinstance(masking, str) else masking
    if not isinstance(masking, dict):
        yield f"column {column}: masking must be a policy name or {{policy, using}}"
        return
    name = str(masking.get("policy"))
    policy = library["masking_policies"].get(name)
    if policy is None:
        yield (f"column {column}: masking policy '{name}' is not in the governance library; use one of: "
               f"{', '.join(sorted(library['masking_policies']))}")
        return
    using = list(masking.get("using") or [])
    if not using or str(using[0]).lower() != column.lower():
        using = [column, *using]
    arguments = policy.get("args") or []
    if len(using) != len(arguments):
        yield (f"column {column}: masking policy {name} takes {len(arguments)} argument(s), it is given "
               f"{len(using)}; give `using:` the {len(arguments) - 1} extra column(s) it reads")
        return
    for used, found, argument in _unbound(using, arguments, columns):
        if found is None:
            yield f"column {column}: masking `using` column '{used}' is not a column of the model"
        else:
            yield (f"column {column}: masking policy {name} expects {argument['type']}, column {used} "
                   f"{_mismatch(found, 'choose a policy for that type')}")


def model_problems(node: dict[str, Any], library: dict[str, dict[str, Any]]) -> list[str]:
    """What the package's `model_governance` macro would refuse in one model node, one message each."""
    meta = governance_meta(node)
    problems = [f"unknown key meta.data_mesh.{key}; a model takes `tags` and `row_access`"
                for key in meta if key not in ("tags", "row_access")]
    problems += _tags("model ", meta.get("tags") or {}, library)
    columns = {str(name).lower(): column for name, column in (node.get("columns") or {}).items()}
    if meta.get("row_access"):
        problems += _row_access(meta["row_access"], columns, library)
    for name, column in (node.get("columns") or {}).items():
        block = governance_meta(column)
        problems += [f"column {name}: unknown key meta.data_mesh.{key}; a column takes `masking` and `tags`"
                     for key in block if key not in ("masking", "tags")]
        problems += _tags(f"column {name}: ", block.get("tags") or {}, library)
        if block.get("masking"):
            problems += _masking(str(name), block["masking"], columns, library)
    return problems


def governance_problems(domain: Domain, manifest: dict[str, Any],
                        central: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """(model node, message) for every governance configuration the build would refuse in the domain."""
    library = domain_library(domain, central)
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("package_name") == domain.name:
            for problem in model_problems(node, library):
                yield node, problem


def node_file(domain: Domain, node: dict[str, Any]) -> Path:
    """The YAML file that configures a model (else its SQL file), inside the domain."""
    return domain.path / str(node.get("patch_path", "").split("://")[-1] or node.get("original_file_path", ""))


def declared_models(domain: Domain) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(file, node) for every model entry of the domain's YAML property files, shaped like a manifest node (name,
    meta, config, columns of the model and of all its versions): the governance a build will see, read without
    dbt. Project-level `+meta` is not seen here; the package's own validation still refuses it at build time."""
    for folder in domain.source_paths:
        for path in sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()):
            content = read_yaml(path, default={})
            models = content.get("models") if isinstance(content, dict) else None
            for entry in models if isinstance(models, list) else []:
                if not isinstance(entry, dict) or not entry.get("name"):
                    continue
                versions = [v for v in entry.get("versions") or [] if isinstance(v, dict)]
                listed = [*(entry.get("columns") or []), *(c for v in versions for c in v.get("columns") or [])]
                columns = {str(c["name"]): c for c in listed if isinstance(c, dict) and c.get("name")}
                yield path, {"name": entry["name"], "meta": entry.get("meta"), "config": entry.get("config"),
                             "columns": columns}


def declared_problems(domain: Domain, central: dict[str, Any]) -> list[str]:
    """One line per governance problem of the domain's declared models (file, model, problem), before any build.
    A block templated with Jinja is left to the build, which renders it."""
    library = domain_library(domain, central)
    problems = []
    for path, node in declared_models(domain):
        if "{{" in str(node):
            continue
        problems += [f"{path}: {domain.name}.{node['name']}: {problem}" for problem in model_problems(node, library)]
    return problems
