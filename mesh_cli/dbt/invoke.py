"""Running dbt: in long-lived worker processes that import dbt once and run many invocations.

dbt's global state is not safe across threads of one process, so parallel domains run in separate processes;
each keeps dbt imported between domains, which saves about 1.5 s per domain compared with starting `dbt` on the
command line. Workers are forked from a fork server that imported dbt once (about 2 s of CPU), so a pool of N
workers pays one import, not N, and a new pool starts at once; each worker then takes the environment and folder
of the process that made its pool, as a spawned process would. Where there is no fork server, workers spawn.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesh_cli.core.errors import note_raised_at
from mesh_cli.core.run_record import FAILED_STATUSES
from mesh_cli.dbt.artifacts import results_file, target_dir, write_manifest, write_results
from mesh_cli.dbt.deps_errors import deps_error
from mesh_cli.dbt.partial_parse import keep_partial_parse_of

QUIET_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}


@dataclass(frozen=True)
class DbtCall:
    """One dbt command in one project, e.g. `("build", "--target", "dev")`."""

    args: tuple[str, ...]
    project_dir: Path
    may_fail: bool = False   # a failure is recorded and the job goes on (e.g. `source freshness`)


@dataclass(frozen=True)
class DbtJob:
    """dbt commands run in order in one worker, stopping at the first failure."""

    calls: tuple[DbtCall, ...]
    env: dict[str, str]
    adapter_type: str
    verbose: bool = False
    label: str | None = None   # with one, each node dbt finishes is told to the pool's listener (DbtWorkers.listening)


@dataclass
class DbtOutcome:
    """What a job did: node counts by kind and status, failures, and the error that stopped it."""

    ok: bool = True
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    messages: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)   # "source.table (warn|error)" from `dbt source freshness`
    operation_error: str | None = None   # what stopped a `dbt run-operation` macro (dbt only logs it)


_DBT_PREFIXES = ("Runtime Error", "Parsing Error", "Compilation Error", "get_nodes:")


_PYTHON_MODEL_FAILED = "Python model failed:"
_EXCEPTION_LINE = re.compile(r"^[\w.]*(?:Error|Exception): ")
# where a macro raised: the hook or macro it ran in, and Jinja's call trail (`> in macro _fail (...)`)
_MACRO_PLACE = re.compile(r"^in (?:operation|macro) \S+ \([^)]*\)\s*")


def _first_line(text: str | None) -> str:
    r"""dbt's error text on one line, without dbt's category headings or the Jinja call trail of a macro's error.
    A failed Python model (dbt-duckdb prints its traceback) is the exception's own message, its last line.

    >>> _first_line("Compilation Error in operation shop-on-run-start-0 (./dbt_project.yml)\n"
    ...             "  models/_m.yml: shop.orders: tag 'secrecy' is unknown\n\n  > in macro _fail (macros/f.sql)")
    "models/_m.yml: shop.orders: tag 'secrecy' is unknown"
    """
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip() and not line.strip().startswith(">")]
    if any(line.startswith(_PYTHON_MODEL_FAILED) for line in lines[:3]) and _EXCEPTION_LINE.match(lines[-1]):
        return _EXCEPTION_LINE.sub("", lines[-1])
    message = " ".join(lines[:4]) if lines else "unknown error"
    stripped = True
    while stripped:
        stripped = False
        for prefix in _DBT_PREFIXES:
            if message.startswith(prefix):
                message, stripped = message[len(prefix):].strip(), True
    return _MACRO_PLACE.sub("", message).split(" > in macro ")[0]


def _failure_text(message: str | None) -> str:
    """dbt's error on one line, followed by the table of a failed contract (one line per mismatched column),
    which its first line only announces."""
    table = [line.strip() for line in str(message or "").splitlines() if line.strip().startswith("|")]
    return "\n".join([_first_line("\n".join(line for line in str(message or "").splitlines()
                                             if not line.strip().startswith("|"))),
                      *(f"    {line}" for line in table)])


def _record(outcome: DbtOutcome, result: object) -> None:
    for node_result in getattr(result, "results", None) or []:
        node = getattr(node_result, "node", None)
        if node is None:  # run-operation results carry no node
            continue
        status = str(getattr(node_result.status, "value", node_result.status)).lower()
        key = f"{node.resource_type}:{status}"
        outcome.counts[key] = outcome.counts.get(key, 0) + 1
        if node.resource_type == "source":
            if status != "pass":
                outcome.stale.append(f"{node.source_name}.{node.name} ({status})")
        elif status in FAILED_STATUSES:
            outcome.failures.append(f"{node.unique_id}: {_failure_text(node_result.message)}")


def needs_deps(project_dir: Path) -> bool:
    """Whether `dbt deps` must run first: packages declared but not installed, or changed since."""
    packages = project_dir / "packages.yml"
    if not packages.is_file():
        return False
    lock = project_dir / "package-lock.yml"
    return (not (project_dir / "dbt_packages").is_dir() or not lock.is_file()
            or lock.stat().st_mtime < packages.stat().st_mtime)


def with_deps(project_dir: Path, *calls: DbtCall) -> tuple[DbtCall, ...]:
    """`calls`, preceded by `dbt deps` when the project needs it."""
    return ((DbtCall(("deps",), project_dir),) if needs_deps(project_dir) else ()) + calls


MESSAGE_PREFIX = "data_mesh:"


_OPERATION_ERRORS = ("RunningOperationCaughtError", "RunningOperationUncaughtError")


def _message_collector(outcome: DbtOutcome) -> Callable[[Any], None]:
    """A dbt event callback keeping the package's own `log()` lines (those prefixed `data_mesh:`) and the error
    of a failed `run-operation`, which dbt reports only as an event."""
    def collect(event: Any) -> None:
        if event.info.name == "JinjaLogInfo" and event.data.msg.startswith(MESSAGE_PREFIX):
            outcome.messages.append(event.data.msg)
        elif event.info.name in _OPERATION_ERRORS:
            outcome.operation_error = event.data.exc
    return collect


NodeListener = Callable[[str, str], None]
"""Told `(label, "model:success")` for each node dbt finishes in a labelled job: its kind and status, as counted in
`DbtOutcome.counts`."""

_finished_nodes: Any = None   # in a worker: the queue its pool reads finished nodes from (`DbtWorkers.listening`)


def _node_reporter(label: str) -> Callable[[Any], None]:
    """A dbt event callback telling the pool each node the job finishes, as dbt finishes it."""
    def report(event: Any) -> None:
        if event.info.name == "NodeFinished" and _finished_nodes is not None:
            node = event.data.node_info
            _finished_nodes.put((label, f"{node.resource_type}:{event.data.run_result.status.lower()}"))
    return report


def run_job(job: DbtJob) -> DbtOutcome:
    """Run a job's dbt commands in this process (the worker's entry point). dbt's failures end in the outcome; a
    bug in mesh's own steps raises, noted with where it was raised (`core.errors.raised_at`)."""
    from dbt.cli.main import dbtRunner

    from mesh_cli.engines.registry import release_connections

    os.environ.update(QUIET_ENV)
    # dbt turns a logging problem into an exception inside its worker threads when it believes it runs under
    # pytest (and then waits forever for the node); a worker is production code wherever it was started from.
    os.environ.pop("PYTEST_CURRENT_TEST", None)
    previous = {name: os.environ.get(name) for name in job.env}
    os.environ.update(job.env)
    outcome = DbtOutcome()
    started = time.perf_counter()
    parsed: tuple[Any, Path] | None = None   # the job's `parse`: its manifest, reused by the commands after it
    try:
        for call in job.calls:
            log_level = "info" if job.verbose else "none"
            args = [*call.args, "--project-dir", str(call.project_dir),
                    "--profiles-dir", str(call.project_dir), "--log-level", log_level]
            reuse = parsed is not None or call.args[0] == "parse"
            if reuse:   # the worker writes the artifacts (dbt/artifacts.py)
                args.append("--no-write-json")
            callbacks = [_message_collector(outcome), *([_node_reporter(job.label)] if job.label else [])]
            runner = dbtRunner(manifest=parsed[0] if parsed else None, callbacks=callbacks)
            # dbt runs from the project's folder, as `cd domains/<d> && dbt build` does, so relative paths in
            # profiles (DuckDB files, attachments) mean the same under `mesh` as under plain dbt.
            folder = target_dir(call.args, call.project_dir)
            keep_partial_parse_of(call.project_dir, folder)
            with contextlib.chdir(call.project_dir):
                result = runner.invoke(args)
            if call.args[0] == "parse" and result.success:
                parsed = (result.result, folder)
            elif reuse and result.result is not None:
                write_results(result.result, folder, results_file(call.args))
            _record(outcome, result.result)
            if not result.success and not call.may_fail:
                outcome.ok = False
                if result.exception is not None or outcome.operation_error:
                    outcome.error = _first_line(str(result.exception or outcome.operation_error))
                    if call.args[0] == "deps":
                        outcome.error = deps_error(call.project_dir, outcome.error)
                elif not outcome.failures:
                    outcome.error = f"dbt {call.args[0]} failed"
                break
        if parsed is not None:   # once, after the last command: the nodes as they ran (compiled code included)
            write_manifest(*parsed)
    except Exception as exc:
        # dbt's own failures, a crash inside dbt included, come back in `result` (dbtRunner.invoke raises none):
        # what raises here is a bug in mesh's steps around dbt. It goes back to the command, which reports it as
        # an internal error (exit 3), never as the domain's failure; the worker itself lives on for other jobs.
        note_raised_at(exc)
        raise
    finally:
        release_connections(job.adapter_type)
        for name, value in previous.items():  # a long-lived worker keeps no job's variables for the next
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        outcome.seconds = time.perf_counter() - started
    return outcome


# imported once, by the fork server: Ctrl-C's quiet handling first, then mesh_cli, so its warning filters hold
# for whatever dbt imports
_PRELOADED = ["mesh_cli.dbt.quiet_interrupt", "mesh_cli", "dbt.cli.main", "mesh_cli.dbt.invoke"]


@functools.cache
def _worker_context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOADED)   # heeded when the server starts: the first pool of the process
    atexit.register(_stop_fork_server)
    return context


def _stop_fork_server() -> None:
    """Wait for the fork server at exit, after the pools (atexit runs last in, first out): it would outlive this
    process for a moment, and its CPU time, its workers' included, counts as this process's children's, as
    spawned workers' does (`time mesh build`)."""
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)   # CPython's own shutdown of it (no public form)
    if stop is not None:
        stop()


def _adopt(environment: dict[str, str], folder: str, finished_nodes: Any) -> None:
    """A new worker's first step: the environment and folder its pool's maker had (the fork server's are those of
    the first pool), and the queue it tells finished nodes to. A worker ignores Ctrl-C: the terminal sends it to
    the whole process group, and the command (the pool's maker) alone answers it, with one line."""
    global _finished_nodes
    _finished_nodes = finished_nodes
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(environment)
    with contextlib.suppress(OSError):   # a folder deleted since: every call runs in its project's folder anyway
        os.chdir(folder)


class DbtWorkers:
    """A pool of worker processes running dbt jobs."""

    def __init__(self, jobs: int) -> None:
        self._jobs = max(1, jobs)
        context = _worker_context()
        self._finished_nodes = context.SimpleQueue()   # (label, "kind:status") from labelled jobs; None: stop
        self._listener: NodeListener | None = None
        self._reader: threading.Thread | None = None
        self._pool = ProcessPoolExecutor(max_workers=self._jobs, mp_context=context, initializer=_adopt,
                                         initargs=(dict(os.environ), os.getcwd(), self._finished_nodes))
        self.warming = 0   # no-op jobs submitted to start workers early

    def submit(self, job: DbtJob) -> Future[DbtOutcome]:
        return self._pool.submit(run_job, job)

    def prewarm(self, count: int) -> None:
        """Have `count` workers start now, while the caller goes on with other work (those already asked for
        count). Starting the first one waits for the fork server to import dbt (about 2 s): a thread does it."""
        wanted = min(count, self._jobs) - self.warming
        if wanted > 0:
            self.warming += wanted
            threading.Thread(target=self._start, args=(wanted,), name="dbt-workers-prewarm", daemon=True).start()

    def _start(self, count: int) -> None:
        from mesh_cli.engines.registry import DEFAULT_ADAPTER

        with contextlib.suppress(RuntimeError):   # the pool was shut down first (the caller failed early)
            for _ in range(count):
                self.submit(DbtJob((), {}, DEFAULT_ADAPTER))

    @contextlib.contextmanager
    def listening(self, listener: NodeListener) -> Iterator[None]:
        """Tell `listener`, in a thread of this process, each node dbt finishes in labelled jobs, while inside (a
        node finished by then but read after is not told: listeners tell their own jobs' labels apart)."""
        self._listener = listener
        if self._reader is None:
            self._reader = threading.Thread(target=self._read, name="dbt-finished-nodes", daemon=True)
            self._reader.start()
        try:
            yield
        finally:
            self._listener = None

    def _read(self) -> None:
        while (finished := self._finished_nodes.get()) is not None:
            listener = self._listener
            if listener is None:
                continue
            try:
                listener(*finished)
            except Exception:   # the queue must still be read (a worker blocks on a full pipe): told no more
                self._listener = None

    def __enter__(self) -> DbtWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._reader is not None and self._reader.is_alive():
            self._finished_nodes.put(None)
            self._reader.join()


_shared: DbtWorkers | None = None
_shared_lock = threading.Lock()


def _shared_workers(broken: DbtWorkers | None = None) -> DbtWorkers:
    """The workers this process keeps for short jobs (parses), one per core; a new pool replaces a broken one."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared is broken:
            _shared = DbtWorkers(os.cpu_count() or 1)
            atexit.register(_shared.__exit__)
        return _shared


def run_shared(job: DbtJob) -> DbtOutcome:
    """Run a job in the process's shared workers (safe from several threads): dbt is imported once per worker,
    not once per call, which saves about 2.5 s each time (`mesh check` parses twice with a git baseline)."""
    workers = _shared_workers()
    try:
        return workers.submit(job).result()
    except BrokenProcessPool:  # a worker died (killed, out of memory): start the pool again, once
        return _shared_workers(broken=workers).submit(job).result()


def prewarm_shared(count: int) -> None:
    """Have `count` shared workers import dbt now (see `DbtWorkers.prewarm`)."""
    _shared_workers().prewarm(count)


KEEP_WORKERS_ENV = "MESH_KEEP_WORKERS"
_VOLATILE_ENV = {"PYTEST_CURRENT_TEST"}   # changes with every test; a worker drops it anyway (run_job)
_kept: dict[int, tuple[tuple[tuple[str, str], ...], DbtWorkers]] = {}


@contextlib.contextmanager
def build_workers(jobs: int) -> Iterator[DbtWorkers]:
    """The workers of one build: a fresh pool, shut down after it. With MESH_KEEP_WORKERS=1 (a process that builds
    many times, like the test suite) the pool is kept for the next build of the same size in the same environment
    (workers inherit the environment they were spawned in), so each worker imports dbt once, not once per build;
    a build that ends in an exception leaves no kept pool behind."""
    if os.environ.get(KEEP_WORKERS_ENV) != "1":
        with DbtWorkers(jobs) as workers:
            yield workers
        return
    environment = tuple(sorted(item for item in os.environ.items() if item[0] not in _VOLATILE_ENV))
    with _shared_lock:
        kept = _kept.get(jobs)
        if kept is None or kept[0] != environment:
            if kept is not None:
                kept[1].__exit__()
            kept = _kept[jobs] = (environment, DbtWorkers(jobs))
            atexit.register(kept[1].__exit__)
    try:
        yield kept[1]
    except BaseException:
        with _shared_lock:
            _kept.pop(jobs, None)
        kept[1].__exit__()
        raise
