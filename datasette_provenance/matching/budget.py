"""Limits a caller puts on one piece of matching work, looked at inside its long loops.

The check page runs the matcher for a visitor: it must stop once the request's CPU time
is spent or the visitor has gone, even halfway through aligning two long texts, and one
alignment there may take less memory than at ingest. The caller runs the work
``within(Budget(...))``; the matcher calls ``look()`` between steps that can take long and
asks ``alignment_bytes()`` before it builds its sentence tables. Without a budget
(ingest, match, evaluate) ``look()`` costs a context-variable read and never stops.

A context variable, not an argument: the loops that look are many calls deep, and each
thread (a check runs on its own) sees only the budget it set.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Callable, Iterator


class Spent(Exception):
    """The budget ran out (time spent, or the caller no longer wants the answer)."""


@dataclass(frozen=True)
class Budget:
    spent: Callable[[], bool]  # asked at every look
    alignment_bytes: int | None = None  # the most one sentence alignment may allocate


_current: ContextVar[Budget | None] = ContextVar("matching_budget", default=None)


@contextmanager
def within(budget: Budget) -> Iterator[None]:
    """Run the block's matching under ``budget`` (in this thread or task only)."""
    token = _current.set(budget)
    try:
        yield
    finally:
        _current.reset(token)


def look() -> None:
    """Raise ``Spent`` if the current budget has run out."""
    budget = _current.get()
    if budget is not None and budget.spent():
        raise Spent()


def alignment_bytes(default: int) -> int:
    """The memory one sentence alignment may take: ``default``, or less under a budget."""
    budget = _current.get()
    if budget is None or budget.alignment_bytes is None:
        return default
    return min(default, budget.alignment_bytes)
