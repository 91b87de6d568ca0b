"""What a consumer domain may read of an upstream: the models shared with it, and where they are.

The upstream's last publish (`publish.json` of the target) decides; before its first publish, its domain.yml
does. A ref to a public model not shared with the consumer fails at parse. In an account-per-domain mesh on
Snowflake the consumer reads the upstream's products from the databases it mounted from their shares. `mesh query`
reads by the same rule, as roles: only the holders of the product's reader role read it (`reader_holders`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.manifest import ModelInfo
from mesh_cli.core.share_access import product_of
from mesh_cli.core.share_settings import ACCOUNT_PER_DOMAIN, share_name, share_settings
from mesh_cli.core.state import load_target_manifest, published_products
from mesh_cli.engines.registry import engine_class


def _why_unpublished(config: MeshConfig, target: str, adapter: str, upstream: Domain, model: ModelInfo) -> str:
    """Why the upstream's publish left out a model its domain.yml lists, with the fix."""
    found = load_target_manifest(config, target, upstream, adapter)
    node = (found[1].get("nodes") or {}).get(model.unique_id) or {} if found else {}
    settings = node.get("config") or {}
    if settings.get("materialized") == "view" and not settings.get("secure"):
        return (f"{model.label} is a view that is not secure, and only secure views are shared "
                "(https://docs.snowflake.com/en/user-guide/data-sharing-secure-views): set `secure: true` in its "
                f"config ({upstream.path / str(node.get('original_file_path', 'its YAML'))}) and rebuild "
                f"{upstream.name}")
    return f"run `mesh publish {upstream.name}` and fix what it reports"


def shared_relations(config: MeshConfig, target: str, adapter: str, consumer: Domain, upstream: Domain,
                     models: list[tuple[ModelInfo, Path]]) -> list[ModelInfo]:
    """The models of `upstream` that `consumer` refs (each with the file of its ref), as `consumer` reads them; a
    model not shared with it is an error naming the file, both domains, the model and the fix."""
    if not models:
        return []
    published = published_products(config, target, upstream.name)
    mounted = engine_class(adapter).mounts_shares and share_settings(config).topology == ACCOUNT_PER_DOMAIN
    result = []
    for model, where in models:
        product = product_of(model, consumer.name, upstream, published)
        if product is None:
            listed = published is not None and product_of(model, consumer.name, upstream, None) is not None
            if listed:
                raise MeshError(f"{consumer.name} refs {model.label}, which {upstream.name}'s domain.yml shares with "
                                f"{consumer.name} but its last publish did not: "
                                f"{_why_unpublished(config, target, adapter, upstream, model)}", path=where)
            state = "its last publish" if published is not None else "its domain.yml"
            raise MeshError(f"{consumer.name} refs {model.label}, which {upstream.name} does not share with "
                            f"{consumer.name} ({state}): add {consumer.name} to `consumers.domains` of a product "
                            f"listing {model.name} in {upstream.path / 'domain.yml'} and run "
                            f"`mesh publish {upstream.name}`", path=where)
        if mounted:
            database = share_name(upstream.name, product)
            model = replace(model, database=database,
                            relation_name=f"{database}.{model.schema}.{model.alias}".upper())
        result.append(model)
    return result
