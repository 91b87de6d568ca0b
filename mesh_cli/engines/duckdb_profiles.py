"""DuckDB profile outputs as `mesh init --adopt` reads and writes them: under `mesh build` every project's database
file lives in one folder, `MESH_DUCKDB_DIR`, and dbt runs from another folder than the project, so a relative path,
a database kept in memory, an upstream's file the project does not attach and two files of one name stand in the
way; the output `local` adoption writes keeps one file per project there, its upstreams attached read-only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mesh_cli.core.profile_outputs import LocalOutput, ProfileOutput, ProfileProblem
from mesh_cli.engines.duckdb import DATABASE_SUFFIX, DUCKDB_DIR_ENV, DuckDBEngine, default_database_dir

MEMORY = ":memory:"   # dbt-duckdb's path when the profile names none


def _mesh_path(written: str) -> str:
    """A path written relative to the project, read from `MESH_DUCKDB_DIR` under `mesh build`."""
    folder, name = os.path.split(written)
    return "{{ env_var('" + DUCKDB_DIR_ENV + "', '" + (folder or ".") + "') }}/" + name


def _relative(path: str, written: Any) -> bool:
    """Whether dbt resolves `path` from the folder it runs in (relative, not read from `MESH_DUCKDB_DIR`)."""
    return bool(path) and not Path(path).is_absolute() and DUCKDB_DIR_ENV not in str(written)


def _path_edit(written: str, fix: str) -> tuple[str, str]:
    return f"path: {written}", f'path: "{fix}"'


def _path_problems(output: ProfileOutput, target: str) -> Iterator[ProfileProblem]:
    """A database in memory, and relative paths of the database and its attached ones."""
    name, path = output.project, str(output.rendered.get("path") or MEMORY)
    if path == MEMORY:
        yield ProfileProblem(name, f"target {target!r} keeps its DuckDB database in memory; downstream projects "
                             "cannot read it",
                             f"set `path: \"{_mesh_path(name + DATABASE_SUFFIX)}\"` in its profiles.yml")
        return
    written = output.written.get("path")
    if _relative(path, written):
        fix = _mesh_path(path)
        yield ProfileProblem(name, f"DuckDB path {path!r} is relative: dbt resolves it against the folder it runs "
                             "from, which under `mesh build` is not the project",
                             f"write `path: \"{fix}\"` in its profiles.yml (plain dbt in the project still uses "
                             f"{path}; mesh build sets {DUCKDB_DIR_ENV})",
                             _path_edit(path, fix) if written == path else None)
    written_attach = [a.get("path") for a in output.written.get("attach") or [] if isinstance(a, dict)]
    for attach, written_path in zip(output.rendered.get("attach") or [], written_attach, strict=False):
        attached = str(attach.get("path", ""))
        if _relative(attached, written_path):
            fix = _mesh_path(attached)
            yield ProfileProblem(name, f"attached DuckDB path {attached!r} is relative to the folder dbt runs from",
                                 f"write `path: \"{fix}\"` under `attach:` in its profiles.yml",
                                 _path_edit(attached, fix) if written_path == attached else None)


def profile_problems(outputs: list[ProfileOutput], target: str) -> Iterator[ProfileProblem]:
    """Relative DuckDB paths (mesh builds from another folder than the project), databases in memory, and upstream
    databases a downstream does not attach."""
    files: dict[str, Path] = {}
    for output in outputs:
        yield from _path_problems(output, target)
        path = str(output.rendered.get("path") or MEMORY)
        if path != MEMORY:
            files[output.project] = (output.folder / path).resolve()
    for output in outputs:
        attached = {(output.folder / str(a.get("path", ""))).resolve()
                    for a in output.rendered.get("attach") or [] if isinstance(a, dict)}
        for upstream in output.upstreams:
            if upstream in files and files[upstream] not in attached:
                relative = os.path.relpath(files[upstream], output.folder)
                yield ProfileProblem(output.project, f"its DuckDB target does not attach the database of upstream "
                                     f"{upstream} ({files[upstream]}), so refs to {upstream} cannot be read",
                                     f"add to target {target!r} in its profiles.yml: `attach: [{{path: "
                                     f"\"{_mesh_path(relative)}\", read_only: true}}]`")


def output_collisions(outputs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Projects whose DuckDB files have one name: under `mesh build` every file lives in one folder, and the second
    attach fails (`already attached`)."""
    by_file: dict[str, list[str]] = {}
    for name, output in sorted(outputs.items()):
        by_file.setdefault(Path(str(output.get("path") or MEMORY)).name, []).append(name)
    return {name: f"its DuckDB file {file} has the name of {next(o for o in names if o != name)}'s: under "
                  "`mesh build` both live in one folder and the second attach fails (`already attached`)"
            for file, names in by_file.items() if len(names) > 1 and file != MEMORY for name in names}


def local_profile_output(project: str, folder: Path, state_dir: Path, upstreams: tuple[str, ...]) -> LocalOutput:
    """One database file per project in the mesh's DuckDB folder (`MESH_DUCKDB_DIR`, by default the one the mesh
    keeps under its state folder), written relative to the project; its upstreams' files attached read-only."""
    default = os.path.relpath(default_database_dir(state_dir), folder)

    def file(name: str) -> str:
        return _mesh_path(os.path.join(default, name + DATABASE_SUFFIX))
    lines = [f"type: {DuckDBEngine.adapter_type}", f"path: \"{file(project)}\"", "schema: main", "threads: 4"]
    if upstreams:
        lines.append("attach:")
        lines += [f"  - {{path: \"{file(u)}\", alias: {u}, read_only: true}}" for u in upstreams]
    return LocalOutput(lines, f"its own file {project}{DATABASE_SUFFIX}")
