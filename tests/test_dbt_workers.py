"""dbt workers: forked from a server that imported dbt once, each with the environment of its pool's maker."""

from __future__ import annotations

from pathlib import Path

import pytest

from mesh_cli.dbt.invoke import MESSAGE_PREFIX, DbtCall, DbtJob, DbtWorkers
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
