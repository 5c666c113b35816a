"""Worker processes for the CPU-bound stages (ingest's preparing, matching's candidates and
alignments): this process stays the only writer, as SQLite wants."""

from __future__ import annotations

import multiprocessing
import signal
import threading
from contextlib import contextmanager
from typing import Callable


@contextmanager
def worker_pool(workers: int, initializer: Callable | None = None, initargs: tuple = ()):
    """A pool of ``workers`` fresh ("spawn") processes, closed and joined on exit.

    The workers ignore Ctrl-C (an ignored signal stays ignored in a new interpreter, even
    while it starts up). Ctrl-C goes to every process of the terminal's group: only this
    process should stop, then end the pool; a worker that also raised would print a
    traceback and could leave the pool's shutdown waiting on it. (A Ctrl-C in the half
    second the workers take to start is ignored here too: press it again.)
    """
    with _interrupts_ignored():
        pool = multiprocessing.get_context("spawn").Pool(workers, initializer, initargs)
    with pool:
        yield pool


@contextmanager
def _interrupts_ignored():
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (and receives Ctrl-C)
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
