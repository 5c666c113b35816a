"""Datasette hooks for datasette-provenance (kept thin: pages live in views.py).

Works with Datasette 0.65 and 1.0: hooks a version does not know (``row_actions``
on 0.65) are ignored by it, and hooks take only the arguments both versions pass
(render_cell is defined to match the version: 0.65 refuses an unknown argument).
"""

from __future__ import annotations

import inspect

from datasette import hookimpl, hookspecs
from markupsafe import Markup, escape

from . import cells, guards, privacy, queries, site, sqlfunctions, views
from .permissions import can_view_tables


@hookimpl
def startup(datasette):
    async def inner():
        await site.site(datasette).refresh(datasette)

    return inner


@hookimpl
def asgi_wrapper(datasette):
    """Notices databases attached after startup; keeps the request path for render_cell."""

    def wrap(app):
        async def provenance_app(scope, receive, send):
            if scope.get("type") != "http":
                return await app(scope, receive, send)
            await site.site(datasette).refresh(datasette)
            token = cells.REQUEST_PATH.set(scope.get("path"))
            cache = cells.REQUEST_CACHE.set({})
            try:
                await app(scope, receive, send)
            finally:
                cells.REQUEST_CACHE.reset(cache)
                cells.REQUEST_PATH.reset(token)

        return provenance_app

    return wrap


@hookimpl
def get_metadata(datasette, key, database, table):
    """Datasette 0.65: descriptions, hidden tables, the stories link (1.0a: at startup)."""
    return site.site(datasette).metadata_0_65()


@hookimpl
def canned_queries(datasette, database, actor):
    """Datasette 0.65 (1.0a has stored queries, added at startup); the user's own win.
    Who may see each one is decided by ``permission_allowed``."""
    found = site.site(datasette).get(database)
    if found is None:
        return None
    own = datasette.metadata("queries", database=database, fallback=False) or {}
    return {name: q for name, q in site.canned_queries(found).items() if name not in own}


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    """Datasette 0.65: the plugin's canned queries, and whatever shows article text
    (``privacy``), are refused to an actor who may not view what they read."""
    checks = [
        check
        for check in (
            _canned_query_allowed(datasette, actor, action, resource),
            privacy.permission_allowed(datasette, actor, action, resource),
        )
        if check is not None
    ]
    if not checks:
        return None

    async def inner():
        for check in checks:
            if await check() is False:
                return False
        return None

    return inner


def _canned_query_allowed(datasette, actor, action, resource):
    """The plugin's canned queries run as trusted SQL, so each is refused (view-query) to
    an actor who may not view a table it reads."""
    if action != "view-query" or not isinstance(resource, (tuple, list)):
        return None
    database, name = resource
    found = site.site(datasette).get(database)
    if found is None or name not in found.query_tables:
        return None
    own = datasette.metadata("queries", database=database, fallback=False) or {}
    if name in own:
        return None

    async def inner():
        visible, _ = await can_view_tables(datasette, actor, database, found.query_tables[name])
        return None if visible else False

    return inner


@hookimpl
def permission_resources_sql(datasette, actor, action):
    """Datasette 1.0a: the same two rules, as deny rows."""
    rules = [
        rule
        for rule in (
            _canned_query_rules(datasette, actor, action),
            privacy.permission_resources_sql(datasette, actor, action),
        )
        if rule is not None
    ]
    if not rules:
        return None

    async def inner():
        found = [await rule() for rule in rules]
        return [sql for sql in found if sql is not None] or None

    return inner


def _canned_query_rules(datasette, actor, action):
    """The stored queries the plugin added are denied (view-query) to an actor who may
    not view a table they read."""
    if action != "view-query":
        return None

    async def inner():
        from datasette.permissions import PermissionSQL

        rows, params = [], {}
        for database in site.site(datasette).databases.values():
            for name in sorted(await site.hidden_queries(datasette, actor, database)):
                n = len(params) // 2
                params.update({f"provenance_db_{n}": database.name, f"provenance_q_{n}": name})
                rows.append(
                    f"select :provenance_db_{n} as parent, :provenance_q_{n} as child, "
                    "0 as allow, 'reads a table the actor may not view' as reason"
                )
        return PermissionSQL(sql=" union all ".join(rows), params=params) if rows else None

    return inner


@hookimpl
def menu_links(datasette, actor, request):
    async def inner():
        names = list(site.site(datasette).databases)
        return [
            {
                "href": views.ProvenanceUrls(datasette, name).stories(),
                "label": "Provenance stories" + (f": {name}" if len(names) > 1 else ""),
            }
            for name in names
            if await _is_browsable(datasette, actor, name)
        ]

    return inner


@hookimpl
def top_database(datasette, request, database):
    """Datasette 1.0a: a visible link to the stories page on the database page."""

    async def inner():
        if site.site(datasette).get(database) is None:
            return None
        if not await _is_browsable(datasette, request.actor, database):
            return None
        return site.stories_link_html(datasette, database)

    return inner


@hookimpl
def extra_css_urls(template, database, table, datasette):
    """The width of shortened texts, on the table pages that have them."""
    if template == "table.html" and table in cells.TABLES and site.site(datasette).get(database):
        return [datasette.urls.static_plugins("datasette-provenance", "provenance-table.css")]
    return None


@hookimpl
def register_routes():
    return views.ROUTES


@hookimpl
def register_commands(cli):
    from ..cli import cli as provenance_cli

    cli.add_command(provenance_cli, name="provenance")


@hookimpl
def prepare_connection(conn, database, datasette):
    sqlfunctions.register(conn, datasette.setting("sql_time_limit_ms"))


# facets.py subclasses Datasette's table machinery (a third of a second to import):
# imported when Datasette calls these hooks, not by every ingest worker process.
@hookimpl
def register_facet_classes():
    from . import facets

    return facets.FACET_CLASSES


@hookimpl
def filters_from_request(request, database, table, datasette):
    from . import facets

    async def inner():
        return await facets.filter_arguments(request, database, table, datasette)

    return inner


@hookimpl
def skip_csrf(datasette, scope):
    """JSON bodies to the plugin's pages need no token; bodies they refuse get their 415."""
    return guards.skips_csrf(scope)


@hookimpl
def database_actions(datasette, actor, database):
    async def inner():
        if not await _is_browsable(datasette, actor, database):
            return []
        urls = views.ProvenanceUrls(datasette, database)
        actions = [
            {
                "href": urls.stories(),
                "label": "Provenance: stories and their copies",
                "description": "Which articles copy which wire story, how, and whether they "
                "credit it.",
            },
        ]
        if await views.may_check(datasette, actor, database):
            actions.append({
                "href": urls.check(),
                "label": "Provenance: check pasted text",
                "description": "Find the articles a piece of text was copied or paraphrased from.",
            })  # fmt: skip
        return actions

    return inner


@hookimpl
def table_actions(datasette, actor, database, table):
    if table not in queries.PAGE_TABLES:
        return None

    async def inner():
        if not await _is_browsable(datasette, actor, database):
            return []
        urls = views.ProvenanceUrls(datasette, database)
        return [{"href": urls.stories(), "label": "Provenance: stories and their copies"}]

    return inner


@hookimpl
def row_actions(datasette, actor, database, table, row):
    """Datasette 1.0 only: links from a row page to the lineage and compare pages."""
    links = _row_links(views.ProvenanceUrls(datasette, database), table, row)
    if not links or site.site(datasette).get(database) is None:
        return None

    async def inner():
        return links if await cells.may_open_pages(datasette, actor, database) else None

    return inner


def _row_links(urls, table: str, row) -> list[dict] | None:
    if table == "articles" and cells.looks_like(row, "content_hash"):
        return [{"href": urls.article(cells.raw(row["id"])), "label": "Lineage of this article"}]
    if table == "matches" and cells.looks_like(row, "derived_segment_id"):
        source, derived = cells.raw(row["source_article_id"]), cells.raw(row["derived_article_id"])
        return [
            {"href": urls.compare(source, derived), "label": "Compare the two texts side by side"},
            {"href": urls.article(derived), "label": "Lineage of the derived article"},
        ]
    if table == "lineage" and cells.looks_like(row, "parent_segment_id"):
        return [{"href": urls.article(cells.raw(row["article_id"])), "label": "Lineage of this article"}]
    if table == "clusters" and cells.looks_like(row, "origin_article_id") and row["origin_article_id"]:
        return [
            {
                "href": urls.article(cells.raw(row["origin_article_id"])),
                "label": "Lineage of the origin article",
            }
        ]
    return None


# Datasette 1.0 passes render_cell the request (so the visitor is known); 0.65 refuses a
# hook that asks for it, so there links go only where anyone may open the pages.
if "request" in inspect.signature(hookspecs.render_cell).parameters:

    @hookimpl
    def render_cell(row, value, column, table, database, datasette, request):
        actor = getattr(request, "actor", None) if request is not None else None
        return cells.render(row, value, column, table, database, datasette, actor)

else:

    @hookimpl
    def render_cell(row, value, column, table, database, datasette):
        return cells.render(row, value, column, table, database, datasette, None)


async def _is_browsable(datasette, actor, database: str) -> bool:
    """A provenance database the settings serve, whose pages the actor may view."""
    if site.site(datasette).get(database) is None:
        return False
    visible, _ = await can_view_tables(datasette, actor, database, queries.PAGE_TABLES)
    return visible
