"""One permission check that works on Datasette 0.65 and 1.0.

Datasette 0.65 asks ``permission_allowed`` about a cascade of
``view-table`` / ``view-database`` / ``view-instance`` (the most specific answer
wins); Datasette 1.0 resolves the cascade itself behind ``datasette.allowed``.
The plugin pages read several provenance tables at once, so a page is shown only
when the actor may view every one of them: hiding ``passages`` with an ``allow``
block must hide the compare pages too.
"""

from __future__ import annotations

from typing import Iterable


async def can_view_tables(
    datasette, actor, database: str, tables: Iterable[str]
) -> tuple[bool, bool]:
    """``(visible, private)`` for reading ``tables`` of ``database``.

    ``visible``: the actor may view all the tables. ``private``: the actor may,
    but an anonymous visitor may not (pages then get ``Cache-Control: private``).
    """
    tables = list(tables)
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
