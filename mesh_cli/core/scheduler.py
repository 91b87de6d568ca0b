"""Run named tasks in dependency order, up to `jobs` at a time; a failed task's downstream is skipped.

The one scheduler of the mesh: `mesh build` runs domains through it, `dbt.parse.parse_domains` their parses.
The caller says how a task starts (`start`: a `Future` for work running elsewhere, or its result at once, e.g. a
cache hit) and judges how it ended (`finish`: succeeded or not). Everything but waiting runs in the calling
thread, in the given order among the tasks that are ready.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

from mesh_cli.core.errors import MeshError

SUCCESS, FAILED, SKIPPED = "success", "failed", "skipped"

R = TypeVar("R")   # what a task's future gives
N = TypeVar("N")   # what a task's `start` gives now (e.g. a cache hit)


@dataclass(frozen=True)
class Ended:
    """How a task ended: `success`, `failed` or `skipped` (with the reason)."""

    status: str
    reason: str | None = None


@dataclass
class Tasks(Generic[R, N]):
    """What the scheduler runs.

    `order`: the task names, in the order to prefer among those ready. `upstreams`: each task's upstreams (those
    not in `order` count as done). `start(name)` starts a task: a `Future` of its result, or the result itself.
    `finish(name, result)` says whether it succeeded. `skip(name, reason)` hears of a task skipped because an
    upstream did not succeed. `instant(name)` says a task's `start` will give its result at once (it then
    starts even while `jobs` futures run). `idle()`, when given, does a bit of the caller's own work while
    tasks run and says whether there was any (the scheduler then only polls).
    """

    order: Sequence[str]
    upstreams: Mapping[str, Collection[str]]
    start: Callable[[str], Future[R] | N]
    finish: Callable[[str, R | N], bool]
    skip: Callable[[str, str], None] = lambda name, reason: None
    instant: Callable[[str], bool] = lambda name: False
    idle: Callable[[], bool] | None = None


def run_tasks(tasks: Tasks[R, N], jobs: int = 1) -> dict[str, Ended]:
    """Run every task once its upstreams succeeded, at most `jobs` futures at a time; returns how each ended.

    Raises `MeshError` when upstreams form a cycle (no task can start and none runs). An exception raised by
    `start`, `finish` or a future propagates; the futures still running are the caller's to wind down.
    """
    selected = set(tasks.order)
    ended: dict[str, Ended] = {}
    pending = list(tasks.order)
    running: dict[Future[R], str] = {}

    def end(name: str, result: R | N) -> None:
        ended[name] = Ended(SUCCESS if tasks.finish(name, result) else FAILED)

    while pending or running:
        progressed = True
        while progressed:
            progressed = False
            for name in list(pending):
                blockers = [up for up in tasks.upstreams.get(name, ()) if up in selected]
                unmet = next((up for up in blockers if up in ended and ended[up].status != SUCCESS), None)
                if unmet is not None:
                    pending.remove(name)
                    ended[name] = Ended(SKIPPED, f"upstream {unmet} {ended[unmet].status}")
                    tasks.skip(name, ended[name].reason or "")
                    progressed = True
                elif all(up in ended for up in blockers) and (len(running) < max(1, jobs) or tasks.instant(name)):
                    pending.remove(name)
                    started = tasks.start(name)
                    if isinstance(started, Future):
                        running[started] = name
                    else:
                        end(name, started)
                        progressed = True
        if not running:
            if pending:
                raise MeshError(f"cannot order {', '.join(pending)}: their upstreams form a cycle")
            continue
        busy = tasks.idle() if tasks.idle is not None else False
        done, _ = wait(list(running), timeout=0 if busy else None, return_when=FIRST_COMPLETED)
        for future in [f for f in running if f in done]:
            end(running.pop(future), future.result())
    return ended
