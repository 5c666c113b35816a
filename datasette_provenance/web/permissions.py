"""One permission check that works on Datasette 0.65 and 1.0.

Datasette 0.65 asks ``permission_allowed`` about a cascade of
``view-table`` / ``view-database`` / ``view-instance`` (the most specific answer
wins); Datasette 1.0 resolves the cascade itself behind ``datasette.allowed``.
The plugin pages read several provenance tables at once, so a page is shown only
when the actor may view every one of them: hiding ``passages`` with an ``allow``
block must hide the compare pages too.

A question asked again while answering one request gets the first answer: a page asks
about its tables, its menu about the same tables, and the privacy rules ask about
``articles`` for each table holding article text (``answers_remembered``).
"""

from __future__ import annotations

import contextvars
import json
from contextlib import contextmanager
from typing import Iterable

# Set while the privacy rules (web.privacy) ask about ``articles``: their own hooks then
# abstain, so those answers are remembered apart.
_privacy_asking: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "provenance_privacy_asking", default=False
)
# (asking, actor, database, tables) -> (visible, private), within one request or question.
_answers: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "provenance_permission_answers", default=None
)


@contextmanager
def asked_by_privacy():
    """Inside, the privacy rules are asking (``privacy_is_asking``)."""
    token = _privacy_asking.set(True)
    try:
        yield
    finally:
        _privacy_asking.reset(token)


def privacy_is_asking() -> bool:
    return _privacy_asking.get()


@contextmanager
def answers_remembered():
    """Inside, each permission question is answered once (a request's page and menu, or
    one question's nested ones): permissions do not change while a request is answered.
    Joins an enclosing scope."""
    if _answers.get() is not None:
        yield
        return
    token = _answers.set({})
    try:
        yield
    finally:
        _answers.reset(token)


async def can_view_tables(
    datasette, actor, database: str, tables: Iterable[str]
) -> tuple[bool, bool]:
    """``(visible, private)`` for reading ``tables`` of ``database``.

    ``visible``: the actor may view all the tables. ``private``: the actor may,
    but an anonymous visitor may not (pages then get ``Cache-Control: private``).
    """
    tables = list(tables)
    question = (privacy_is_asking(), json.dumps(actor, sort_keys=True, default=repr), database,
                tuple(tables))  # fmt: skip
    with answers_remembered():
        answers = _answers.get()
        if question not in answers:
            answers[question] = await _visible_and_private(datasette, actor, database, tables)
        return answers[question]


async def _visible_and_private(datasette, actor, database: str, tables: list[str]):
    if not await _can_view_all(datasette, actor, database, tables):
        return False, False
    if actor is None:
        return True, False
    return True, not await _can_view_all(datasette, None, database, tables)


async def _can_view_all(datasette, actor, database: str, tables: list[str]) -> bool:
    if hasattr(datasette, "allowed"):  # Datasette 1.0
        return await _can_view_all_1_0(datasette, actor, database, tables)
    for table in tables:
        if not await _can_view_table_0_65(datasette, actor, database, table):
            return False
    return True


async def _can_view_all_1_0(datasette, actor, database: str, tables: list[str]) -> bool:
    """The database once, then each table: each check is a query of the internal database."""
    from datasette.resources import DatabaseResource, TableResource

    if not await datasette.allowed(
        action="view-database", resource=DatabaseResource(database), actor=actor
    ):
        return False
    for table in tables:
        if not await datasette.allowed(
            action="view-table", resource=TableResource(database, table), actor=actor
        ):
            return False
    return True


async def _can_view_table_0_65(datasette, actor, database: str, table: str) -> bool:
    """The same cascade Datasette 0.65's own table view checks."""
    visible, _ = await datasette.check_visibility(
        actor,
        permissions=[
            ("view-table", (database, table)),
            ("view-database", database),
            "view-instance",
        ],
    )
    return visible
