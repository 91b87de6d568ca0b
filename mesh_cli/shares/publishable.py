"""What `mesh publish` would refuse after the build, found by `mesh check` first (the CLI hands it to the check):
consumer accounts, secure shared views, views over another domain in a product shared across accounts, shared
models rebuilt without `copy_grants` where that drops grants, share names over 255 characters, object names that
are no Snowflake identifier, the accounts of an account-per-domain mesh. A product listing a model that is not
public is left to the `shared-public` rule."""

from __future__ import annotations

from typing import Any

from mesh_cli.core.domains import Domain, domain_file
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_library import AccessModel
from mesh_cli.core.manifest import ref_targets_of
from mesh_cli.core.share_settings import ShareSettings
from mesh_cli.engines.registry import adapter_type, engine_class
from mesh_cli.shares.spec import desired_shares


def publish_problem(domain: Domain, manifest: dict[str, Any], domains: dict[str, Domain], settings: ShareSettings,
                    access: AccessModel, *, target: str | None = None) -> str | None:
    """The one line `mesh publish` would fail the domain with on `target`, or None."""
    public = {model.name for model in ref_targets_of(manifest, domain.name) if model.access == "public"}
    listed = {str(model) for entry in domain.products if isinstance(entry, dict)
              for model in entry.get("models") or [] if isinstance(entry.get("models"), list)}
    if listed - public:
        return None   # reported as `shared-public`, with the consumers it would cut off
    try:
        keep_grants = target is not None and engine_class(adapter_type(domain, target)).replace_drops_grants
        desired_shares(domain, manifest, domains, settings, access, keep_grants=keep_grants)
    except MeshError as exc:
        return str(exc) if exc.path else f"{domain_file(domain.path)}: {exc}"
    return None
