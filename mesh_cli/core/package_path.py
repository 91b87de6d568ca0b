"""Where the `data_mesh` dbt package is: inside the installed distribution (package data), or the repository
root in a development checkout. `python -m mesh_cli.core.package_path` prints it (so does `mesh package-path`)."""

from __future__ import annotations

from pathlib import Path

from mesh_cli.core.errors import MeshError

PACKAGE_ENV = "DATA_MESH_PACKAGE"
_HERE = Path(__file__).resolve().parents[1]   # mesh_cli/: the wheel ships the package in mesh_cli/dbt_package


def dbt_package_path() -> Path:
    """The folder holding the package's dbt_project.yml, macros/ and models/."""
    for candidate in (_HERE / "dbt_package", _HERE.parent):
        project = candidate / "dbt_project.yml"
        if project.is_file() and "name: data_mesh" in project.read_text(encoding="utf-8"):
            return candidate
    raise MeshError(f"the data_mesh dbt package is not installed next to {_HERE}; reinstall dbt-data-mesh")


if __name__ == "__main__":
    print(dbt_package_path())
