"""Matching work run for someone else (a visitor's check), in a process of its own.

Why a process: matching is CPU-bound Python. On a thread of a web server it holds the
interpreter lock, and every other page waits for its turns at it (on Datasette 0.65 the
stories page took up to 1.5 s while checks ran, 0.3 s idle). In a worker process it only
competes for the CPU, and it can be stopped whatever it is doing: killed when its caller
gives up (``Call.cancel``) and, where the OS limits CPU time (``resource``), by the kernel
once it overruns its budget without looking at it.

A job is ``work(db, *args, **kwargs)`` with ``db`` a ``sqlite_utils.Database`` over a
read-only connection (``Source``: opened as Datasette opens it, kept open between jobs)
and run ``within`` a ``budget.Budget``: ``cpu_seconds`` of CPU time and ``alignment_bytes``
per alignment; ``work`` must pickle by name (a module-level function). Workers start when
first needed, forked from a server process that has imported the matcher once
(``forkserver``; ``spawn`` where there is none), run one job at a time, and exit when idle
for ``IDLE_EXIT_SECONDS``, after a job that took them past ``RETIRE_AFTER_PEAK_MB``, or when
their parent's end of the pipe closes.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sqlite3
import sys
import threading
import time
import types
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

from . import budget

# SQLite steps between two looks at the budget. Small: the matcher runs many short queries
# (one per candidate) between its alignments, and SQLite counts steps per statement, so a
# statement shorter than this never looks (at 1,000, a 199 KB paste ran 6.4 s on a 1.5 s
# budget); a look costs about a microsecond.
STEPS_PER_LOOK = 16

# The kernel stops a worker this many CPU seconds past its job's budget (a loop that never
# looks); its own looks stop it well before. RLIMIT_CPU counts whole seconds.
CPU_LIMIT_GRACE_SECONDS = 1

IDLE_EXIT_SECONDS = 600.0

# A worker whose memory has peaked above this leaves after answering (the next check gets a
# fresh one, a fork): what a big check took is seldom handed back to the OS while it lives.
RETIRE_AFTER_PEAK_MB = 200

# Workers run this much "nicer" than the server (Unix): when the machine is busy, the pages
# everyone reads go first. A check's budget is CPU time, so it may take longer, not more.
WORKER_NICENESS = 5

# What a fresh worker needs, imported once by the fork server rather than by every worker.
PRELOAD = ["datasette_provenance.matching.search"]


class OverBudget(Exception):
    """The job used its CPU time, its caller cancelled it, or its worker was killed."""


class CannotStart(Exception):
    """This platform would not start a worker process (some serverless hosts)."""


@dataclass(frozen=True)
class Source:
    """A database file as a worker opens it: read-only, or immutable (nothing may change it)."""

    path: str
    immutable: bool = False
    nolock: bool = False

    def connect(self) -> sqlite3.Connection:
        if self.immutable:
            flags = "immutable=1"
        else:
            flags = "mode=ro&nolock=1" if self.nolock else "mode=ro"
        conn = sqlite3.connect(f"file:{self.path}?{flags}", uri=True, check_same_thread=False)
        conn.row_factory = None  # the matcher reads plain tuples
        return conn


def run_within(
    conn: sqlite3.Connection,
    work: Callable,
    args: tuple,
    kwargs: dict,
    *,
    cpu_seconds: float,
    alignment_bytes: int | None,
    clock: Callable[[], float] = time.thread_time,
    cancelled: Callable[[], bool] = lambda: False,
):
    """``work(db, *args, **kwargs)`` in one read snapshot of ``conn``, stopped (``OverBudget``)
    at its next SQLite step or budget look once ``clock`` has advanced ``cpu_seconds`` or
    ``cancelled()``."""
    import sqlite_utils

    from ..store import in_one_snapshot

    started = clock()

    def spent() -> bool:
        return cancelled() or clock() - started > cpu_seconds

    conn.set_progress_handler(lambda: 1 if spent() else 0, STEPS_PER_LOOK)
    db = sqlite_utils.Database(conn, recursive_triggers=False)
    try:
        with budget.within(budget.Budget(spent, alignment_bytes)):
            return in_one_snapshot(conn, lambda _: work(db, *args, **kwargs))
    except budget.Spent:
        raise OverBudget() from None
    except sqlite3.OperationalError:
        if spent():  # "interrupted" by the progress handler
            raise OverBudget() from None
        raise
    finally:
        conn.set_progress_handler(None, 0)
        if conn.in_transaction:
            conn.rollback()


# The worker process --------------------------------------------------------------------------


def _serve(pipe) -> None:
    """A worker's life: jobs from ``pipe``, one at a time, each answered on it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which ends us
    _limit_core_dumps()
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)
    connections: dict[Source, sqlite3.Connection] = {}
    while True:
        try:
            if not pipe.poll(IDLE_EXIT_SECONDS):
                return
            source, work, args, kwargs, cpu_seconds, alignment_bytes = pipe.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        try:
            if source not in connections:
                connections[source] = source.connect()
            started = time.process_time()
            _limit_cpu(started + cpu_seconds + CPU_LIMIT_GRACE_SECONDS)
            try:
                answer = ("done", run_within(
                    connections[source], work, args, kwargs, cpu_seconds=cpu_seconds,
                    alignment_bytes=alignment_bytes, clock=time.process_time,
                ))  # fmt: skip
            finally:
                _limit_cpu(None)
        except OverBudget:
            answer = ("spent", None)
        except Exception as error:
            answer = ("error", error)
        retiring = _peak_mb() > RETIRE_AFTER_PEAK_MB
        try:
            pipe.send((*answer, retiring))
        except Exception as error:  # an answer or error that does not pickle
            pipe.send(("error", RuntimeError(f"{type(error).__name__}: {error}"), retiring))
        if retiring:
            return


def _peak_mb() -> float:
    """The most memory this process has held (0 where the OS does not say)."""
    try:
        import resource
    except ImportError:
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes there, KiB here


def _limit_cpu(seconds: float | None) -> None:
    """Have the kernel stop this process (SIGXCPU) once it has used ``seconds`` of CPU in
    all (None: no limit). Only where the OS offers it."""
    try:
        import resource
    except ImportError:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = hard if seconds is None else math.ceil(seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _limit_core_dumps() -> None:
    try:
        import resource
    except ImportError:
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a worker stopped by SIGXCPU


# The caller's side ---------------------------------------------------------------------------


def _context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)  # no effect once the fork server runs
        return context
    return multiprocessing.get_context("spawn")


_STARTING = threading.Lock()


@contextmanager
def _main_script_left_out():
    """A new process re-runs its parent's main script first (multiprocessing's "prepare"),
    which for ``datasette serve`` imports all of Datasette and its plugins: 0.7 s of CPU
    for every worker, the check page's whole budget. A worker needs nothing from it, so it
    starts while ``__main__`` is a blank module."""
    with _STARTING:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


class Worker:
    """One worker process and the pipe to it. ``run`` blocks: call it off the event loop."""

    def __init__(self):
        context = _context()
        self.pipe, child_end = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child_end,), name="provenance-check", daemon=True
        )
        with _main_script_left_out():
            self.process.start()
        child_end.close()
        self.retiring = False  # it leaves after its last answer (RETIRE_AFTER_PEAK_MB)

    def run(self, source: Source, work: Callable, args: tuple, kwargs: dict,
            cpu_seconds: float, alignment_bytes: int | None):  # fmt: skip
        try:
            self.pipe.send((source, work, args, kwargs, cpu_seconds, alignment_bytes))
            kind, value, self.retiring = self.pipe.recv()
        except (EOFError, OSError):  # killed: by cancel(), by the kernel's CPU limit, or idle
            self.stop()
            raise _Ended(self.process.exitcode) from None
        if kind == "spent":
            raise OverBudget()
        if kind == "error":
            raise value
        return value

    def kill(self) -> None:
        """Stop at once, whatever it is doing (another thread may be waiting in ``run``)."""
        self.process.kill()  # SIGKILL, unless it is known to have ended

    def stop(self) -> None:
        self.kill()
        self.process.join()
        self.pipe.close()

    def alive(self) -> bool:
        return not self.retiring and self.process.is_alive()


class _Ended(Exception):
    """The worker ended during a job; ``exitcode`` 0 is an idle exit racing the job."""

    def __init__(self, exitcode):
        self.exitcode = exitcode


class Call:
    """One job as its caller sees it, so the caller can give up on it from another thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._worker: Worker | None = None
        self.cancelled = False

    def cancel(self) -> None:
        """Stop the job: its worker is killed (a new one takes the next job)."""
        with self._lock:
            self.cancelled = True
            if self._worker is not None:
                self._worker.kill()

    def attach(self, worker: Worker) -> bool:
        with self._lock:
            self._worker = worker
            return not self.cancelled


class Workers:
    """The worker processes of one caller (a Datasette instance), started when first
    needed; the caller bounds how many jobs run at once (as many workers as that)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._closed = False

    def run(self, call: Call, source: Source, work: Callable, args: tuple = (),
            kwargs: dict | None = None, *, cpu_seconds: float,
            alignment_bytes: int | None = None):  # fmt: skip
        """``work`` on a worker (blocking); ``OverBudget`` when it ran out or was cancelled."""
        for attempt in (1, 2):
            worker = self._take()
            if not call.attach(worker):
                self._give_back(worker)
                raise OverBudget()
            try:
                return worker.run(source, work, args, kwargs or {}, cpu_seconds, alignment_bytes)
            except _Ended as ended:
                if ended.exitcode == 0 and attempt == 1 and not call.cancelled:
                    continue  # it had just left, idle: the job never started
                raise OverBudget() from None
            finally:
                self._give_back(worker)

    def _take(self) -> Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the check workers are closed")
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                self._all.discard(worker)
        try:
            worker = Worker()  # outside the lock: a first start waits for the fork server
        except OSError as error:
            raise CannotStart(str(error)) from error
        with self._lock:
            self._all.add(worker)
        return worker

    def _give_back(self, worker: Worker) -> None:
        with self._lock:
            if worker.alive() and not self._closed:
                self._idle.append(worker)
                return
            self._all.discard(worker)
        worker.stop()

    def pids(self) -> list[int]:
        with self._lock:
            return [worker.process.pid for worker in self._all if worker.alive()]

    def close(self) -> None:
        """Stop every worker, idle or running (their callers get ``OverBudget``)."""
        with self._lock:
            self._closed = True
            workers, self._idle = list(self._all), []
        for worker in workers:
            worker.kill()
