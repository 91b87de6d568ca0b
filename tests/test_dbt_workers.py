"""dbt workers: forked from a server that imported dbt once, each with the environment of its pool's maker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mesh_cli.dbt.invoke import MESSAGE_PREFIX, DbtCall, DbtJob, DbtWorkers, run_job
from mesh_cli.engines.registry import DEFAULT_ADAPTER

PROJECT = """\
name: probe
version: "1.0"
profile: probe
flags: {send_anonymous_usage_stats: false}
"""
PROFILE = """\
probe:
  target: dev
  outputs:
    dev: {type: duckdb, path: probe.duckdb, threads: 1}
"""
MACRO = """\
{% macro say() %}
  {{ log("data_mesh: " ~ env_var("MESH_PROBE", "unset") ~ " " ~ env_var("MESH_PROBE_JOB", "unset"), info=True) }}
{% endmacro %}
"""


def _project(folder: Path) -> Path:
    (folder / "macros").mkdir(parents=True)
    (folder / "dbt_project.yml").write_text(PROJECT)
    (folder / "profiles.yml").write_text(PROFILE)
    (folder / "macros" / "say.sql").write_text(MACRO)
    return folder


def _said(workers: DbtWorkers, project: Path, env: dict[str, str]) -> list[str]:
    outcome = workers.submit(DbtJob((DbtCall(("run-operation", "say"), project),), env, DEFAULT_ADAPTER)).result()
    assert outcome.ok, outcome.error
    return [message.removeprefix(MESSAGE_PREFIX).strip() for message in outcome.messages]


def test_a_worker_has_the_environment_of_its_pools_maker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fork server keeps the environment it started with; a worker of a later pool must see the variables
    its maker has now (as a spawned process would), and a job's own variables over them."""
    project = _project(tmp_path / "probe")
    monkeypatch.delenv("MESH_PROBE", raising=False)
    with DbtWorkers(1) as first:   # the fork server exists from here on, without MESH_PROBE
        assert _said(first, project, {}) == ["unset unset"]
    monkeypatch.setenv("MESH_PROBE", "maker")
    with DbtWorkers(1) as later:
        assert _said(later, project, {"MESH_PROBE_JOB": "job"}) == ["maker job"]
        assert _said(later, project, {}) == ["maker unset"]   # a job's variables do not outlive it


def test_dbt_deps_without_the_hub_names_the_package_and_the_local_fix_in_one_line(tmp_path: Path) -> None:
    """The build machine cannot reach hub.getdbt.com: a real `dbt deps` fails, and the error is one line naming
    the hub package and the `local:` fix, not dbt's HTTPS error."""
    (tmp_path / "dbt_project.yml").write_text("name: shop\nversion: '1.0.0'\nconfig-version: 2\nprofile: shop\n")
    (tmp_path / "profiles.yml").write_text("shop:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: x.db}\n")
    (tmp_path / "packages.yml").write_text("packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.1.1\n")
    outcome = run_job(DbtJob((DbtCall(("deps",), tmp_path),), {}, "duckdb"))
    assert not outcome.ok
    assert outcome.error == (
        f"dbt deps cannot reach the dbt hub (hub.getdbt.com) for dbt-labs/dbt_utils ({tmp_path / 'packages.yml'}); "
        "vendor each package into the repository and install it with `local: <its folder, relative to this "
        "project>` in place of `package:`")


def _line_of(text: str) -> int:
    """The line of mesh_cli/dbt/invoke.py that holds `text` (once)."""
    import mesh_cli.dbt.invoke as invoke

    [line] = [n for n, source in enumerate(Path(invoke.__file__).read_text().splitlines(), 1) if text in source]
    return line


def test_a_bug_in_meshs_steps_around_dbt_raises_naming_its_line(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in mesh's own code in a worker (not dbt's failure, which ends in the outcome) is raised, noted with
    the line of mesh it was raised at, and the job's variables do not outlive it (the worker lives on)."""
    import mesh_cli.dbt.invoke as invoke
    from mesh_cli.core.errors import exit_code_of, raised_at

    def broken(*args: object) -> None:
        raise KeyError("views")

    monkeypatch.setattr(invoke, "keep_partial_parse_of", broken)
    monkeypatch.delenv("MESH_PROBE_JOB", raising=False)
    with pytest.raises(KeyError) as raised:
        run_job(DbtJob((DbtCall(("build",), tmp_path),), {"MESH_PROBE_JOB": "job"}, DEFAULT_ADAPTER))
    assert exit_code_of(raised.value) == 3
    assert raised_at(raised.value) == f"mesh_cli/dbt/invoke.py:{_line_of('keep_partial_parse_of(call.project_dir')}"
    assert "MESH_PROBE_JOB" not in os.environ


def test_a_bug_in_a_worker_process_ends_the_command_as_an_internal_error_naming_its_line(tmp_path: Path) -> None:
    """Across the process boundary (a pool sends the exception back without its frames): exit 3, the line in the
    worker named, the worker's traceback in the saved file; the pool still runs the next job."""
    import re

    import click
    from click.testing import CliRunner

    from mesh_cli.commands.common import handle_errors

    where = f"mesh_cli/dbt/invoke.py:{_line_of('or call.args[0] == ')}"
    with DbtWorkers(1) as workers:
        @click.command()
        @handle_errors
        def crashing() -> None:   # a call without a dbt command: mesh's own step fails on it, before dbt runs
            workers.submit(DbtJob((DbtCall((), tmp_path),), {}, DEFAULT_ADAPTER)).result()

        result = CliRunner().invoke(crashing, [])
        assert result.exit_code == 3, result.output
        found = re.search(rf"internal error in mesh \S+ \(IndexError: tuple index out of range at {where}\): "
                          r"please report it; traceback in (\S+)", " ".join(result.output.split()))
        assert found, result.output
        saved = Path(found.group(1)).read_text()
        Path(found.group(1)).unlink()
        assert "call.args[0]" in saved and f"raised in a worker process at {where}" in saved
        assert workers.submit(DbtJob((), {}, DEFAULT_ADAPTER)).result().ok
