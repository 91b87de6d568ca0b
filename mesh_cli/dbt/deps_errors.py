"""`dbt deps` failing to reach the dbt hub, said in one line: the hub packages of the project and the fix, not
the HTTPS error (hub.getdbt.com is out of reach on an offline build machine)."""

from __future__ import annotations

from pathlib import Path

from mesh_cli.core.yamlfile import read_mapping

_OFFLINE_SIGNS = ("hub.getdbt.com", "External connection exception")


def hub_packages(project_dir: Path) -> list[str]:
    """The `package:` entries (hub packages) of a project's packages.yml (or dependencies.yml)."""
    found: list[str] = []
    for name in ("packages.yml", "dependencies.yml"):
        path = project_dir / name
        entries = (read_mapping(path, default={}).get("packages") or []) if path.is_file() else []
        found += [str(e["package"]) for e in entries if isinstance(e, dict) and "package" in e]
    return found


def deps_error(project_dir: Path, error: str) -> str:
    """`error`, dbt deps's own line, or the one line naming the hub packages and the `local:` fix when the hub was
    out of reach."""
    packages = hub_packages(project_dir)
    if not packages or not any(sign in error for sign in _OFFLINE_SIGNS):
        return error
    return (f"dbt deps cannot reach the dbt hub (hub.getdbt.com) for {', '.join(packages)} "
            f"({project_dir / 'packages.yml'}); vendor each package into the repository and install it with "
            "`local: <its folder, relative to this project>` in place of `package:`")
