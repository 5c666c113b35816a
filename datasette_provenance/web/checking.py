"""The check page's matcher, run so that no pasted text can stall the site.

* Its own threads: the matcher never runs on Datasette's SQL threads (three by default),
  so the other pages keep being served while texts are checked (three slow checks used to
  hold all three, and the stories page waited 31 s).
* Slots: at most ``max_concurrent_checks`` checks at once; a request that finds none free
  within ``SLOT_WAIT_SECONDS`` is answered 429 with ``Retry-After``.
* A budget: a check may use ``check_cpu_seconds`` of its thread's CPU time; past it, or
  once its client has gone away, its next SQLite step or the matcher's next look inside
  its loops (``matching.budget``) stops the work (503: ask for less). One alignment may
  take ``check_alignment_mb`` of memory (a longer pair gets copy passages only).

Each check thread keeps its own read-only connection per database (``Database.connect``:
read-only or immutable, as Datasette opens it).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from ..matching import budget

SLOT_WAIT_SECONDS = 2.0
RETRY_AFTER_SECONDS = 5
# SQLite steps between two looks at the budget. Small: the matcher runs many short queries
# (one per candidate) between its alignments, and SQLite counts steps per statement, so a
# statement shorter than this never looks (at 1,000, a 199 KB paste ran 6.4 s on a 1.5 s
# budget); a look costs about a microsecond.
STEPS_PER_LOOK = 16


class Busy(Exception):
    """Every check slot stayed taken for SLOT_WAIT_SECONDS."""


class OverBudget(Exception):
    """The check used its CPU time, or its client went away."""


class Checker:
    """One per Datasette instance: the threads and the slots."""

    def __init__(self, slots: int):
        self.executor = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="provenance-check")
        self.slots = asyncio.Semaphore(slots)
        self.local = threading.local()

    async def run(
        self,
        db,
        request,
        work: Callable[[sqlite3.Connection], object],
        cpu_seconds: float,
        alignment_bytes: int,
    ):
        """``work(conn)`` on a check thread, with that thread's connection to ``db``,
        within ``cpu_seconds`` of that thread's CPU time and ``alignment_bytes`` per
        alignment."""
        try:
            await asyncio.wait_for(self.slots.acquire(), SLOT_WAIT_SECONDS)
        except asyncio.TimeoutError:
            raise Busy() from None
        gone = threading.Event()
        watcher = asyncio.ensure_future(_notice_disconnect(request, gone))
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self.executor, self._work, db, work, gone, cpu_seconds, alignment_bytes
            )
        finally:
            watcher.cancel()
            self.slots.release()

    def _work(self, db, work, gone: threading.Event, cpu_seconds: float, alignment_bytes: int):
        conn = self._connection(db)
        started = time.thread_time()

        def spent() -> bool:
            return gone.is_set() or time.thread_time() - started > cpu_seconds

        conn.set_progress_handler(lambda: 1 if spent() else 0, STEPS_PER_LOOK)
        try:
            with budget.within(budget.Budget(spent, alignment_bytes)):
                return work(conn)
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

    def _connection(self, db) -> sqlite3.Connection:
        connections = getattr(self.local, "connections", None)
        if connections is None:
            connections = self.local.connections = {}
        if db.name not in connections:
            conn = db.connect()
            conn.row_factory = None  # the matcher reads plain tuples
            connections[db.name] = conn
        return connections[db.name]


async def _notice_disconnect(request, gone: threading.Event) -> None:
    """Wait for the ASGI ``http.disconnect`` message (after the body, if unread)."""
    while True:
        message = await request.receive()
        if message.get("type") == "http.disconnect":
            gone.set()
            return


_CHECKERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def checker(datasette, slots: int) -> Checker:
    """The instance's checker, made on first use with ``slots`` (max_concurrent_checks)."""
    found = _CHECKERS.get(datasette)
    if found is None:
        found = _CHECKERS[datasette] = Checker(slots)
    return found
