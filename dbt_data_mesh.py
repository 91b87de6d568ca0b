"""dbt plugin of the data mesh: resolves cross-domain refs (`ref('customers', 'dim_customers')`) and runs
Snowflake-dialect models on DuckDB.

dbt discovers plugins in top-level modules whose name starts with `dbt_`; this one registers the resolver of
`mesh_cli.plugin.resolver`, so that plain `dbt build` inside a domain sees its upstreams' public models.
"""

from __future__ import annotations

from pathlib import Path

from dbt.contracts.graph.node_args import ModelNodeArgs
from dbt.flags import get_flags
from dbt.plugins.manager import dbt_hook, dbtPlugin
from dbt.plugins.manifest import PluginNodes


def _node_version(version: str | None) -> str | int | None:
    return int(version) if version is not None and version.isdigit() else version


def _export(name: str, value: str) -> None:
    """Set a variable for `env_var()`: dbt reads its invocation's copy of the environment, taken before plugins
    start, so the copy is updated too. On Windows that copy is a `CaseInsensitiveMapping`, read-only but for its
    private `_env` map, which is written directly: dbt has no public setter for one variable
    (`set_invocation_context` would replace the whole context).
    Tested with dbt-core 1.10.11 and 1.11.16; tests/test_dbt_patches.py fails naming it when dbt changes it."""
    import os

    from dbt_common.context import CaseInsensitiveMapping, try_get_invocation_context

    os.environ[name] = value
    context = try_get_invocation_context()
    env = context.env if context is not None else None
    if isinstance(env, CaseInsensitiveMapping):
        env._env[name.casefold()] = (name, value)
    elif isinstance(env, dict):
        env[name] = value


def _domain_dir() -> Path:
    """The domain's folder in the mesh: dbt's project folder, or, when dbt runs in a folder of links to the
    domain's files (Astronomer Cosmos's local mode runs each task in such a temporary folder), the folder its
    `dbt_project.yml` links to; so the mesh around it (mesh.yml, the upstreams' state) is found from either."""
    project = Path(getattr(get_flags(), "PROJECT_DIR", None) or ".")
    return (project / "dbt_project.yml").resolve().parent


class DataMeshPlugin(dbtPlugin):
    """Injects the public models of a domain's upstream domains as external nodes; has the compiler transpile
    models written in Snowflake's dialect when the target is DuckDB (`mesh_cli.plugin.dialect`); and hands the
    package the mesh's governance library (governance.yml beside mesh.yml) in MESH_GOVERNANCE_LIBRARY and the
    share topology of mesh.yml in MESH_SHARE_TOPOLOGY and the models domain.yml shares with outside accounts in
    MESH_CROSS_ACCOUNT_MODELS (which policy variants a public model carries)."""

    def initialize(self) -> None:
        from mesh_cli.core.governance_library import (
            CROSS_ACCOUNT_ENV,
            LIBRARY_ENV,
            TOPOLOGY_ENV,
            cross_account_models,
            library_json,
            share_topology,
        )
        from mesh_cli.plugin import dialect, local_macros, side_door_guard

        dialect.install()
        local_macros.install()
        project_dir = _domain_dir()
        side_door_guard.install(project_dir)    # judge a domain's run-time statements (docs/governance.md)
        _export(LIBRARY_ENV, library_json(project_dir))
        _export(TOPOLOGY_ENV, share_topology(project_dir))
        _export(CROSS_ACCOUNT_ENV, cross_account_models(project_dir))

    @dbt_hook
    def get_nodes(self) -> PluginNodes:
        from mesh_cli.plugin.resolver import resolve
        from mesh_cli.shares.access import shared_relations

        nodes = PluginNodes()
        for model in resolve(_domain_dir(), getattr(get_flags(), "TARGET", None), share_lookup=shared_relations):
            nodes.add_model(ModelNodeArgs(
                name=model.name,
                package_name=model.package,
                identifier=model.alias,
                schema=model.schema,
                database=model.database,
                relation_name=model.relation_name,
                version=_node_version(model.version),
                latest_version=_node_version(model.latest_version),
                deprecation_date=model.deprecation_date,
                access="public",
            ))
        return nodes


plugins = [DataMeshPlugin]
