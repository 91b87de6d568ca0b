"""Render a template tree (package data) into a new folder, all or nothing.

Templates use `[[ ]]` / `[% %]` delimiters so that the dbt Jinja they contain (`{{ ref(...) }}`) passes through
untouched; path parts are templates too (`stg_[[ name ]].sql.j2`), and a leading `dot-` stands for `.` (`dot-github`,
`dot-gitignore`), so hidden files survive packaging.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import jinja2

from mesh_cli.core.errors import MeshError

TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENV = jinja2.Environment(variable_start_string="[[", variable_end_string="]]", block_start_string="[%",
                          block_end_string="%]", comment_start_string="[#", comment_end_string="#]",
                          keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False)


def render_tree(kind: str, context: dict[str, Any]) -> dict[Path, str]:
    """Relative path → content of every file of the `kind` template tree."""
    root = TEMPLATES / kind
    files: dict[Path, str] = {}
    for template in sorted(root.rglob("*.j2")):
        parts = [_ENV.from_string(part).render(context) for part in template.relative_to(root).parts]
        parts = ["." + part.removeprefix("dot-") if part.startswith("dot-") else part for part in parts]
        relative = Path(*parts)
        files[relative.with_name(relative.name.removesuffix(".j2"))] = _ENV.from_string(
            template.read_text(encoding="utf-8")).render(context)
    return files


def write_new_folder(dest: Path, files: dict[Path, str]) -> None:
    """Write `files` into `dest`, which must not exist: staged in a sibling temporary folder, then renamed, so a
    failure leaves nothing behind."""
    if dest.exists():
        raise MeshError(f"{dest} already exists; choose another folder or remove it first")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        for relative, content in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_into_folder(dest: Path, files: dict[Path, str]) -> None:
    """Write `files` into the existing folder `dest` (`mesh init mesh .`): the folder stays where it is (a shell may
    stand in it); a failure puts back what was there (files and folders written removed, files rewritten as
    they were)."""
    before = {relative: (dest / relative).read_text(encoding="utf-8") for relative in files
              if (dest / relative).is_file()}
    made = sorted({parent for relative in files for parent in (dest / relative).parents
                   if parent.is_relative_to(dest) and parent != dest and not parent.exists()},
                  key=lambda folder: len(folder.parts), reverse=True)
    written: list[Path] = []
    try:
        for relative, content in files.items():
            path = dest / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            written.append(relative)   # before the write: a write that fails half-way is put back too
            path.write_text(content, encoding="utf-8")
    except BaseException:
        for relative in written:
            if relative in before:
                (dest / relative).write_text(before[relative], encoding="utf-8")
            else:
                (dest / relative).unlink(missing_ok=True)
        for folder in made:   # deepest first, each empty by now
            if folder.is_dir():
                folder.rmdir()
        raise
