"""The first import of Snowpark, serialised across dbt's model threads.

dbt runs models in threads; two Python models importing the `snowflake.snowpark` package tree at once can
deadlock on its module locks, and Python then hands one of them a half-initialised module ("cannot import
name 'snowpark' from 'snowflake'"). Each compiled Python model on DuckDB calls `load()` first.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

_LOCK = threading.Lock()


def load() -> ModuleType:
    """`mesh_cli.engines.snowpark_local`, imported by one thread at a time."""
    with _LOCK:
        return importlib.import_module("mesh_cli.engines.snowpark_local")
