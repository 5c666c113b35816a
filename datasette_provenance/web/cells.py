"""Long texts on table pages: shortened, with links to the whole text and the lineage.

Datasette shows every cell in full on a table page, so five articles (raw and clean
text) make a page over 20,000 pixels tall. On table pages of a provenance database a
text longer than the ``text_preview`` setting is cut at a word boundary and followed by
a link to the row page (which shows it whole, as does the JSON) and, for an article,
to its lineage page.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from urllib.parse import quote

from datasette.utils import tilde_encode
from markupsafe import Markup, escape

from . import site
from .permissions import can_view_tables
from .queries import PAGE_TABLES
from .views import ProvenanceUrls

# The path of the request being served: Datasette 0.65 passes render_cell no request, and
# calls it alike for table and row pages (set by the plugin's asgi_wrapper).
REQUEST_PATH: ContextVar[str | None] = ContextVar("provenance_request_path", default=None)
# Answers worked out once per request (whether the visitor may open the lineage pages).
REQUEST_CACHE: ContextVar[dict | None] = ContextVar("provenance_request_cache", default=None)

# (table, column) -> the column holding the article id its lineage link uses.
LONG_TEXT_COLUMNS = {
    ("articles", "raw_text"): "id",
    ("articles", "clean_text"): "id",
    ("segment_texts", "clean_text"): "article_id",
}
TABLES = {table for table, _ in LONG_TEXT_COLUMNS}
# Views have no row pages: the whole text of one of their rows is its JSON.
VIEWS = {"segment_texts"}
# A text only a little longer than the preview is shown whole: cutting it saves nothing.
SLACK = 1.2


def long_text(
    row, value, column: str, table: str, database: str, urls, preview: int, lineage: bool = True
):
    """The shortened cell for a long text column on a table page, else ``None``
    (``lineage``: with a link to the article's lineage page)."""
    article_column = LONG_TEXT_COLUMNS.get((table, column))
    if article_column is None or not _has_columns(row, ("id", article_column)):
        return None
    if is_row_page(REQUEST_PATH.get(), database, table):
        return None
    article_id = row[article_column]
    article_id = article_id.get("value") if isinstance(article_id, dict) else article_id
    lineage_href = urls.article(article_id) if lineage else None
    return shortened(value, preview, whole_text_href(urls, table, row["id"]), lineage_href)


def whole_text_href(urls, table: str, row_id) -> str:
    if table in VIEWS:
        return f"{urls.table(table)}.json?id={quote(str(row_id), safe='')}&_shape=array"
    return urls.row(table, row_id)


def _has_columns(row, columns) -> bool:
    try:
        return all(column in row.keys() for column in columns)
    except AttributeError:
        return False


def is_row_page(path: str | None, database: str, table: str) -> bool:
    """``…/<database>/<table>/<primary key>`` (whatever prefix a proxy or base_url adds)."""
    if not path:
        return False
    parts = path.rstrip("/").split("/")
    return len(parts) >= 3 and parts[-3:-1] == [tilde_encode(database), tilde_encode(table)]


def shortened(value, preview: int, row_href: str, lineage_href: str | None) -> Markup | None:
    if not isinstance(value, str) or len(value) <= preview * SLACK:
        return None
    cut = " ".join(value[: preview + 40].split())[:preview]  # line breaks would make it tall
    space = cut.rfind(" ")
    if space > preview * 0.6:
        cut = cut[:space]
    links = [f'<a href="{escape(row_href)}">whole text, {len(value):,} characters</a>']
    if lineage_href:
        links.append(
            f'<a href="{escape(lineage_href)}" title="Where this text comes from and who copied it">'
            "lineage</a>"
        )
    return Markup(
        f'<span class="provenance-preview">{escape(cut.rstrip())}…</span> '
        f'<span class="provenance-more">({" · ".join(links)})</span>'
    )


# (table, column) -> a column only provenance tables have, so that same-named tables
# in other databases are left alone.
_ARTICLE_ID_CELLS = {
    ("articles", "id"): "content_hash",
    ("matches", "source_article_id"): "derived_segment_id",
    ("matches", "derived_article_id"): "derived_segment_id",
    ("lineage", "article_id"): "parent_segment_id",
    ("lineage", "parent_article_id"): "parent_segment_id",
    ("clusters", "origin_article_id"): "origin_article_id",
    ("segments", "article_id"): "match_pending",
    ("article_credits", "article_id"): "matched_text",
    ("boilerplate_spans", "article_id"): "matched_text",
}


def render(row, value, column, table, database, datasette, actor):
    """Article ids link to their lineage page; a match's label links to its compare page;
    long texts are shortened on table pages (row pages and JSON keep them whole). Links
    to the provenance pages only for visitors who may open them."""
    found = site.site(datasette).get(database)
    if found is None:  # not a provenance database, or one the settings leave out
        return None
    if (table, column) in LONG_TEXT_COLUMNS:
        urls = ProvenanceUrls(datasette, database)
        preview = found.settings.text_preview

        async def shortened():
            lineage = await may_open_pages(datasette, actor, database)
            return long_text(row, value, column, table, database, urls, preview, lineage)

        return shortened()
    if table == "matches" and column == "label" and looks_like(row, "derived_segment_id"):

        async def compare_link():
            if not await may_open_pages(datasette, actor, database):
                return None
            urls = ProvenanceUrls(datasette, database)
            href = urls.compare(raw(row["source_article_id"]), raw(row["derived_article_id"]))
            return Markup(
                f'<a href="{escape(href)}" title="Compare the two texts">{escape(value)}</a>'
            )

        return compare_link()
    marker = _ARTICLE_ID_CELLS.get((table, column))
    if marker is None or value is None or not looks_like(row, marker):
        return None
    article_id, label = raw(value), value.get("label") if isinstance(value, dict) else None
    if article_id is None:
        return None

    # An id elsewhere links to its article's row (the articles page itself needs no link).
    links_row = label is not None or (table, column) != ("articles", "id")

    async def id_links():
        urls = ProvenanceUrls(datasette, database)
        if links_row:
            shown = Markup(
                f'<a href="{escape(urls.row("articles", article_id))}">'
                f"{escape(label or article_id)}</a>"
            )
        else:
            shown = escape(article_id)
        if not await may_open_pages(datasette, actor, database):
            return shown if links_row else None
        lineage = escape(urls.article(article_id))
        return Markup(
            f'{shown} <a class="provenance-lineage-link" href="{lineage}" '
            f'title="Where this text comes from and who copied it">(lineage)</a>'
        )

    return id_links()


async def may_open_pages(datasette, actor, database: str) -> bool:
    """Whether the actor may open the provenance pages of ``database`` (asked once per
    request and visitor: a table page has many cells)."""
    cache = REQUEST_CACHE.get()
    key = (database, json.dumps(actor, sort_keys=True, default=str))
    if cache is not None and key in cache:
        return cache[key]
    visible, _ = await can_view_tables(datasette, actor, database, PAGE_TABLES)
    if cache is not None:
        cache[key] = visible
    return visible


def raw(value):
    """A cell's stored value: Datasette passes expanded foreign keys as {"value", "label"}."""
    return value.get("value") if isinstance(value, dict) else value


def looks_like(row, column: str) -> bool:
    try:
        return column in row.keys()
    except AttributeError:
        return False
