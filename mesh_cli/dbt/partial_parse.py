"""dbt's partial parse, kept only where it was made.

dbt reuses `target/partial_parse.msgpack` when the project's files hash the same, whatever folder they now live in,
and its nodes keep the `root_path` of the folder that parsed them: a checkout moved or copied with its `target/`
would load seeds from the old folder (dbt-duckdb's `COPY ... FROM '<root_path>/seeds/...'`), reading another
checkout's file, or none. Each dbt call the mesh makes first drops a partial parse made in another folder, known
by the folder it last recorded beside it (or by no record: a parse the mesh did not make), so dbt parses afresh.
"""

from __future__ import annotations

from pathlib import Path

PARTIAL_PARSE = "partial_parse.msgpack"
MADE_IN = ".mesh_parsed_in"   # beside it: the project folder the partial parse belongs to


def keep_partial_parse_of(project_dir: Path, target: Path) -> None:
    """Drop `target`'s partial parse unless `project_dir` made it; record `project_dir` as its maker.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     target = Path(tmp, "b", "target"); target.mkdir(parents=True)
    ...     _ = (target / PARTIAL_PARSE).write_bytes(b"parsed in a")
    ...     _ = (target / MADE_IN).write_text(str(Path(tmp, "a").resolve()))
    ...     keep_partial_parse_of(Path(tmp, "b"), target)
    ...     (target / PARTIAL_PARSE).exists(), (target / MADE_IN).read_text() == str(Path(tmp, "b").resolve())
    (False, True)
    """
    folder = str(project_dir.resolve())
    record = target / MADE_IN
    recorded = record.read_text() if record.is_file() else None
    if recorded == folder:
        return
    (target / PARTIAL_PARSE).unlink(missing_ok=True)
    target.mkdir(parents=True, exist_ok=True)
    record.write_text(folder)
