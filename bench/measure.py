"""Measuring commands: whole-process wall time, and peak memory of the process and of its whole tree.

Every figure of the benchmarks is a command run as a user runs it (a new process), so import costs count.
Memory is read from /proc (Linux): the peak of the summed RSS of the process and its descendants, sampled
every few milliseconds, and the exact peak RSS of the largest single process from the kernel (`wait4`).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
SAMPLE_SECONDS = 0.02
QUIET_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}


@dataclass(frozen=True)
class Run:
    """One command's cost."""

    seconds: float
    tree_peak_mib: float   # peak of the summed RSS of the process tree (sampled; 0 unless asked for)
    max_rss_mib: float     # peak RSS of the largest single process of the tree (exact)
    output: str


class CommandFailed(RuntimeError):
    """A benchmarked command exited with an error: the benchmark's setup is broken, not slow."""


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a benchmarked command: no mesh variables of the caller, no dbt tracking."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESH_")}
    return {**env, **QUIET_ENV, **extra}


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="utf-8") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(pid: int) -> int:
    """The summed RSS of `pid` and all its descendants, in bytes."""
    tree = _children()
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += _rss_bytes(current)
        stack.extend(tree.get(current, ()))
    return total


class _Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self.done.wait(SAMPLE_SECONDS)


def run(command: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None, *,
        check: bool = True, tree_memory: bool = False) -> Run:
    """Run a command to its end and measure it; a failure raises CommandFailed with its output's end. The
    process tree's memory is sampled only when asked for: reading /proc every 20 ms takes CPU from the
    command, which timings must not pay for."""
    started = time.perf_counter()
    process = subprocess.Popen([str(part) for part in command], cwd=cwd, env=env or clean_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = _Sampler(process.pid)
    if tree_memory:
        sampler.start()
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    sampler.done.set()
    if tree_memory:
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if check and process.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise CommandFailed(f"`{' '.join(str(p) for p in command)}` in {cwd} exited {process.returncode}:\n{tail}")
    return Run(seconds, sampler.peak / MIB, usage.ru_maxrss * 1024 / MIB, output)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))
