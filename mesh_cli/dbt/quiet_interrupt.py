"""Imported first by the fork server of the dbt workers (`invoke._PRELOADED`), before it imports dbt: a Ctrl-C goes
to the whole process group, and the command alone answers it (one line, exit 130), so neither the fork server
(while it imports dbt) nor the workers it forks (which inherit this) print a traceback."""

from __future__ import annotations

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
