"""The one scheduler (`core.scheduler`): dependency order, bounded parallelism, skip-downstream-on-failure."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from mesh_cli.core.errors import MeshError
from mesh_cli.core.scheduler import FAILED, SKIPPED, SUCCESS, Ended, Tasks, run_tasks


class Recorder:
    """Runs each task in a thread pool for `seconds`, recording starts, ends and the most running at once."""

    def __init__(self, pool: ThreadPoolExecutor, failing: set[str] = frozenset(), seconds: float = 0.02) -> None:
        self.pool = pool
        self.failing = failing
        self.seconds = seconds
        self.events: list[tuple[str, str]] = []
        self.skipped: dict[str, str] = {}
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def _work(self, name: str) -> bool:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
        return name not in self.failing

    def start(self, name: str) -> Future[bool]:
        self.events.append(("start", name))
        return self.pool.submit(self._work, name)

    def finish(self, name: str, ok: bool) -> bool:
        self.events.append(("end", name))
        return ok

    def skip(self, name: str, reason: str) -> None:
        self.skipped[name] = reason

    def tasks(self, order: Sequence[str], upstreams: Mapping[str, tuple[str, ...]]) -> Tasks[bool, bool]:
        return Tasks(order, upstreams, self.start, self.finish, self.skip)

    def index(self, event: str, name: str) -> int:
        return self.events.index((event, name))


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=8) as executor:
        yield executor


def test_a_task_starts_only_after_its_upstreams_ended(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder(pool)
    ended = run_tasks(recorder.tasks(["a", "b", "c"], {"b": ("a",), "c": ("b",)}), jobs=4)
    assert ended == {name: Ended(SUCCESS) for name in "abc"}
    assert recorder.index("end", "a") < recorder.index("start", "b")
    assert recorder.index("end", "b") < recorder.index("start", "c")
    assert recorder.most == 1


def test_independent_tasks_run_together_up_to_jobs(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder(pool, seconds=0.05)
    names = [f"t{i}" for i in range(6)]
    ended = run_tasks(recorder.tasks(names, {}), jobs=2)
    assert all(end.status == SUCCESS for end in ended.values()) and len(ended) == 6
    assert recorder.most == 2
    assert [name for event, name in recorder.events if event == "start"] == names  # the given order


def test_jobs_below_one_still_runs_one_at_a_time(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder(pool)
    run_tasks(recorder.tasks(["a", "b"], {}), jobs=0)
    assert recorder.most == 1


def test_a_failure_skips_the_whole_downstream_with_the_reason(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder(pool, failing={"a"})
    ended = run_tasks(recorder.tasks(["a", "d", "b", "c"], {"b": ("a",), "c": ("b",)}), jobs=2)
    assert ended["a"] == Ended(FAILED)
    assert ended["b"] == Ended(SKIPPED, "upstream a failed")
    assert ended["c"] == Ended(SKIPPED, "upstream b skipped")
    assert ended["d"] == Ended(SUCCESS)  # not downstream of a: unaffected
    assert recorder.skipped == {"b": "upstream a failed", "c": "upstream b skipped"}
    assert ("start", "b") not in recorder.events and ("start", "c") not in recorder.events


def test_a_failed_root_starts_nothing_downstream(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder(pool, failing={"root"})
    ended = run_tasks(recorder.tasks(["root", "x", "y"], {"x": ("root",), "y": ("root", "x")}), jobs=3)
    assert [name for event, name in recorder.events if event == "start"] == ["root"]
    assert ended["x"] == Ended(SKIPPED, "upstream root failed")
    assert ended["y"].status == SKIPPED and ended["y"].reason in ("upstream root failed", "upstream x skipped")


def test_a_diamond_joins_after_both_sides(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder(pool)
    upstreams = {"b": ("a",), "c": ("a",), "d": ("b", "c")}
    ended = run_tasks(recorder.tasks(["a", "b", "c", "d"], upstreams), jobs=4)
    assert all(end.status == SUCCESS for end in ended.values())
    assert recorder.most == 2  # b and c together
    assert max(recorder.index("end", "b"), recorder.index("end", "c")) < recorder.index("start", "d")


def test_a_diamond_with_one_failed_side_skips_the_join_only(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder(pool, failing={"c"})
    ended = run_tasks(recorder.tasks(["a", "b", "c", "d"], {"b": ("a",), "c": ("a",), "d": ("b", "c")}), jobs=4)
    assert (ended["a"], ended["b"], ended["c"]) == (Ended(SUCCESS), Ended(SUCCESS), Ended(FAILED))
    assert ended["d"] == Ended(SKIPPED, "upstream c failed")


def test_results_given_at_once_need_no_future_and_take_no_slot(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder(pool, seconds=0.05)
    cached = {"hit1", "hit2"}

    def start(name: str) -> Future[bool] | bool:
        return True if name in cached else recorder.start(name)

    tasks = Tasks(["slow", "hit1", "hit2", "after"], {"after": ("hit1", "hit2")}, start, recorder.finish,
                  instant=cached.__contains__)
    ended = run_tasks(tasks, jobs=1)
    assert all(end.status == SUCCESS for end in ended.values())
    # the cache hits end (and free their downstream) while `slow` still runs in the only slot
    assert recorder.index("end", "hit2") < recorder.index("end", "slow")


def test_upstreams_outside_the_tasks_count_as_done(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder(pool)
    assert run_tasks(recorder.tasks(["b"], {"b": ("built_elsewhere",)})) == {"b": Ended(SUCCESS)}


def test_a_cycle_is_refused_before_anything_in_it_starts(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder(pool)
    with pytest.raises(MeshError, match="cannot order b, c: their upstreams form a cycle"):
        run_tasks(recorder.tasks(["a", "b", "c"], {"b": ("c",), "c": ("b",)}))
    assert [name for event, name in recorder.events if event == "start"] == ["a"]


def test_idle_work_runs_while_tasks_run(pool: ThreadPoolExecutor) -> None:
    recorder = Recorder(pool, seconds=0.05)
    chores = ["x", "y"]
    done_while_running: list[bool] = []

    def idle() -> bool:
        if not chores:
            return False
        chores.pop()
        done_while_running.append(recorder.running > 0 or ("end", "t") not in recorder.events)
        return True

    run_tasks(Tasks(["t"], {}, recorder.start, recorder.finish, idle=idle))
    assert not chores and all(done_while_running)


def test_an_exception_in_a_task_propagates(pool: ThreadPoolExecutor) -> None:
    def broken(name: str) -> Future[bool]:
        return pool.submit(lambda: 1 / 0)  # a bug, not a failed task

    with pytest.raises(ZeroDivisionError):
        run_tasks(Tasks(["a"], {}, broken, lambda name, ok: bool(ok)))
