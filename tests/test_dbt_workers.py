"""dbt workers: forked from a server that imported dbt once, each with the environment of its pool's maker."""

from __future__ import annotations

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
