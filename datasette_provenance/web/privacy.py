"""Whatever is made from article text is as private as ``articles``.

A provenance database holds article text in more places than ``articles``: segments and
their clean text, boilerplate and credit lines as found, the words of edited passages,
cluster titles, evidence sentences naming articles by title, the full-text index (its shadow tables hold every word). An ``allow``
block on ``articles`` alone would leave all of those public, and custom SQL (the query
editor, ``?_where=``) reads any table. So, for an actor who may not view ``articles``:

* every table holding article text (``TEXT_TABLES``), and every view or canned query that
  reads one (found with SQLite's authorizer while the SQL is prepared, never run), is
  hidden too;
* custom SQL on that database is refused (``execute-sql``), as Datasette's documentation
  advises for a database with private tables.

An ``allow`` block the user wrote for one of those tables or queries still wins on 0.65
(Datasette asks this plugin first and its own rules last). Datasette 0.65 asks the
``permission_allowed`` hook; 1.0 collects deny rules from ``permission_resources_sql``.
"""

from __future__ import annotations

import json
import sqlite3
import weakref
from dataclasses import dataclass

from . import canned
from .permissions import asked_by_privacy, can_view_tables, privacy_is_asking

SOURCE_TABLE = "articles"
MARKER_TABLE = "provenance_meta"  # with articles: a provenance database
# Tables whose rows carry article text (titles, clean text, matched lines, edited words,
# index terms; the evidence sentences of matches and lineage name articles by their titles).
# The full-text index's shadow tables are found by name.
TEXT_TABLES = frozenset(
    {
        "segments",
        "boilerplate_spans",
        "article_credits",
        "passages",
        "clusters",
        "matches",
        "lineage",
        "articles_fts",
    }
)
SEARCH_PREFIX = "articles_fts"
ACTIONS = ("view-table", "view-query", "execute-sql")

# SQL text -> the tables it reads (the SQL of a view or query decides; it rarely changes).
_READS: dict[str, frozenset[str]] = {}


@dataclass(frozen=True)
class Schema:
    """What a database's schema says about its privacy: whether it is a provenance
    database, and its tables and views that show article text."""

    provenance: bool
    text_tables: frozenset[str]
    text_views: frozenset[str]


# Database -> (PRAGMA schema_version, Schema). A page asks several permission questions,
# each needing the schema; reading it costs queries, and it changes only with the schema
# version (any CREATE, DROP or ALTER), which one query reads (none when the database is
# served immutable: its schema cannot change).
_SCHEMAS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def shows_text(name: str) -> bool:
    return name in TEXT_TABLES or name.startswith(SEARCH_PREFIX)


def tables_read(conn: sqlite3.Connection, sql: str, key: str | None = None) -> frozenset[str]:
    """The tables ``sql`` reads (a view's tables too); cached by ``key`` (default: the SQL)."""
    key = key or sql
    if key not in _READS:
        try:
            _READS[key] = canned.tables_read(conn, sql)
        except sqlite3.Error:
            _READS[key] = frozenset({SOURCE_TABLE})  # cannot tell: as private as the articles
    return _READS[key]


def reads_text(tables) -> bool:
    return any(table == SOURCE_TABLE or shows_text(table) for table in tables)


async def provenance_databases(datasette) -> list[str]:
    return [name for name in list(datasette.databases) if await is_provenance(datasette, name)]


async def is_provenance(datasette, name: str) -> bool:
    schema = await database_schema(datasette, name)
    return schema is not None and schema.provenance


async def database_schema(datasette, name: str) -> Schema | None:
    """The database's ``Schema`` (None for the internal database or an unknown name)."""
    db = datasette.databases.get(name)
    if db is None or name == "_internal" or getattr(db, "is_internal", False):
        return None
    cached = _SCHEMAS.get(db)
    if cached is not None and not db.is_mutable:
        return cached[1]

    def read(conn) -> tuple[int, Schema]:
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        if cached is not None and cached[0] == version:
            return cached
        return version, _read_schema(conn)

    _SCHEMAS[db] = found = await db.execute_fn(read)
    return found[1]


def _read_schema(conn: sqlite3.Connection) -> Schema:
    rows = conn.execute("select type, name, sql from sqlite_master where type in ('table', 'view')")
    tables, views = set(), {}
    for kind, name, sql in rows.fetchall():
        if kind == "table":
            tables.add(name)
        else:
            views[name] = sql
    # Keyed by the view's own SQL too, so a redefined view is looked at again.
    text_views = {
        name
        for name, sql in views.items()
        if reads_text(tables_read(conn, f"select * from [{name}]", key=f"{name}\n{sql}"))
    }
    return Schema(
        provenance={SOURCE_TABLE, MARKER_TABLE} <= tables,
        text_tables=frozenset(name for name in tables if shows_text(name)),
        text_views=frozenset(text_views),
    )


async def may_view_articles(datasette, actor, database: str) -> bool:
    """Whether ``actor`` may view the ``articles`` table (the whole cascade)."""
    with asked_by_privacy():
        visible, _ = await can_view_tables(datasette, actor, database, [SOURCE_TABLE])
    return visible


async def query_reads_text(datasette, database: str, sql: str) -> bool:
    """Whether a query reads article text (through a view too: SQLite reports its tables)."""
    db = datasette.databases[database]
    return reads_text(await db.execute_fn(lambda conn: tables_read(conn, sql)))


# Datasette 0.65 -----------------------------------------------------------------------------


def permission_allowed(datasette, actor, action, resource):
    """False where the actor may not view the articles and the resource shows their text."""
    if privacy_is_asking() or action not in ACTIONS:
        return None
    database = resource if action == "execute-sql" else (resource or (None,))[0]
    if not isinstance(database, str):
        return None
    if action == "view-table" and resource[1] == SOURCE_TABLE:
        return None  # the source itself: Datasette's own rules

    async def inner():
        schema = await database_schema(datasette, database)
        if schema is None or not schema.provenance:
            return None
        if action == "view-table":
            table = resource[1]
            if not shows_text(table) and table not in schema.text_views:
                return None
        elif action == "view-query":
            query = await datasette.get_canned_query(database, resource[1], actor)
            if not query or not await query_reads_text(datasette, database, query["sql"]):
                return None
        return None if await may_view_articles(datasette, actor, database) else False

    return inner


# Datasette 1.0 ------------------------------------------------------------------------------


def permission_resources_sql(datasette, actor, action):
    """Deny rules for the text tables, queries and custom SQL of each provenance database
    whose articles the actor may not view (a child rule beats a database-wide allow)."""
    if privacy_is_asking() or action not in ACTIONS:
        return None

    async def inner():
        from datasette.permissions import PermissionSQL

        denied: list[tuple[str, str | None]] = []
        for database in await provenance_databases(datasette):
            if await may_view_articles(datasette, actor, database):
                continue
            denied += await _denied(datasette, database, action)
        if not denied:
            return None
        return PermissionSQL(
            sql="SELECT json_extract(value, '$[0]') AS parent, "
            "json_extract(value, '$[1]') AS child, "
            "0 AS allow, 'shows article text the actor may not view' AS reason "
            "FROM json_each(:provenance_text_hidden)",
            params={"provenance_text_hidden": json.dumps(denied)},
        )

    return inner


async def _denied(datasette, database: str, action: str) -> list[tuple[str, str | None]]:
    if action == "execute-sql":
        return [(database, None)]
    if action == "view-table":
        schema = await database_schema(datasette, database)
        return [(database, name) for name in sorted(schema.text_tables | schema.text_views)]
    queries = (
        await datasette.get_internal_database().execute(
            "select name, sql from queries where database_name = ?", [database]
        )
    ).rows
    return [
        (database, name)
        for name, sql in queries
        if await query_reads_text(datasette, database, sql)
    ]
