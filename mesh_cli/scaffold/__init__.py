"""`mesh init`: scaffold a new mesh repository or a new domain from templates shipped as package data."""

from __future__ import annotations

from mesh_cli.scaffold.init import init_domain, init_mesh, init_workflows

__all__ = ["init_domain", "init_mesh", "init_workflows"]
