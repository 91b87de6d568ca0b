"""`mesh provision`: each domain's infrastructure, declared in mesh.yml / domain.yml, reconciled per engine."""

from __future__ import annotations

from mesh_cli.provision.run import ProvisionResult, provision
from mesh_cli.provision.spec import MeshFootprint, declared_footprint

__all__ = ["MeshFootprint", "ProvisionResult", "declared_footprint", "provision"]
