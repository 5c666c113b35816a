"""The check page's matcher, run so that no pasted text can stall the site.

* A process of its own (``matching.isolated``): a check is CPU-bound Python, and on one
  of the server's threads it held the interpreter lock that every page needs (on
  Datasette 0.65 the stories page took up to 1.5 s while checks ran, 0.3 s idle). The
  workers start with the first check, open the database read-only as Datasette does,
  and end with the server. A database without a file (in memory), or a host that will
  not start processes, is checked on a thread of the plugin's own, never on Datasette's
  SQL threads (the budget holds there too; the interpreter lock is shared).
* Slots: at most ``max_concurrent_checks`` checks at once; a request that finds none free
  within ``SLOT_WAIT_SECONDS`` is answered 429 with ``Retry-After``.
* A budget: a check may use ``check_cpu_seconds`` of CPU time; past it its next SQLite
  step or the matcher's next look inside its loops (``matching.budget``) stops it (503:
  ask for less), and the kernel stops a worker that overruns it without looking. Once
  its client has gone away, its worker is killed (a new one takes the next check). One
  alignment may take ``check_alignment_mb`` of memory (a longer pair gets copy passages
  only).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Callable

from ..matching import isolated
from ..matching.isolated import OverBudget  # noqa: F401 (the pages catch it from here)

SLOT_WAIT_SECONDS = 2.0
RETRY_AFTER_SECONDS = 5

log = logging.getLogger(__name__)


class Busy(Exception):
    """Every check slot stayed taken for SLOT_WAIT_SECONDS."""


class Checker:
    """One per Datasette instance: the slots, the worker processes, and the threads that
    wait for them (or, for a database in memory, run the check)."""

    def __init__(self, slots: int):
        self.executor = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="provenance-check")
        self.slots = asyncio.Semaphore(slots)
        self.workers = isolated.Workers()
        self.processes = True  # False once the platform refused to start one
        self.local = threading.local()

    async def run(
        self,
        db,
        request,
        work: Callable,
        args: tuple,
        kwargs: dict,
        cpu_seconds: float,
        alignment_bytes: int,
    ):
        """``work(sqlite_utils_db, *args, **kwargs)`` over a read-only connection to ``db``,
        within ``cpu_seconds`` of CPU time and ``alignment_bytes`` per alignment; stopped
        when the client of ``request`` goes away. ``work`` must pickle by name."""
        try:
            await asyncio.wait_for(self.slots.acquire(), SLOT_WAIT_SECONDS)
        except asyncio.TimeoutError:
            raise Busy() from None
        call = isolated.Call()
        limits = dict(cpu_seconds=cpu_seconds, alignment_bytes=alignment_bytes)
        try:
            job = partial(self._job, db, call, work, args, kwargs, limits)
            answer = asyncio.get_running_loop().run_in_executor(self.executor, job)
            gone = asyncio.ensure_future(_client_gone(request))
            try:
                await asyncio.wait({answer, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                gone.cancel()
            if not answer.done():
                call.cancel()
                await asyncio.wait({answer})  # the worker is gone before the slot is free
                if answer.exception() is None:
                    raise OverBudget()
            return answer.result()
        finally:
            self.slots.release()

    def _job(self, db, call: isolated.Call, work, args, kwargs, limits: dict):
        source = _source(db)
        if source is not None and self.processes:
            try:
                return self.workers.run(call, source, work, args, kwargs, **limits)
            except isolated.CannotStart as error:
                log.warning("Checks run on threads: no worker process would start (%s)", error)
                self.processes = False
        conn = self._connection(db)
        return isolated.run_within(
            conn, work, args, kwargs, cancelled=lambda: call.cancelled, **limits
        )

    def _connection(self, db):
        connections = getattr(self.local, "connections", None)
        if connections is None:
            connections = self.local.connections = {}
        if db.name not in connections:
            conn = db.connect()
            conn.row_factory = None  # the matcher reads plain tuples
            connections[db.name] = conn
        return connections[db.name]

    def close(self) -> None:
        self.workers.close()
        self.executor.shutdown(wait=False)


def _source(db) -> isolated.Source | None:
    """The file of a Datasette ``Database`` as a worker opens it (None: in memory)."""
    if db.is_memory or getattr(db, "memory_name", None) or not db.path:
        return None
    return isolated.Source(
        str(db.path), immutable=not db.is_mutable, nolock=bool(getattr(db.ds, "nolock", False))
    )


async def _client_gone(request) -> None:
    """Return on the ASGI ``http.disconnect`` message (after the body, if unread)."""
    while True:
        message = await request.receive()
        if message.get("type") == "http.disconnect":
            return


_CHECKERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def checker(datasette, slots: int) -> Checker:
    """The instance's checker, made on first use with ``slots`` (max_concurrent_checks);
    its workers end when the instance does (or with the server process)."""
    found = _CHECKERS.get(datasette)
    if found is None:
        found = _CHECKERS[datasette] = Checker(slots)
        weakref.finalize(datasette, found.close)
    return found
