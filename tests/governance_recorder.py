"""The fakesnow governance recorder, test only: the shipped data_mesh package has no switch that turns governance
off (issue #26, item 11). A test that builds on fakesnow installs the recorder's macro into the project it builds,
then sets MESH_GOVERNANCE_RECORD=true in dbt's environment; the package logs each tag, policy and inline clause
(`data_mesh:governance ...`) instead of running it, and refuses the recorder on any other Snowflake account."""

from __future__ import annotations

import shutil
from pathlib import Path

RECORDER = Path(__file__).resolve().parent / "governance_recorder" / "recording.sql"
RECORD_ENV = "MESH_GOVERNANCE_RECORD"


def install_recorder(project: Path) -> Path:
    """Copy the recorder into the dbt project's macros/ folder; returns the copy."""
    (project / "macros").mkdir(exist_ok=True)
    return Path(shutil.copy(RECORDER, project / "macros" / "data_mesh_governance_recorder.sql"))
