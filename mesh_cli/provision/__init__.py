"""`mesh provision`: each domain's infrastructure, declared in mesh.yml / domain.yml, reconciled per engine."""

from __future__ import annotations

from mesh_cli.core.footprint import MeshFootprint
from mesh_cli.provision.run import ProvisionResult, provision
from mesh_cli.provision.spec import declared_footprint

__all__ = ["MeshFootprint", "ProvisionResult", "declared_footprint", "provision"]
